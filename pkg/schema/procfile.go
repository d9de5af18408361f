package schema

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	yaml "go.yaml.in/yaml/v3"
)

// Procfile is an app's Procfile: the commands of its process types, in file order.
//
// Syntax (Heroku's, not YAML): one "name: command" per line, name made of letters, digits,
// "_" and "-" at the very start of the line; lines whose first non-blank character is "#" are
// comments; blank lines are skipped; CRLF line ends and a UTF-8 byte order mark are accepted.
// Any other line is an error, and so is a name given twice.
//
// Quoting: Heroku runs the command text as it is. The original parsed the Procfile as YAML,
// so `web: "python app.py"` ran `python app.py` there, while on Heroku the quotes reach the
// shell (and make it look for a program named "python app.py"). vr follows the original for
// this one case: a command that is exactly one YAML quoted scalar ('...' or "...", optionally
// followed by a # comment, as YAML allows) is unquoted with YAML's rules. Every other command,
// including `web: "./my server" --port $PORT`, is taken verbatim, as Heroku does, less the
// blanks at the end of the line. A Procfile entry whose name contains "-" parses, but cannot be run as a
// proc (ValidateProcName).
type Procfile struct {
	Entries []ProcfileEntry
}

// ProcfileEntry is one process type.
type ProcfileEntry struct {
	Name    string // e.g. web
	Command string // the command, unquoted as described on Procfile
	Line    int    // 1-based line in the file, 0 for entries not read from a file
}

var (
	procfileLine = regexp.MustCompile(`^([A-Za-z0-9_-]+):[ \t]*(.*)$`)
	procfileName = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
)

// LoadProcfile reads and parses a Procfile.
func LoadProcfile(path string) (Procfile, error) {
	data, err := readFile(path)
	if err != nil {
		return Procfile{}, err
	}
	return ParseProcfile(path, data)
}

// ParseProcfile parses a Procfile; name is the file name used in errors.
func ParseProcfile(name string, data []byte) (Procfile, error) {
	var pf Procfile
	if !utf8.Valid(data) {
		return pf, &Error{File: name, Msg: "not valid UTF-8"}
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	seen := make(map[string]int)
	for i, line := range strings.Split(string(data), "\n") {
		lineNo := i + 1
		line = strings.TrimRight(line, " \t\r")
		trimmed := strings.TrimLeft(line, " \t")
		if trimmed == "" || trimmed[0] == '#' {
			continue
		}
		m := procfileLine.FindStringSubmatch(line)
		if m == nil {
			msg := fmt.Sprintf("malformed line %q; expected \"name: command\" with the name (letters, digits, _ and -) at the start of the line", clip(line))
			return Procfile{}, &Error{File: name, Line: lineNo, Msg: msg}
		}
		entry := ProcfileEntry{Name: m[1], Command: unquoteCommand(m[2]), Line: lineNo}
		if err := checkCommand(entry.Command); err != nil {
			return Procfile{}, &Error{File: name, Line: lineNo, Key: entry.Name, Msg: err.Error()}
		}
		if first, dup := seen[entry.Name]; dup {
			return Procfile{}, &Error{File: name, Line: lineNo, Key: entry.Name, Msg: fmt.Sprintf("process type given twice (first on line %d)", first)}
		}
		seen[entry.Name] = lineNo
		pf.Entries = append(pf.Entries, entry)
	}
	return pf, nil
}

// checkCommand rejects empty commands and control characters other than tab.
func checkCommand(c string) error {
	if strings.TrimSpace(c) == "" {
		return fmt.Errorf("empty command")
	}
	for _, r := range c {
		if r < 0x20 && r != '\t' || r == 0x7f {
			return fmt.Errorf("command contains a control character")
		}
	}
	return nil
}

// unquoteCommand unquotes a command that is exactly one YAML quoted scalar, optionally
// followed by blanks and a # comment (see Procfile); any other command is returned as it is.
func unquoteCommand(c string) (out string) {
	if c == "" || (c[0] != '"' && c[0] != '\'') {
		return c
	}
	end := closingQuote(c)
	if end < 0 {
		return c
	}
	rest := c[end+1:]
	if tr := strings.TrimLeft(rest, " \t"); tr != "" && tr[0] != '#' {
		return c
	}
	if c[0] == '\'' {
		return strings.ReplaceAll(c[1:end], "''", "'")
	}
	defer func() {
		if recover() != nil {
			out = c
		}
	}()
	var s string
	if err := yaml.Unmarshal([]byte(c[:end+1]), &s); err != nil {
		return c
	}
	return s
}

// closingQuote returns the index of the quote that closes the YAML quoted scalar c starts
// with, or -1.
func closingQuote(c string) int {
	q := c[0]
	for i := 1; i < len(c); i++ {
		switch {
		case q == '"' && c[i] == '\\':
			i++
		case c[i] == q && q == '\'' && i+1 < len(c) && c[i+1] == '\'':
			i++
		case c[i] == q:
			return i
		}
	}
	return -1
}

// Command returns the command of the process type name.
func (pf Procfile) Command(name string) (string, bool) {
	for _, e := range pf.Entries {
		if e.Name == name {
			return e.Command, true
		}
	}
	return "", false
}

// Names returns the process type names in file order.
func (pf Procfile) Names() []string {
	out := make([]string, len(pf.Entries))
	for i, e := range pf.Entries {
		out[i] = e.Name
	}
	return out
}

// Marshal writes the Procfile back, one "name: command" line per entry. A command that the
// parser would change (one that looks like a single quoted YAML scalar) is written
// double-quoted so that it reads back unchanged. Names and commands must be valid.
func (pf Procfile) Marshal() ([]byte, error) {
	var b bytes.Buffer
	seen := make(map[string]bool)
	for _, e := range pf.Entries {
		if !procfileName.MatchString(e.Name) {
			return nil, &Error{Key: e.Name, Msg: "invalid process type name; expected letters, digits, _ and -"}
		}
		if seen[e.Name] {
			return nil, &Error{Key: e.Name, Msg: "process type given twice"}
		}
		seen[e.Name] = true
		if err := checkCommand(e.Command); err != nil {
			return nil, &Error{Key: e.Name, Msg: err.Error()}
		}
		if !utf8.ValidString(e.Command) {
			return nil, &Error{Key: e.Name, Msg: "command is not valid UTF-8"}
		}
		cmd := e.Command
		if strings.TrimLeft(cmd, " \t") != cmd || strings.TrimRight(cmd, " \t") != cmd || unquoteCommand(cmd) != cmd {
			q, err := yaml.Marshal(&yaml.Node{Kind: yaml.ScalarNode, Tag: tagStr, Value: cmd, Style: yaml.DoubleQuotedStyle})
			if err != nil {
				return nil, &Error{Key: e.Name, Msg: "cannot quote command", Err: err}
			}
			cmd = strings.TrimSuffix(string(q), "\n")
		}
		fmt.Fprintf(&b, "%s: %s\n", e.Name, cmd)
	}
	return b.Bytes(), nil
}
