package runner

import (
	"fmt"
	"os"

	"github.com/vr-paas/vr/pkg/flock"
)

// locks are the locks setup, run and teardown hold: proc.yaml itself (the original's
// contract: "<path> is locked by another process") and, once the proc folder exists, its
// .lock, so that two copies of a proc.yaml naming the same proc cannot work on it at once.
type locks struct{ held []*flock.Lock }

func (ls *locks) unlock() {
	for i := len(ls.held) - 1; i >= 0; i-- {
		ls.held[i].Unlock()
	}
	ls.held = nil
}

// lockProcYAML takes the lock on the proc.yaml at path without waiting.
func (ls *locks) lockProcYAML(path string) error {
	l, err := flock.TryLock(path)
	if err != nil {
		return err
	}
	ls.held = append(ls.held, l)
	return nil
}

// lockProcDir takes the lock on the proc folder's .lock (created if missing) without
// waiting.
func (ls *locks) lockProcDir(l Layout) error {
	f, err := os.OpenFile(l.Lock(), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("lock proc %s: %w", l.Name, err)
	}
	_ = f.Close()
	lk, err := flock.TryLock(l.Lock())
	if err != nil {
		return err
	}
	ls.held = append(ls.held, lk)
	return nil
}
