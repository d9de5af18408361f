package schema

import "strings"

// ImageResult is vimage's record of a built image (<new_image_name>.yaml, written beside
// <new_image_name>.tar.gz): the image spec it was built from, with the checksums of what went
// in and came out, so that runners and vrcli can verify the image and tell which base and
// script made it. The original wrote no such file.
//
// Keys: the seven of image.yaml (new_image_md5, unused by the original, holds the output's
// MD5 here) plus base_image_sha256, new_image_sha256 and script_sha256. Every checksum is
// required; unknown keys are errors.
type ImageResult struct {
	ImageSpec
	BaseImageSHA256 string // base_image_sha256: SHA-256 of the base tarball used
	NewImageSHA256  string // new_image_sha256: SHA-256 of <new_image_name>.tar.gz
	ScriptSHA256    string // script_sha256: SHA-256 of the provisioning script run
}

var imageResultKeys = keySpec{known: sortedList(append(append([]string(nil), imageSpecKeys.known...),
	"base_image_sha256", "new_image_sha256", "script_sha256")...)}

// LoadImageResult reads and validates an image record.
func LoadImageResult(path string) (*ImageResult, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, err
	}
	return ParseImageResult(path, data)
}

// ParseImageResult parses and validates an image record; name is the file name used in
// errors.
func ParseImageResult(name string, data []byte) (*ImageResult, error) {
	d, err := parseDocument(name, data)
	if err != nil {
		return nil, err
	}
	ents, _, err := d.entries(imageResultKeys)
	if err != nil {
		return nil, err
	}
	r := &ImageResult{}
	for _, e := range ordered(ents) {
		switch e.key {
		case "base_image_md5":
			r.BaseImageMD5, err = d.str(e)
		case "base_image_name":
			r.BaseImageName, err = d.str(e)
		case "base_image_sha256":
			r.BaseImageSHA256, err = d.str(e)
		case "base_image_url":
			r.BaseImageURL, err = d.str(e)
		case "env":
			r.Env, err = d.stringMap(e)
		case "new_image_md5":
			r.NewImageMD5, err = d.str(e)
		case "new_image_name":
			r.NewImageName, err = d.str(e)
		case "new_image_sha256":
			r.NewImageSHA256, err = d.str(e)
		case "script_sha256":
			r.ScriptSHA256, err = d.str(e)
		case "script_url":
			r.ScriptURL, err = d.str(e)
		}
		if err != nil {
			return nil, err
		}
	}
	if err := r.Validate(); err != nil {
		return nil, d.place(err, ents)
	}
	return r, nil
}

// Validate checks the spec part as ImageSpec.Validate does, and that every checksum is
// present and well formed.
func (r *ImageResult) Validate() error {
	if err := r.ImageSpec.Validate(); err != nil {
		return err
	}
	for _, c := range []struct{ key, v string }{{"base_image_md5", r.BaseImageMD5}, {"new_image_md5", r.NewImageMD5}} {
		if c.v == "" {
			return errorf(c.key, "required key is missing or empty")
		}
	}
	for _, c := range []struct{ key, v string }{
		{"base_image_sha256", r.BaseImageSHA256}, {"new_image_sha256", r.NewImageSHA256}, {"script_sha256", r.ScriptSHA256},
	} {
		if c.v == "" {
			return errorf(c.key, "required key is missing or empty")
		}
		if len(c.v) != 64 || strings.Trim(strings.ToLower(c.v), "0123456789abcdef") != "" {
			return errorf(c.key, "%q is not a SHA-256 digest; expected 64 hex digits", clip(c.v))
		}
	}
	return nil
}

// Marshal writes all ten keys, sorted, as ImageSpec.Marshal does. It does not validate;
// WriteFile does.
func (r *ImageResult) Marshal() ([]byte, error) {
	return encodeNode(mappingNode([]field{
		{"base_image_md5", optStrNode(r.BaseImageMD5)},
		{"base_image_name", optStrNode(r.BaseImageName)},
		{"base_image_sha256", optStrNode(r.BaseImageSHA256)},
		{"base_image_url", optStrNode(r.BaseImageURL)},
		{"env", stringMapNode(r.Env)},
		{"new_image_md5", optStrNode(r.NewImageMD5)},
		{"new_image_name", optStrNode(r.NewImageName)},
		{"new_image_sha256", optStrNode(r.NewImageSHA256)},
		{"script_sha256", optStrNode(r.ScriptSHA256)},
		{"script_url", optStrNode(r.ScriptURL)},
	}))
}

// WriteFile validates the record and writes it to path atomically: mode 0644, or 0600 when it
// holds env values (they are often secrets).
func (r *ImageResult) WriteFile(path string) error {
	if err := r.Validate(); err != nil {
		return at(err, path, 0)
	}
	data, err := r.Marshal()
	if err != nil {
		return at(err, path, 0)
	}
	return WriteFileAtomic(path, data, envFileMode(r.Env))
}
