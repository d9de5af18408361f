package fetch

import (
	"context"
	"errors"

	"golang.org/x/sys/unix"

	"github.com/vr-paas/vr/pkg/flock"
)

// lockFile takes an exclusive flock on path (created if missing) and returns the function
// that releases it. It waits until the lock is free or ctx is done. Where the lock file cannot
// be created (a read-only cache), it goes on without a lock: nothing can be written there anyway.
func lockFile(ctx context.Context, path string) (func(), error) {
	l, err := flock.Acquire(ctx, path)
	if errors.Is(err, unix.EROFS) || errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM) {
		return func() {}, nil
	}
	if err != nil {
		return nil, err
	}
	return l.Unlock, nil
}
