package schema

import (
	"sort"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// BuildJob is vbuild's input (app.yaml; the original server's build_job.yaml) and, with its
// outputs filled in, vbuild's result (build_result.yaml), which can be fed back to vbuild as a
// job to build the same thing again.
//
// Keys: the original's twelve (app_name, app_repo_type, app_repo_url, build_md5,
// buildpack_url, buildpack_urls, buildpack_version, image_md5, image_name, image_url,
// release_data, version) plus vr's env and app_revision.
//
// Unknown keys are errors, so a typo such as "buildpack_ulrs" is caught. The original ignored
// unknown keys (and did not echo them to build_result.yaml); every key it wrote is known here,
// so its build_result.yaml files parse.
type BuildJob struct {
	AppName     string // app_name (required): no "-", spaces or "/" (ValidateAppName)
	AppRepoURL  string // app_repo_url (required): URL or path of the app's repository
	AppRepoType string // app_repo_type (required): "git" or "hg"
	// Version (required) is the tag, branch or revision to build. It must be a YAML string:
	// version: 9.0 is a float and is refused with a hint to quote it. It becomes part of proc
	// names, so ValidateVersion applies ("-" and "/" are refused).
	Version string

	// BuildpackURL (buildpack_url) is the one buildpack to use (its detect is not run); it
	// takes precedence over BuildpackURLs. A URL fragment pins a revision: ...git#<rev>.
	BuildpackURL string
	// BuildpackURLs (buildpack_urls) are tried in order with detect. In the file it may be a
	// list or a single string. One of BuildpackURL and BuildpackURLs is required.
	BuildpackURLs []string

	ImageURL  string // image_url: OS image tarball to build in; requires ImageName
	ImageName string // image_name: directory name of the image under /apps/images
	ImageMD5  string // image_md5: expected MD5 of the image tarball (32 hex)

	// Outputs, written by vbuild to build_result.yaml. On input they are read and checked
	// but ignored by the build (the original overwrote them too).
	BuildMD5         string         // build_md5: MD5 of build.tar.gz
	BuildpackVersion string         // buildpack_version: revision of the buildpack used
	ReleaseData      map[string]any // release_data: the buildpack's bin/release output (nil: null)

	// Env (env, new in vr) is the build's environment, given to buildpacks through ENV_DIR.
	Env map[string]string
	// AppRevision (app_revision, new in vr) is the app revision actually built (git SHA-1 or
	// hg node), which the original did not record. An output, like BuildMD5.
	AppRevision string
}

var buildJobKeys = keySpec{known: sortedList(
	"app_name", "app_repo_type", "app_repo_url", "app_revision", "build_md5", "buildpack_url",
	"buildpack_urls", "buildpack_version", "env", "image_md5", "image_name", "image_url",
	"release_data", "version",
)}

func sortedList(s ...string) []string {
	sort.Strings(s)
	return s
}

// LoadBuildJob reads and validates a build job or build result file.
func LoadBuildJob(path string) (*BuildJob, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, err
	}
	return ParseBuildJob(path, data)
}

// ParseBuildJob parses and validates a build job; name is the file name used in errors.
func ParseBuildJob(name string, data []byte) (*BuildJob, error) {
	d, err := parseDocument(name, data)
	if err != nil {
		return nil, err
	}
	ents, _, err := d.entries(buildJobKeys)
	if err != nil {
		return nil, err
	}
	j := &BuildJob{}
	for _, e := range ordered(ents) {
		switch e.key {
		case "app_name":
			j.AppName, err = d.str(e)
		case "app_repo_type":
			j.AppRepoType, err = d.str(e)
		case "app_repo_url":
			j.AppRepoURL, err = d.str(e)
		case "app_revision":
			j.AppRevision, err = d.str(e)
		case "build_md5":
			j.BuildMD5, err = d.str(e)
		case "buildpack_url":
			j.BuildpackURL, err = d.str(e)
		case "buildpack_urls":
			j.BuildpackURLs, err = d.strOrList(e)
		case "buildpack_version":
			j.BuildpackVersion, err = d.str(e)
		case "env":
			j.Env, err = d.stringMap(e)
		case "image_md5":
			j.ImageMD5, err = d.str(e)
		case "image_name":
			j.ImageName, err = d.str(e)
		case "image_url":
			j.ImageURL, err = d.str(e)
		case "release_data":
			j.ReleaseData, err = d.anyMap(e)
		case "version":
			j.Version, err = d.str(e)
		}
		if err != nil {
			return nil, err
		}
	}
	if err := j.Validate(); err != nil {
		return nil, d.place(err, ents)
	}
	return j, nil
}

// strOrList reads a list of strings, or a single string as a list of one (the original
// wrapped buildpack_urls with always_iterable). Null reads as nil.
func (d *document) strOrList(e entry) ([]string, error) {
	n := e.v
	if isNull(n) {
		return nil, nil
	}
	if n.Kind == yaml.ScalarNode {
		s, err := d.str(e)
		if err != nil {
			return nil, err
		}
		return []string{s}, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, d.errAt(e, "got %s; expected a list of strings", describe(n))
	}
	var out []string
	for _, c := range n.Content {
		s, err := d.strNode(e, c)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// Validate checks the job: required keys, app name and version rules, repo type, at least one
// buildpack, image name with image URL, digests and environment names.
func (j *BuildJob) Validate() error {
	for _, r := range []struct{ key, v string }{
		{"app_name", j.AppName}, {"app_repo_url", j.AppRepoURL},
		{"app_repo_type", j.AppRepoType}, {"version", j.Version},
	} {
		if r.v == "" {
			return errorf(r.key, "required key is missing or empty")
		}
	}
	if err := ValidateAppName(j.AppName); err != nil {
		return err
	}
	if err := checkURL("app_repo_url", j.AppRepoURL); err != nil {
		return err
	}
	if err := checkRepoType("app_repo_type", j.AppRepoType); err != nil {
		return err
	}
	if err := ValidateVersion(j.Version); err != nil {
		return err
	}
	if j.BuildpackURL == "" && len(j.BuildpackURLs) == 0 {
		return errorf("buildpack_urls", "must provide either buildpack_url or buildpack_urls")
	}
	if j.BuildpackURL != "" {
		if err := checkURL("buildpack_url", j.BuildpackURL); err != nil {
			return err
		}
	}
	for _, u := range j.BuildpackURLs {
		if u == "" {
			return errorf("buildpack_urls", "empty buildpack URL in the list")
		}
		if err := checkURL("buildpack_urls", u); err != nil {
			return err
		}
	}
	if err := checkImage(j.ImageURL, j.ImageName, j.ImageMD5); err != nil {
		return err
	}
	if j.BuildMD5 != "" {
		if err := checkMD5("build_md5", j.BuildMD5); err != nil {
			return err
		}
	}
	if err := checkText("buildpack_version", j.BuildpackVersion); err != nil {
		return err
	}
	if j.AppRevision != "" && (len(j.AppRevision) < 7 || len(j.AppRevision) > 64 ||
		strings.Trim(j.AppRevision, "0123456789abcdef") != "") {
		return errorf("app_revision", "%q is not a revision; expected 7 to 64 lower-case hex digits", clip(j.AppRevision))
	}
	return checkEnv("env", j.Env)
}

// checkRepoType checks a repository type: git or hg.
func checkRepoType(key, t string) error {
	if t != "git" && t != "hg" {
		return errorf(key, "got %q; expected git or hg", clip(t))
	}
	return nil
}

// checkImage checks the image keys shared by build jobs and proc.yaml.
func checkImage(url, name, md5 string) error {
	if url != "" {
		if err := checkURL("image_url", url); err != nil {
			return err
		}
		if name == "" {
			return errorf("image_name", "required with image_url (the image is kept under /apps/images/<image_name>)")
		}
	}
	if name != "" {
		if err := checkFileName("image_name", name); err != nil {
			return err
		}
	}
	if md5 != "" {
		return checkMD5("image_md5", md5)
	}
	return nil
}

// Marshal writes the job as vbuild writes build_result.yaml: the original's twelve keys plus
// app_revision and env, sorted, block style, unset values as null (env as {}), the layout of
// PyYAML's safe_dump so the original's tools read it. It does not validate; WriteFile does.
func (j *BuildJob) Marshal() ([]byte, error) {
	urls := nullNode()
	if len(j.BuildpackURLs) > 0 {
		urls = strListNode(j.BuildpackURLs)
	}
	release := nullNode()
	if j.ReleaseData != nil {
		n, err := valueNode(j.ReleaseData)
		if err != nil {
			return nil, &Error{Key: "release_data", Msg: err.Error(), Err: err}
		}
		release = n
	}
	n := mappingNode([]field{
		{"app_name", optStrNode(j.AppName)},
		{"app_repo_type", optStrNode(j.AppRepoType)},
		{"app_repo_url", optStrNode(j.AppRepoURL)},
		{"app_revision", optStrNode(j.AppRevision)},
		{"build_md5", optStrNode(j.BuildMD5)},
		{"buildpack_url", optStrNode(j.BuildpackURL)},
		{"buildpack_urls", urls},
		{"buildpack_version", optStrNode(j.BuildpackVersion)},
		{"env", stringMapNode(j.Env)},
		{"image_md5", optStrNode(j.ImageMD5)},
		{"image_name", optStrNode(j.ImageName)},
		{"image_url", optStrNode(j.ImageURL)},
		{"release_data", release},
		{"version", optStrNode(j.Version)},
	})
	return encodeNode(n)
}

// WriteFile validates the job and writes it to path atomically: mode 0644, or 0600 when it
// holds env values (they are often secrets).
func (j *BuildJob) WriteFile(path string) error {
	if err := j.Validate(); err != nil {
		return at(err, path, 0)
	}
	data, err := j.Marshal()
	if err != nil {
		return at(err, path, 0)
	}
	return WriteFileAtomic(path, data, envFileMode(j.Env))
}
