package supervisor

// This file writes [program:x] sections of supervisord's configuration, such as the
// proc.conf every proc folder holds. It is self-contained: nothing else of the package is
// needed to write a section.

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Program log defaults, the original's proc.conf values.
const (
	DefaultLogMaxBytes = 10000000
	DefaultLogBackups  = 1
)

// ProgramConfig is a [program:NAME] section of supervisord's configuration.
type ProgramConfig struct {
	Name        string            // program name; for a proc, the proc name
	Command     []string          // the command and its arguments (quoted as needed when written)
	Directory   string            // working directory of the command; "" leaves it out
	User        string            // user supervisord runs the command as; "" leaves it out
	Environment map[string]string // extra environment of the command
	AutoStart   bool              // start it when supervisord starts (or the group is added)
	AutoRestart bool              // restart it whenever it exits
	StartSecs   int               // seconds it must stay up to count as started; 0: supervisord's default (1)
	StopSignal  string            // signal that stops it ("TERM", "INT", ...); "": TERM
	// StopWaitSecs is how long supervisord waits after StopSignal before SIGKILL; 0:
	// supervisord's default (10).
	StopWaitSecs int
	// LogFile receives stdout and stderr (stderr is redirected into stdout); "" leaves the
	// logging to supervisord's defaults.
	LogFile     string
	LogMaxBytes int64 // rotate LogFile at this size; 0: DefaultLogMaxBytes
	LogBackups  int   // rotated copies kept; 0: DefaultLogBackups
	Syslog      bool  // also send the output to syslog (stdout_syslog, stderr_syslog)
}

// ProcProgram returns the program section of a proc run by a vr runner, as the original
// server wrote proc.conf: "<runner> run <procYAML>" started at once and restarted when it
// exits, as root (the runner switches to the proc's user inside the container), in
// <procDir>/rootfs/app, output to <procDir>/log (10 MB, 1 backup). stopGrace is the runner's
// own grace period between SIGTERM and SIGKILL of the proc (its --stop-timeout): supervisord
// waits 5 s longer before it kills the runner, so that the runner can always stop the proc
// and remove its container first.
func ProcProgram(name, runner, procYAML, procDir string, stopGrace time.Duration) ProgramConfig {
	return ProgramConfig{
		Name:         name,
		Command:      []string{runner, "run", procYAML},
		Directory:    filepath.Join(procDir, "rootfs", "app"),
		User:         "root",
		AutoStart:    true,
		AutoRestart:  true,
		StopSignal:   "TERM",
		StopWaitSecs: int((stopGrace+time.Second-1)/time.Second) + 5,
		LogFile:      filepath.Join(procDir, "log"),
	}
}

// Render returns the section's text. Values are escaped for supervisord's parser ("%" is
// written "%%"; command words and environment values are quoted as its shlex-based
// splitting reads them; an environment value holding both kinds of quotes cannot be written). Values supervisord's INI parser cannot hold (line breaks, or a blank
// followed by ";" or "#", which start a comment) are errors naming the field.
func (p ProgramConfig) Render() ([]byte, error) {
	if err := checkProgramName(p.Name); err != nil {
		return nil, err
	}
	if len(p.Command) == 0 || p.Command[0] == "" {
		return nil, fmt.Errorf("program %q: command: must name a program", p.Name)
	}
	var b bytes.Buffer
	var errs []error
	line := func(key, value string) {
		if err := checkINIValue(value); err != nil {
			errs = append(errs, fmt.Errorf("program %q: %s: %w", p.Name, key, err))
		}
		fmt.Fprintf(&b, "%s=%s\n", key, value)
	}
	fmt.Fprintf(&b, "[program:%s]\n", p.Name)
	words := make([]string, len(p.Command))
	for i, w := range p.Command {
		words[i] = percent(shlexQuote(w))
	}
	line("command", strings.Join(words, " "))
	if p.Directory != "" {
		line("directory", percent(p.Directory))
	}
	if p.User != "" {
		line("user", percent(p.User))
	}
	if len(p.Environment) > 0 {
		keys := make([]string, 0, len(p.Environment))
		for k := range p.Environment {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		pairs := make([]string, len(keys))
		for i, k := range keys {
			if !validEnvKey(k) {
				errs = append(errs, fmt.Errorf("program %q: environment: %q is not a variable name", p.Name, k))
			}
			q, err := envQuote(p.Environment[k])
			if err != nil {
				errs = append(errs, fmt.Errorf("program %q: environment: %s: %w", p.Name, k, err))
			}
			pairs[i] = k + "=" + percent(q)
		}
		line("environment", strings.Join(pairs, ","))
	}
	line("autostart", boolText(p.AutoStart))
	line("autorestart", boolText(p.AutoRestart))
	if p.StartSecs > 0 {
		line("startsecs", fmt.Sprint(p.StartSecs))
	}
	sig := p.StopSignal
	if sig == "" {
		sig = "TERM"
	}
	line("stopsignal", strings.TrimPrefix(strings.ToUpper(sig), "SIG"))
	if p.StopWaitSecs > 0 {
		line("stopwaitsecs", fmt.Sprint(p.StopWaitSecs))
	}
	if p.LogFile != "" {
		max, backups := p.LogMaxBytes, p.LogBackups
		if max == 0 {
			max = DefaultLogMaxBytes
		}
		if backups == 0 {
			backups = DefaultLogBackups
		}
		line("redirect_stderr", "true")
		line("stdout_logfile", percent(p.LogFile))
		line("stdout_logfile_maxbytes", fmt.Sprint(max))
		line("stdout_logfile_backups", fmt.Sprint(backups))
	}
	if p.Syslog {
		line("stdout_syslog", "true")
		line("stderr_syslog", "true")
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// WriteFile renders the section and writes it to path atomically (a temporary file in the
// same folder renamed over path), with mode 0644.
func (p ProgramConfig) WriteFile(path string) error {
	data, err := p.Render()
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(0o644)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// checkProgramName refuses names supervisord cannot take as a program (and group) name.
func checkProgramName(name string) error {
	if name == "" {
		return errors.New("program name must not be empty")
	}
	if strings.ContainsAny(name, ":[]%") || strings.IndexFunc(name, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0 {
		return fmt.Errorf("program name %q: no ':', '[', ']', '%%', blanks or control characters", name)
	}
	return nil
}

// checkINIValue refuses what supervisord's INI parser would cut or misread.
func checkINIValue(v string) error {
	if strings.ContainsAny(v, "\r\n\x00") {
		return errors.New("contains a line break or NUL")
	}
	for _, c := range []string{" ;", " #", "\t;", "\t#"} {
		if strings.Contains(v, c) {
			return fmt.Errorf("contains %q, which supervisord reads as the start of a comment", c)
		}
	}
	return nil
}

// shlexQuote quotes a command word for supervisord, which splits the command with Python's
// shlex in POSIX mode: words made only of safe characters stay as they are, others go in
// single quotes (a single quote inside written as '"'"').
func shlexQuote(w string) string {
	if w != "" && strings.IndexFunc(w, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("@%+=:,./_-", r))
	}) < 0 {
		return w
	}
	return "'" + strings.ReplaceAll(w, "'", `'"'"'`) + "'"
}

// envQuote quotes an environment value for supervisord, which reads environment= with
// Python's shlex in non-POSIX mode: a quoted value runs to the next quote of its kind and
// nothing inside is escaped. So a value goes in double quotes, or in single quotes when it
// holds a double quote; one holding both cannot be written.
func envQuote(v string) (string, error) {
	switch {
	case !strings.Contains(v, `"`):
		return `"` + v + `"`, nil
	case !strings.Contains(v, "'"):
		return "'" + v + "'", nil
	default:
		return "", errors.New("a value holding both ' and \" cannot be written for supervisord")
	}
}

// percent escapes "%" for supervisord's %(name)s expansion.
func percent(s string) string { return strings.ReplaceAll(s, "%", "%%") }

func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func validEnvKey(k string) bool {
	if k == "" {
		return false
	}
	for i, r := range k {
		if !(r == '_' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}
