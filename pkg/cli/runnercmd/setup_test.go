package runnercmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vr-paas/vr/pkg/cli/clitest"
	"github.com/vr-paas/vr/pkg/container/containertest"
	"github.com/vr-paas/vr/pkg/flock"
)

func TestSetup(t *testing.T) {
	b := &containertest.Backend{}
	path := setUp(t, b, testProc("echo hi"))
	dir := filepath.Dir(path)
	for _, f := range []string{"container.json", "rootfs/proc.sh", "rootfs/env.sh", "rootfs/settings.yaml", "rootfs/app", "rootfs/tmp"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("after setup: %v", err)
		}
	}
	// Again: fine, and the progress goes to stdout.
	r := clitest.Run(t, fakeRoot(Precise, b), "setup", path)
	if r.Code != 0 || !strings.HasPrefix(r.Stdout, "Setting up demo-v1-test-abcd1234-web-5555\n") || r.Stderr != "" {
		t.Errorf("setup again: exit %d\nstdout %q\nstderr %q", r.Code, r.Stdout, r.Stderr)
	}
	// Locked by another process (a running proc): refused with the original's words.
	l, err := flock.TryLock(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unlock()
	r = clitest.Run(t, fakeRoot(Precise, b), "setup", path)
	if r.Code != 1 || r.Stderr != "vruntime-precise: "+path+" is locked by another process\n" {
		t.Errorf("locked: exit %d, stderr %q", r.Code, r.Stderr)
	}
}
