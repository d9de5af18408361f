package runnercmd

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vr-paas/vr/pkg/cli"
	"github.com/vr-paas/vr/pkg/cli/clitest"
	"github.com/vr-paas/vr/pkg/container"
	"github.com/vr-paas/vr/pkg/container/containertest"
	"github.com/vr-paas/vr/pkg/flock"
	"github.com/vr-paas/vr/pkg/testutil"
)

func TestRunPassesTheExitCodeAndOutput(t *testing.T) {
	b := &containertest.Backend{Handler: func(ctx context.Context, spec container.Spec, p container.Process, s container.Streams) (int, error) {
		fmt.Fprintf(s.Out, "argv=%q uid=%d net=%s stop=%v\n", p.Argv, p.UID, spec.Network, spec.StopTimeout)
		fmt.Fprintln(s.Err, "to stderr")
		return 3, nil
	}}
	path := setUp(t, b, testProc("echo hi"))
	t.Setenv("VR_STOP_TIMEOUT", "7s")
	r := clitest.Run(t, fakeRoot(Precise, b), "run", path)
	want := `argv=["/bin/bash" "/proc.sh" "run"] uid=65534 net=host stop=7s` + "\n"
	if r.Code != 3 || r.Stdout != want || r.Stderr != "to stderr\n" {
		t.Errorf("exit %d\nstdout %q (want %q)\nstderr %q", r.Code, r.Stdout, want, r.Stderr)
	}
	// The flag wins over the environment.
	r = clitest.Run(t, fakeRoot(Precise, b), "run", "--stop-timeout", "2s", path)
	if !strings.Contains(r.Stdout, "stop=2s") {
		t.Errorf("--stop-timeout: %q", r.Stdout)
	}
}

func TestRunStoppedBySignal(t *testing.T) {
	// The proc exits 0 when stopped: so does the runner (and says why on stderr).
	b := &containertest.Backend{Handler: func(ctx context.Context, spec container.Spec, p container.Process, s container.Streams) (int, error) {
		<-ctx.Done()
		return 0, fmt.Errorf("container %q: %w: %w", spec.Name, container.ErrStopped, ctx.Err())
	}}
	path := setUp(t, b, testProc("sleep 100"))
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	var out, errb bytes.Buffer
	code := cli.Run(ctx, fakeRoot(Precise, b), []string{"run", path}, cli.Streams{In: strings.NewReader(""), Out: &out, Err: &errb})
	if code != 0 || !strings.Contains(errb.String(), "stopped by a signal; it exited with code 0") {
		t.Errorf("exit %d, stderr %q", code, errb.String())
	}
}

func TestRunIsRefusedWhileRunning(t *testing.T) {
	b := &containertest.Backend{}
	path := setUp(t, b, testProc("sleep 100"))
	l, err := flock.TryLock(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unlock()
	r := clitest.Run(t, fakeRoot(Precise, b), "run", path)
	if r.Code != 1 || r.Stderr != "vruntime-precise: "+path+" is locked by another process\n" {
		t.Errorf("exit %d, stderr %q", r.Code, r.Stderr)
	}
}

func TestRunBeforeSetup(t *testing.T) {
	testutil.RequireRoot(t)
	t.Setenv("VR_ROOT", t.TempDir())
	path := writeProc(t, t.TempDir(), testProc("true"))
	r := clitest.Run(t, fakeRoot(Precise, &containertest.Backend{}), "run", path)
	if r.Code != 1 || !strings.Contains(r.Stderr, "is not set up") || !strings.Contains(r.Stderr, "run setup first") {
		t.Errorf("exit %d, stderr %q", r.Code, r.Stderr)
	}
}
