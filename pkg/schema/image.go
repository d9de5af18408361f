package schema

// ImageSpec is vimage's input (image.yaml): a base image tarball, a provisioning script to run
// in it, and the name of the image to produce.
//
// Unknown keys are errors (the original ignored them), so a typo is caught rather than
// silently building something else.
type ImageSpec struct {
	BaseImageURL  string // base_image_url (required): URL or path of the base tarball (.gz, .bz2, .xz)
	BaseImageName string // base_image_name (required): cache directory name under /apps/images
	NewImageName  string // new_image_name (required): output is <new_image_name>.tar.gz and .log
	ScriptURL     string // script_url (required): URL or local path of the provisioning script
	BaseImageMD5  string // base_image_md5: expected MD5 of the base tarball (32 hex)
	// NewImageMD5 (new_image_md5) is accepted and written back but unused, as in the original.
	NewImageMD5 string
	// Env (env) is the provisioning script's environment, on top of PATH and HOME=/root.
	// (The original computed it and never passed it on; vr passes it.)
	Env map[string]string
}

var imageSpecKeys = keySpec{known: sortedList(
	"base_image_md5", "base_image_name", "base_image_url", "env", "new_image_md5",
	"new_image_name", "script_url",
)}

// LoadImageSpec reads and validates an image spec file.
func LoadImageSpec(path string) (*ImageSpec, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, err
	}
	return ParseImageSpec(path, data)
}

// ParseImageSpec parses and validates an image spec; name is the file name used in errors.
func ParseImageSpec(name string, data []byte) (*ImageSpec, error) {
	d, err := parseDocument(name, data)
	if err != nil {
		return nil, err
	}
	ents, _, err := d.entries(imageSpecKeys)
	if err != nil {
		return nil, err
	}
	s := &ImageSpec{}
	for _, e := range ordered(ents) {
		switch e.key {
		case "base_image_md5":
			s.BaseImageMD5, err = d.str(e)
		case "base_image_name":
			s.BaseImageName, err = d.str(e)
		case "base_image_url":
			s.BaseImageURL, err = d.str(e)
		case "env":
			s.Env, err = d.stringMap(e)
		case "new_image_md5":
			s.NewImageMD5, err = d.str(e)
		case "new_image_name":
			s.NewImageName, err = d.str(e)
		case "script_url":
			s.ScriptURL, err = d.str(e)
		}
		if err != nil {
			return nil, err
		}
	}
	if err := s.Validate(); err != nil {
		return nil, d.place(err, ents)
	}
	return s, nil
}

// Validate checks the required keys, that the image names are file names, the digests and
// the environment names.
func (s *ImageSpec) Validate() error {
	for _, r := range []struct{ key, v string }{
		{"base_image_url", s.BaseImageURL}, {"base_image_name", s.BaseImageName},
		{"new_image_name", s.NewImageName}, {"script_url", s.ScriptURL},
	} {
		if r.v == "" {
			return errorf(r.key, "required key is missing or empty")
		}
	}
	if err := checkURL("base_image_url", s.BaseImageURL); err != nil {
		return err
	}
	if err := checkFileName("base_image_name", s.BaseImageName); err != nil {
		return err
	}
	if err := checkFileName("new_image_name", s.NewImageName); err != nil {
		return err
	}
	if err := checkURL("script_url", s.ScriptURL); err != nil {
		return err
	}
	if s.BaseImageMD5 != "" {
		if err := checkMD5("base_image_md5", s.BaseImageMD5); err != nil {
			return err
		}
	}
	if s.NewImageMD5 != "" {
		if err := checkMD5("new_image_md5", s.NewImageMD5); err != nil {
			return err
		}
	}
	return checkEnv("env", s.Env)
}

// Marshal writes all seven keys, sorted, unset strings as null and env as {} when empty.
// It does not validate; WriteFile does.
func (s *ImageSpec) Marshal() ([]byte, error) {
	return encodeNode(mappingNode([]field{
		{"base_image_md5", optStrNode(s.BaseImageMD5)},
		{"base_image_name", optStrNode(s.BaseImageName)},
		{"base_image_url", optStrNode(s.BaseImageURL)},
		{"env", stringMapNode(s.Env)},
		{"new_image_md5", optStrNode(s.NewImageMD5)},
		{"new_image_name", optStrNode(s.NewImageName)},
		{"script_url", optStrNode(s.ScriptURL)},
	}))
}

// WriteFile validates the spec and writes it to path atomically (mode 0644).
func (s *ImageSpec) WriteFile(path string) error {
	if err := s.Validate(); err != nil {
		return at(err, path, 0)
	}
	data, err := s.Marshal()
	if err != nil {
		return at(err, path, 0)
	}
	return WriteFileAtomic(path, data, 0o644)
}
