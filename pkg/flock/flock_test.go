package flock_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vr-paas/vr/pkg/flock"
	"github.com/vr-paas/vr/pkg/testutil"
)

func TestTryLockHeld(t *testing.T) {
	p := filepath.Join(t.TempDir(), "proc.yaml")
	if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := flock.TryLock(p)
	if err != nil {
		t.Fatal(err)
	}
	_, err = flock.TryLock(p)
	if !errors.Is(err, flock.ErrLocked) || err.Error() != p+" is locked by another process" {
		t.Fatalf("second TryLock: %v", err)
	}
	l.Unlock()
	l.Unlock() // twice is fine
	l2, err := flock.TryLock(p)
	if err != nil {
		t.Fatalf("after Unlock: %v", err)
	}
	l2.Unlock()
}

func TestAcquireWaitsAndHonoursContext(t *testing.T) {
	p := filepath.Join(t.TempDir(), "cache.lock")
	l, err := flock.Acquire(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := flock.Acquire(ctx, p); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Acquire on a held lock with a deadline: %v", err)
	}
	done := make(chan error)
	go func() {
		l2, err := flock.Acquire(context.Background(), p)
		l2.Unlock()
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	l.Unlock()
	if err := <-done; err != nil {
		t.Fatalf("waiter: %v", err)
	}
}

// TestLockHeldByOtherProcess checks the lock excludes another process (flock(1) from
// util-linux) and is released when that process is killed.
func TestLockHeldByOtherProcess(t *testing.T) {
	testutil.RequireBinary(t, "flock")
	p := filepath.Join(t.TempDir(), "x.lock")
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// -o: the lock is held by flock(1) itself, not passed on to sleep, so killing flock
	// must release it.
	cmd := exec.Command("flock", "-o", p, "sleep", "60")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var err error
	testutil.Eventually(t, 5*time.Second, func() bool {
		var l *flock.Lock
		l, err = flock.TryLock(p)
		l.Unlock() // flock(1) has not taken it yet
		return err != nil && strings.Contains(err.Error(), "locked by another process")
	}, func() string { return fmt.Sprintf("the other process never held the lock: %v", err) })
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	l, err := flock.Acquire(ctx, p)
	if err != nil {
		t.Fatalf("lock not released when its holder was killed: %v", err)
	}
	l.Unlock()
}
