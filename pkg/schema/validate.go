package schema

import (
	"path"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Value checks shared by the document types. Each returns an *Error with Key set and no
// position; the parsers place it at the key's line.

// checkText rejects invalid UTF-8 and control characters (newlines included) in a one-line
// value, and surrounding whitespace.
func checkText(key, s string) error {
	if !utf8.ValidString(s) {
		return errorf(key, "%q is not valid UTF-8", clip(s))
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return errorf(key, "%q contains a control character (newline, tab, ...)", clip(s))
		}
	}
	if strings.TrimSpace(s) != s {
		return errorf(key, "%q has leading or trailing whitespace", clip(s))
	}
	return nil
}

// checkURL checks a URL or local path (repository, buildpack, image, script, build tarball).
// vr does not restrict schemes here: git, hg and the fetcher decide what they can reach.
func checkURL(key, s string) error {
	return checkText(key, s)
}

// checkMD5 checks a hex MD5 digest (32 hex digits, either case).
func checkMD5(key, s string) error {
	if len(s) != 32 || strings.Trim(strings.ToLower(s), "0123456789abcdef") != "" {
		return errorf(key, "%q is not an MD5 digest; expected 32 hex digits", clip(s))
	}
	return nil
}

// checkFileName checks a name used as one path component (image names): not empty, no "/",
// not "." or "..", no whitespace or control characters.
func checkFileName(key, s string) error {
	if s == "" {
		return errorf(key, "must not be empty")
	}
	if !utf8.ValidString(s) {
		return errorf(key, "%q is not valid UTF-8", clip(s))
	}
	if s == "." || s == ".." || strings.Contains(s, "/") {
		return errorf(key, "%q must be a file name: no \"/\", not \".\" or \"..\"", clip(s))
	}
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return errorf(key, "%q contains whitespace or a control character", clip(s))
		}
	}
	return nil
}

// checkWord checks a value that must be one word (user, group, host): no whitespace or
// control characters, valid UTF-8.
func checkWord(key, s string) error {
	if !utf8.ValidString(s) {
		return errorf(key, "%q is not valid UTF-8", clip(s))
	}
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return errorf(key, "%q contains whitespace or a control character", clip(s))
		}
	}
	return nil
}

// ValidateEnvName checks an environment variable name: a letter or "_" followed by letters,
// digits and "_" (what a shell can export). The original wrote `export NAME="VALUE"` lines
// without checking, so other names broke the proc's env.sh.
func ValidateEnvName(name string) error {
	if name == "" {
		return errorf("env", "empty variable name")
	}
	for i, r := range name {
		ok := r == '_' || (r >= 'A' && r <= 'Z') || (r >= 'a' && r <= 'z') || (i > 0 && r >= '0' && r <= '9')
		if !ok {
			return errorf("env", "variable name %q: expected a letter or \"_\" followed by letters, digits or \"_\"", clip(name))
		}
	}
	return nil
}

// checkEnv checks environment variables: valid names, values without NUL (which no
// environment can carry) and valid UTF-8.
func checkEnv(key string, env map[string]string) error {
	for _, name := range sortedKeys(env) {
		if err := ValidateEnvName(name); err != nil {
			e := err.(*Error) //nolint:errorlint // ValidateEnvName returns *Error
			e.Key = key
			return e
		}
		v := env[name]
		if strings.ContainsRune(v, 0) || !utf8.ValidString(v) {
			return errorf(key, "value of %s contains NUL or invalid UTF-8", name)
		}
	}
	return nil
}

// checkAbsPath checks an absolute path (app_folder; volumes add checkMountPath's rule):
// absolute, clean of "." and ".." elements, no control characters.
func checkAbsPath(key, what, p string) error {
	if !utf8.ValidString(p) {
		return errorf(key, "%s %q is not valid UTF-8", what, clip(p))
	}
	if !strings.HasPrefix(p, "/") {
		return errorf(key, "%s %q must be an absolute path", what, clip(p))
	}
	for _, r := range p {
		if unicode.IsControl(r) {
			return errorf(key, "%s %q contains a control character", what, clip(p))
		}
	}
	for _, el := range strings.Split(p, "/") {
		if el == "." || el == ".." {
			return errorf(key, "%s %q must not contain \".\" or \"..\" elements (clean: %s)", what, clip(p), path.Clean(p))
		}
	}
	return nil
}

// checkMountPath checks a volume path (host or container side): checkAbsPath, and no
// whitespace, which pkg/container refuses in mount paths (its checkHostPath: LXC's mount
// entries are whitespace-separated). Refusing it here makes a proc.yaml that validates also a
// valid container spec, and the error name the file, line and key.
func checkMountPath(key, what, p string) error {
	if err := checkAbsPath(key, what, p); err != nil {
		return err
	}
	for _, r := range p {
		if unicode.IsSpace(r) {
			return errorf(key, "%s %q contains whitespace, which container mount entries cannot hold", what, clip(p))
		}
	}
	return nil
}

// place sets the position of a validation error to the line of its key in d (no line when
// the key is absent) and returns it.
func (d *document) place(err error, ents map[string]entry) error {
	e, ok := err.(*Error) //nolint:errorlint // validators return *Error
	if !ok {
		return err
	}
	c := *e
	c.File = d.file
	if en, ok := ents[c.Key]; ok {
		c.Line = en.k.Line
		c.Key = en.as
	}
	return &c
}
