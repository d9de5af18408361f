package runnercmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vr-paas/vr/pkg/cli"
	"github.com/vr-paas/vr/pkg/cli/clitest"
	"github.com/vr-paas/vr/pkg/container/containertest"
	"github.com/vr-paas/vr/pkg/flock"
	"github.com/vr-paas/vr/pkg/schema"
	"github.com/vr-paas/vr/pkg/testutil"
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

// TestSetupBadVolumeIsExit2: a volume whose host dir is missing or not a directory is a bad
// proc.yaml: exit 2, naming the key.
func TestSetupBadVolumeIsExit2(t *testing.T) {
	testutil.RequireRoot(t)
	root := t.TempDir()
	t.Setenv("VR_ROOT", root)
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, host := range []string{"/no/such/dir", file} {
		c := testProc("echo hi")
		c.Volumes = []schema.Volume{{Host: host, Container: "/data"}}
		path := writeProc(t, root, c)
		r := clitest.Run(t, fakeRoot(Precise, &containertest.Backend{}), "setup", path)
		if r.Code != cli.ExitBadInput || !strings.Contains(r.Stderr, `key "volumes": item 1: host dir`) {
			t.Errorf("volume host dir %s: exit %d, stderr %q; want 2 naming the key", host, r.Code, r.Stderr)
		}
	}
}
