package schema

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/vr-paas/vr/pkg/container"
)

// MaxProcNameLen is the longest proc name, in bytes: container.MaxNameLen, because the proc
// name is the name of the proc's container.
const MaxProcNameLen = container.MaxNameLen

// Unknown is the value ParseProcNameLenient gives fields it cannot recover, as the original's
// Proc.parse_name did.
const Unknown = "UNKNOWN"

// ProcName is the name of a proc: its container name, its Supervisor program name and its
// directory under /apps/procs, "<app>-<version>-<config>-<hash>-<proc>-<port>", for example
// "vr_python_example-v5-prod-f9ab779c-web-5123". Because the fields are joined with "-", no
// field may contain "-" (the original allowed it in versions, and then never found its own
// procs again). Because the name is also the container name, which pkg/container restricts to
// [A-Za-z0-9][A-Za-z0-9_.-]* and MaxProcNameLen bytes, every field is made of ASCII letters,
// digits, "_" and ".", the app name starts with a letter or digit, and the whole name is at
// most MaxProcNameLen bytes long: a name NewProcName accepts is a valid container name.
type ProcName struct {
	App     string // app name
	Version string // version (tag, branch or revision) of the build
	Config  string // config name, e.g. prod
	Hash    string // release hash (8 hex in names made by the swarm code)
	Proc    string // proc name, e.g. web (an entry of the Procfile)
	Port    int    // 0..65535; 0 for procs without a port (build containers)
}

// NewProcName validates the fields and returns the ProcName.
func NewProcName(app, version, config, hash, proc string, port int) (ProcName, error) {
	n := ProcName{App: app, Version: version, Config: config, Hash: hash, Proc: proc, Port: port}
	if err := n.Validate(); err != nil {
		return ProcName{}, err
	}
	return n, nil
}

// Validate checks every field: ValidateAppName, ValidateVersion, ValidateConfigName,
// ValidateReleaseHash, ValidateProcName, a port in 0..65535, and the length of the whole name
// (at most MaxProcNameLen bytes). The error names the field (for the length, the longest one).
func (n ProcName) Validate() error {
	checks := []struct {
		key   string
		check func(string) error
		v     string
	}{
		{"app_name", ValidateAppName, n.App},
		{"version", ValidateVersion, n.Version},
		{"config_name", ValidateConfigName, n.Config},
		{"release_hash", ValidateReleaseHash, n.Hash},
		{"proc_name", ValidateProcName, n.Proc},
	}
	for _, c := range checks {
		if err := c.check(c.v); err != nil {
			return err
		}
	}
	if n.Port < 0 || n.Port > 65535 {
		return errorf("port", "%d is out of range; expected 0..65535", n.Port)
	}
	return checkProcNameLen(n)
}

// checkProcNameLen refuses a name longer than MaxProcNameLen bytes, blaming its longest field
// (the first of equals), which is the one to shorten. Empty fields count as in String, so for a
// partly filled name (ProcConfig.Validate) the check applies to a lower bound of the length.
func checkProcNameLen(n ProcName) error {
	s := n.String()
	if len(s) <= MaxProcNameLen {
		return nil
	}
	key, what, longest := "", "", -1
	for _, f := range []struct{ key, what, v string }{
		{"app_name", "app name", n.App}, {"version", "version", n.Version}, {"config_name", "config name", n.Config},
		{"release_hash", "release hash", n.Hash}, {"proc_name", "proc name", n.Proc},
	} {
		if len(f.v) > longest {
			key, what, longest = f.key, f.what, len(f.v)
		}
	}
	return errorf(key, "the proc name %q (app-version-config-hash-proc-port) is %d bytes long; at most %d, since it is the container name; shorten the %s (%d bytes)",
		clip(s), len(s), MaxProcNameLen, what, longest)
}

// String joins the fields with "-". It does not validate them; use NewProcName or Validate
// to build a name that ParseProcName can read back.
func (n ProcName) String() string {
	return strings.Join([]string{n.App, n.Version, n.Config, n.Hash, n.Proc, strconv.Itoa(n.Port)}, "-")
}

// ShortName is the original's "shortname", "<app>-<version>-<proc>".
func (n ProcName) ShortName() string {
	return n.App + "-" + n.Version + "-" + n.Proc
}

// SwarmName returns the swarm's name for this proc, "<app>-<config>-<proc>".
func (n ProcName) SwarmName() string {
	return n.App + "-" + n.Config + "-" + n.Proc
}

// ParseProcName parses a name made by ProcName.String from valid fields. A name with other
// than six "-"-separated fields, an invalid field, or a port that is not a decimal number
// 0..65535 written without leading zeros is an error, so that String(ParseProcName(s)) == s
// whenever the parse succeeds.
func ParseProcName(s string) (ProcName, error) {
	parts := strings.Split(s, "-")
	if len(parts) != 6 {
		return ProcName{}, &Error{Msg: fmt.Sprintf("proc name %q has %d \"-\"-separated fields; expected 6: app-version-config-hash-proc-port", clip(s), len(parts))}
	}
	if !isDecimal(parts[5]) {
		return ProcName{}, &Error{Key: "port", Msg: fmt.Sprintf("proc name %q: port %q is not a decimal number without leading zeros", clip(s), clip(parts[5]))}
	}
	port, _ := strconv.Atoi(parts[5])
	n := ProcName{App: parts[0], Version: parts[1], Config: parts[2], Hash: parts[3], Proc: parts[4], Port: port}
	if err := n.Validate(); err != nil {
		e := *err.(*Error) //nolint:errorlint // Validate returns *Error
		e.Msg = fmt.Sprintf("proc name %q: %s", clip(s), e.Msg)
		return ProcName{}, &e
	}
	return n, nil
}

// ParseProcNameLenient is the original's Proc.parse_name, for listing processes that may not
// be vr's: a name of exactly six "-"-separated fields whose last is a decimal number gives those
// fields as they are (even empty ones, as in the original's build containers
// "app-v1-build--build-0"); any other name gives App and Proc set to the whole name, Version,
// Config and Hash set to Unknown, and Port 0. Unlike Python's int(), the port must be plain
// ASCII digits (no sign, spaces or underscores).
func ParseProcNameLenient(s string) ProcName {
	parts := strings.Split(s, "-")
	if len(parts) == 6 && parts[5] != "" && len(parts[5]) <= 18 && strings.Trim(parts[5], "0123456789") == "" {
		port, err := strconv.Atoi(parts[5])
		if err == nil {
			return ProcName{App: parts[0], Version: parts[1], Config: parts[2], Hash: parts[3], Proc: parts[4], Port: port}
		}
	}
	return ProcName{App: s, Version: Unknown, Config: Unknown, Hash: Unknown, Proc: s, Port: 0}
}

// SwarmName returns the name of a swarm, "<app>-<config>-<proc>" (for example
// "vr_python_example-prod-web"), after checking the fields as NewProcName does.
func SwarmName(app, config, proc string) (string, error) {
	if err := ValidateAppName(app); err != nil {
		return "", err
	}
	if err := ValidateConfigName(config); err != nil {
		return "", err
	}
	if err := ValidateProcName(proc); err != nil {
		return "", err
	}
	return app + "-" + config + "-" + proc, nil
}

// ParseSwarmName splits a swarm name made by SwarmName into its three fields.
func ParseSwarmName(s string) (app, config, proc string, err error) {
	parts := strings.Split(s, "-")
	if len(parts) != 3 {
		return "", "", "", &Error{Msg: fmt.Sprintf("swarm name %q has %d \"-\"-separated fields; expected 3: app-config-proc", clip(s), len(parts))}
	}
	if _, err := SwarmName(parts[0], parts[1], parts[2]); err != nil {
		return "", "", "", err
	}
	return parts[0], parts[1], parts[2], nil
}

// checkNameField applies the rules every proc name field shares: not empty, valid UTF-8, not
// "." or "..", and made only of ASCII letters, digits, "_" and ".", the characters
// pkg/container allows in a container name besides "-" (see ValidateName there; "-" is the
// separator of the fields). Characters that were refused before the container rule existed
// keep their specific messages: "-", "/" (names are directory names), ":" (Supervisor's group
// separator), whitespace and control characters.
func checkNameField(key, what, s string) error {
	if s == "" {
		return errorf(key, "%s must not be empty", what)
	}
	if !utf8.ValidString(s) {
		return errorf(key, "%s %q is not valid UTF-8", what, clip(s))
	}
	if s == "." || s == ".." {
		return errorf(key, "%s must not be %q", what, s)
	}
	for _, r := range s {
		switch {
		case isNameChar(r):
		case r == '-':
			return errorf(key, "%s %q contains \"-\", which separates the fields of proc names (app-version-config-hash-proc-port); use \"_\" or \".\" instead", what, clip(s))
		case r == '/':
			return errorf(key, "%s %q contains \"/\"; it is part of a directory name", what, clip(s))
		case r == ':':
			return errorf(key, "%s %q contains \":\", which Supervisor reads as a group separator", what, clip(s))
		case unicode.IsSpace(r) || unicode.IsControl(r):
			return errorf(key, "%s %q contains whitespace or a control character", what, clip(s))
		default:
			return errorf(key, "%s %q contains %q; the proc name is the container name, so use only ASCII letters, digits, \"_\" and \".\"", what, clip(s), r)
		}
	}
	return nil
}

// isNameChar reports whether r may appear in a proc name field: [A-Za-z0-9_.], the class of
// pkg/container's nameRE ([A-Za-z0-9][A-Za-z0-9_.-]*) less the field separator "-".
func isNameChar(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '.'
}

// ValidateAppName checks an app name: the rules of every name field (see ProcName), a letter
// or digit first (it begins the container name), and at most 50 characters, as the original
// server's App.name. The original documented "filesystem-safe, no dashes or spaces"; its
// server rejected "-", " " and "/".
func ValidateAppName(s string) error {
	if err := checkNameField("app_name", "app name", s); err != nil {
		return err
	}
	if c := s[0]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
		return errorf("app_name", "app name %q starts with %q; it begins the container name, which must start with a letter or digit", clip(s), c)
	}
	if n := utf8.RuneCountInString(s); n > 50 {
		return errorf("app_name", "app name is %d characters long; at most 50", n)
	}
	return nil
}

// tagForbidden are the characters the original server's swarm form refused in a tag.
const tagForbidden = "/\x00:\r\n ~^?*[\\"

// ValidateVersion checks a version (tag, branch or revision): the original server's tag rules
// (no "/", NUL, ":", CR, LF, space, "~", "^", "?", "*", "[" or "\"), and the rules of every
// name field, "-" included: the original allowed "-" in tags, which made proc names
// unparseable. Tags such as "v1+build" or "café" are refused as well: the version is part of
// the container name, which allows only ASCII letters, digits, "_", "." (and "-").
func ValidateVersion(s string) error {
	if i := strings.IndexAny(s, tagForbidden); i >= 0 {
		return errorf("version", "invalid tag name %q: %q is not allowed (nor any of / : ~ ^ ? * [ \\, spaces, CR, LF, NUL)", clip(s), s[i:i+1])
	}
	return checkNameField("version", "version", s)
}

// ValidateConfigName checks a config name (e.g. prod): the rules of every name field. The
// original server's form allowed only [a-zA-Z0-9_].
func ValidateConfigName(s string) error {
	return checkNameField("config_name", "config name", s)
}

// ValidateProcName checks a proc name (a Procfile entry such as web): the rules of every name
// field. Procfile entries may contain "-" (Heroku allows it), but such an entry cannot be run
// as a proc.
func ValidateProcName(s string) error {
	return checkNameField("proc_name", "proc name", s)
}

// ValidateReleaseHash checks a release hash field: the rules of every name field (hashes made
// by ReleaseHash are 8 lower-case hex digits).
func ValidateReleaseHash(s string) error {
	return checkNameField("release_hash", "release hash", s)
}
