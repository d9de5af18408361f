// Package flock takes advisory whole-file locks (flock(2)) on paths, so that vr processes on
// one host serialise work on a shared file or directory: a download cache entry, an unpacked
// image, a build cache, a proc.yaml. The lock belongs to the open file, so it is released when
// the holder exits, even when it is killed.
package flock

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// ErrLocked is returned by TryLock when another open file holds the lock.
var ErrLocked = errors.New("locked by another process")

// poll is how often Lock retries a held lock. flock(2) cannot wait on a context, so Lock polls
// with LOCK_NB instead of blocking a thread in the kernel.
const poll = 20 * time.Millisecond

// Lock is a held lock; Unlock releases it.
type Lock struct{ f *os.File }

// Unlock releases the lock and closes the file. It is safe to call on a nil Lock and twice.
func (l *Lock) Unlock() {
	if l == nil || l.f == nil {
		return
	}
	_ = unix.Flock(int(l.f.Fd()), unix.LOCK_UN)
	_ = l.f.Close()
	l.f = nil
}

// File returns the open locked file (for callers that lock the file they read, as the runners
// lock proc.yaml).
func (l *Lock) File() *os.File { return l.f }

// Acquire takes an exclusive lock on path (created if missing, with mode 0644), waiting until
// it is free or ctx is done.
func Acquire(ctx context.Context, path string) (*Lock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return &Lock{f: f}, nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) && !errors.Is(err, unix.EINTR) {
			_ = f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			_ = f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, ctx.Err())
		case <-time.After(poll):
		}
	}
}

// TryLock takes an exclusive lock on the existing file at path without waiting; when another
// process holds it the error wraps ErrLocked and reads "<path> is locked by another process".
func TryLock(path string) (*Lock, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("%s is %w", path, ErrLocked)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return &Lock{f: f}, nil
}
