// Package local is the transport.Transport of the machine vr runs on: commands through
// os/exec, files through os, locks through pkg/flock.
//
// A Host may be rooted in a directory: every path it is given is then taken inside that
// directory and commands run there, so tests can stand up several "hosts" in temporary
// directories on one machine.
package local

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"

	"github.com/vr-paas/vr/pkg/flock"
	"github.com/vr-paas/vr/pkg/schema"
	"github.com/vr-paas/vr/pkg/transport"
)

// Host is the local machine, or a directory standing in for a host.
type Host struct {
	name string
	root string
}

// New returns the local machine, named "localhost" in messages.
func New() *Host { return &Host{name: "localhost"} }

// NewRooted returns a host named name whose paths all live under root (an absolute
// directory) and whose commands run with root as their working directory.
func NewRooted(name, root string) *Host { return &Host{name: name, root: root} }

// Dial is a transport.DialFunc that opens the local machine whatever the host name.
func Dial(_ context.Context, _ string) (transport.Transport, error) { return New(), nil }

// Host returns the host's name.
func (h *Host) Host() string { return h.name }

// Path maps a path of the host to the local file system.
func (h *Host) Path(p string) string {
	if h.root == "" {
		return p
	}
	return filepath.Join(h.root, p)
}

// Run runs c.Argv with os/exec; the context kills it (and its process group).
func (h *Host) Run(ctx context.Context, c transport.Cmd) (transport.Result, error) {
	if len(c.Argv) == 0 {
		return transport.Result{}, fmt.Errorf("%s: run: empty command", h.name)
	}
	cmd := exec.CommandContext(ctx, c.Argv[0], c.Argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.Stdin = c.Stdin
	cmd.Dir = h.root
	if c.Dir != "" {
		cmd.Dir = h.Path(c.Dir)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	res := transport.Result{Stdout: out.Bytes(), Stderr: errb.Bytes()}
	if err == nil {
		return res, nil
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		res.ExitCode = ee.ExitCode()
		if cerr := ctx.Err(); cerr != nil {
			return res, fmt.Errorf("%s: %s: %w", h.name, transport.ShellQuote(c.Argv), cerr)
		}
		return res, &transport.RunError{Host: h.name, Argv: c.Argv, ExitCode: res.ExitCode, Stderr: errb.String(), Stdout: out.String()}
	}
	return res, fmt.Errorf("%s: %s: %w", h.name, transport.ShellQuote(c.Argv), err)
}

// ReadFile reads path.
func (h *Host) ReadFile(_ context.Context, path string) ([]byte, error) {
	b, err := os.ReadFile(h.Path(path))
	if err != nil {
		return nil, fmt.Errorf("%s: read %s: %w", h.name, path, unwrapPath(err))
	}
	return b, nil
}

// WriteFile writes path atomically (temporary file in the same directory, fsync, rename).
func (h *Host) WriteFile(_ context.Context, path string, data []byte, perm fs.FileMode) error {
	if err := schema.WriteFileAtomic(h.Path(path), data, perm); err != nil {
		return fmt.Errorf("%s: %w", h.name, err)
	}
	return nil
}

// Remove deletes path; a missing file is not an error.
func (h *Host) Remove(_ context.Context, path string) error {
	if err := os.Remove(h.Path(path)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: remove %s: %w", h.name, path, unwrapPath(err))
	}
	return nil
}

// Lock takes an exclusive flock(2) on path.
func (h *Host) Lock(ctx context.Context, path string) (transport.Unlocker, error) {
	l, err := flock.Acquire(ctx, h.Path(path))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", h.name, err)
	}
	return unlocker{l}, nil
}

type unlocker struct{ l *flock.Lock }

func (u unlocker) Unlock() error { u.l.Unlock(); return nil }

// Close does nothing: the local host holds no connection.
func (h *Host) Close() error { return nil }

// unwrapPath keeps the cause of a *fs.PathError (the caller already names the path) while
// keeping errors.Is(err, fs.ErrNotExist) working.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

var _ transport.Transport = (*Host)(nil)
