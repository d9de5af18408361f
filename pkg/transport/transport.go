// Package transport gives uniform access to one host, local or over SSH: run a command, read
// a file, write a file atomically (temporary file + rename), and hold an exclusive lock on a
// path (flock(1)/flock(2) on that host).
//
// The implementations are transport/local (os/exec, os and pkg/flock, optionally rooted in a
// directory so that a temporary directory can stand in for a remote host in tests) and
// transport/ssh (golang.org/x/crypto/ssh + github.com/pkg/sftp, known_hosts checked). Callers
// that reach several hosts take a DialFunc and never open connections themselves.
package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
)

// Cmd is one command to run on a host.
type Cmd struct {
	// Argv is the program and its arguments; Argv[0] is looked up in the host's PATH.
	Argv []string
	// Stdin is fed to the command (nil: empty).
	Stdin io.Reader
	// Dir is the working directory ("" = the transport's default).
	Dir string
}

// Result is what a finished command printed.
type Result struct {
	Stdout   []byte
	Stderr   []byte
	ExitCode int
}

// RunError is returned by Run when the command ran and exited non-zero (or was killed). Its
// message names the host, the command, the exit status and the command's last words on stderr
// (or stdout when stderr is empty), so validator messages reach the user.
type RunError struct {
	Host     string
	Argv     []string
	ExitCode int // -1 when killed by a signal or when the status is unknown
	Stderr   string
	Stdout   string
}

func (e *RunError) Error() string {
	out := strings.TrimSpace(e.Stderr)
	if out == "" {
		out = strings.TrimSpace(e.Stdout)
	}
	msg := fmt.Sprintf("%s: %s: exit status %d", e.Host, ShellQuote(e.Argv), e.ExitCode)
	if out != "" {
		msg += ": " + out
	}
	return msg
}

// Output returns the command's stderr, or its stdout when stderr is empty, trimmed.
func (e *RunError) Output() string {
	if s := strings.TrimSpace(e.Stderr); s != "" {
		return s
	}
	return strings.TrimSpace(e.Stdout)
}

// Transport runs commands on, and moves files to and from, one host. Implementations are
// safe for concurrent use by several goroutines.
type Transport interface {
	// Host names the host in messages ("localhost", "lb1.example.com").
	Host() string
	// Run runs c and waits for it. A non-zero exit is a *RunError; the context's deadline
	// or cancellation kills the command.
	Run(ctx context.Context, c Cmd) (Result, error)
	// ReadFile returns the contents of path; a missing file is an error wrapping
	// fs.ErrNotExist.
	ReadFile(ctx context.Context, path string) ([]byte, error)
	// WriteFile replaces path with data so that readers see the old or the new contents,
	// never a mix: it writes a temporary file next to path and renames it over path.
	WriteFile(ctx context.Context, path string, data []byte, perm fs.FileMode) error
	// Remove deletes path; a missing file is not an error.
	Remove(ctx context.Context, path string) error
	// Lock takes an exclusive lock on path (created if missing), waiting until it is free or
	// ctx is done. The lock is released by the returned Unlocker, or when the process (or SSH
	// connection) holding it goes away.
	Lock(ctx context.Context, path string) (Unlocker, error)
	// Close releases the connection. Locks still held are released.
	Close() error
}

// Unlocker releases a lock taken with Transport.Lock. Unlock may be called more than once.
type Unlocker interface {
	Unlock() error
}

// DialFunc opens a Transport to a named host.
type DialFunc func(ctx context.Context, host string) (Transport, error)

// ErrHostKey is wrapped by the error of a connection refused because the host's key is not
// the one known_hosts has for it (or known_hosts has none).
var ErrHostKey = errors.New("host key verification failed")

// ShellQuote renders argv as a POSIX shell command line, quoting each word that needs it.
func ShellQuote(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		q[i] = quoteWord(a)
	}
	return strings.Join(q, " ")
}

func quoteWord(s string) string {
	if s == "" {
		return "''"
	}
	safe := true
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=@%+,", r)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
