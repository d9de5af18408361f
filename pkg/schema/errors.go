package schema

import (
	"fmt"
	"strconv"
	"strings"
)

// Error describes one problem in an input document: the file it was read from, the line
// (1-based, 0 when unknown), the top-level key concerned (empty when the problem is not tied
// to a key), and what was expected. Error() is a single line such as
//
//	app.yaml:4: key "version": got a float (9.0); quote it: version: "9.0"
//
// Every error returned by the parsers and validators of this package is an *Error, so
// callers can use errors.As to get at the fields, and pkg/cli maps it to the bad-input exit
// code through BadInput.
type Error struct {
	File string // file name as given to the parser ("" when parsing a value, e.g. a proc name)
	Line int    // 1-based line, 0 when unknown
	Key  string // key the problem is about, "" when none
	Msg  string // what is wrong and what is expected, lower-case
	Err  error  // underlying cause, if any (a read error, a YAML syntax error)
}

// Error returns "file:line: key "k": msg", leaving out the parts that are unknown.
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			b.WriteString(":")
			b.WriteString(strconv.Itoa(e.Line))
		}
		b.WriteString(": ")
	} else if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Key != "" {
		fmt.Fprintf(&b, "key %q: ", e.Key)
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// BadInput reports that the error is about the caller's input; pkg/cli maps such errors to
// the bad-input exit code (2).
func (e *Error) BadInput() bool { return true }

// errorf builds an *Error without a file (for value validators such as ValidateVersion);
// the document parsers fill File and Line in with at.
func errorf(key, format string, args ...any) *Error {
	return &Error{Key: key, Msg: fmt.Sprintf(format, args...)}
}

// at returns a copy of err (when it is an *Error without a position) placed in file at line.
func at(err error, file string, line int) error {
	e, ok := err.(*Error) //nolint:errorlint // only our own unwrapped errors are placed
	if !ok {
		return err
	}
	c := *e
	if c.File == "" {
		c.File = file
	}
	if c.Line == 0 {
		c.Line = line
	}
	return &c
}
