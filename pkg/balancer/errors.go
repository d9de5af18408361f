package balancer

import (
	"errors"
	"fmt"
)

// ErrUnknownBackend is wrapped by the error for a BACKEND that no registered factory accepts.
var ErrUnknownBackend = errors.New("unknown balancer backend")

// ErrUnknownBalancer is wrapped by the error for a balancer name that is not configured.
var ErrUnknownBalancer = errors.New("no such balancer")

// InputError is an invalid pool name or node given to a Balancer method. BadInput reports
// true, so the command line maps it to the bad-input exit code.
type InputError struct {
	What   string // "node", "pool"
	Value  string
	Reason string
}

func (e *InputError) Error() string {
	return fmt.Sprintf("invalid %s %q: %s", e.What, e.Value, e.Reason)
}

// BadInput reports that the error is about the caller's input.
func (e *InputError) BadInput() bool { return true }

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }
