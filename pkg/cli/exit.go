package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Exit codes shared by every vr binary.
const (
	ExitOK             = 0
	ExitFailure        = 1
	ExitBadInput       = 2
	ExitNotImplemented = 3
	ExitInterrupted    = 130
)

// ExitError carries an explicit exit code with its error. A nil Err with a non-zero Code
// exits with that code and prints nothing (the command already told the user).
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// ErrNotImplemented is returned by commands that a later version fills in.
var ErrNotImplemented = errors.New("not implemented yet")

// ErrInterrupted is returned when a command stops because of SIGINT or SIGTERM.
var ErrInterrupted = errors.New("interrupted")

// UsageError marks a mistake in the command line (unknown flag, wrong number of arguments).
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// BadInput reports that the error is the caller's input, not a failure of the job.
func (e *UsageError) BadInput() bool { return true }

// Usagef returns a UsageError with a formatted message.
func Usagef(format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...)}
}

// badInput is implemented by errors of pkg/ packages that describe invalid input files
// (schema.Error, for instance), so that they map to ExitBadInput without pkg/ importing cli.
type badInput interface{ BadInput() bool }

// Code maps an error to the exit code documented in the package comment.
func Code(err error) int {
	if err == nil {
		return ExitOK
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	if errors.Is(err, ErrInterrupted) || errors.Is(err, context.Canceled) {
		return ExitInterrupted
	}
	if errors.Is(err, ErrNotImplemented) {
		return ExitNotImplemented
	}
	var bi badInput
	if errors.As(err, &bi) && bi.BadInput() {
		return ExitBadInput
	}
	return ExitFailure
}

// Report prints err as one line "<prog>: <message>" on w (nothing for a silent ExitError) and
// returns its exit code.
func Report(w io.Writer, prog string, err error) int {
	code := Code(err)
	if err == nil {
		return code
	}
	var ee *ExitError
	if errors.As(err, &ee) && ee.Err == nil {
		return code
	}
	msg := strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", " ")), " ")
	if code == ExitInterrupted && !strings.Contains(msg, "interrupt") {
		msg = "interrupted: " + msg
	}
	fmt.Fprintf(w, "%s: %s\n", prog, msg)
	return code
}
