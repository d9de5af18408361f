//go:build linux && cgo

package lxc

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// cpuTime returns the CPU time (user and system) this process used so far.
func cpuTime(t *testing.T) time.Duration {
	t.Helper()
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// startChild starts argv as a child of this process that wait may reap.
func startChild(t *testing.T, argv ...string) int {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// wait reaps it with wait4; cmd.Wait is never called.
	return cmd.Process.Pid
}

// TestWaitSurvivesClosedSignals: a caller closing Streams.Signals ends the forwarding, not
// the wait, and does not make wait spin on the closed channel.
func TestWaitSurvivesClosedSignals(t *testing.T) {
	c := &Container{name: "t", stopTimeout: time.Second}
	pid := startChild(t, "sleep", "1")
	sigs := make(chan os.Signal)
	before, start := cpuTime(t), time.Now()
	time.AfterFunc(100*time.Millisecond, func() { close(sigs) })
	code, err := c.wait(context.Background(), pid, sigs)
	if err != nil || code != 0 {
		t.Errorf("wait = %d, %v; want 0, nil", code, err)
	}
	if d := time.Since(start); d < 900*time.Millisecond {
		t.Errorf("wait returned after %v, before the process exited", d)
	}
	// Spinning burns about a CPU second during the sleep; idle waiting a few ms.
	if cpu := cpuTime(t) - before; cpu > 400*time.Millisecond {
		t.Errorf("wait used %v of CPU time while the process slept for a second", cpu)
	}
}
