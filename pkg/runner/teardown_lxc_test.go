//go:build linux && cgo

package runner_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/vr-paas/vr/pkg/runner"
	"github.com/vr-paas/vr/pkg/testutil"
)

// TestTeardownKeepsMountedVolumeContents: a host folder still bind-mounted below the proc's
// folder (a volume left by a crashed container, an operator's mount) is unmounted, never
// emptied, by teardown.
func TestTeardownKeepsMountedVolumeContents(t *testing.T) {
	testutil.RequireLXC(t)
	e := newEnv(t)
	r, p := e.setUp(e.proc(runner.Precise), runner.Precise)
	vol := t.TempDir()
	precious := filepath.Join(vol, "precious.db")
	if err := os.WriteFile(precious, []byte("data"), 0o644); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(runner.LayoutOf(e.root, p.Name).ProcDir(), "mnt")
	if err := os.MkdirAll(target, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount(vol, target, "", unix.MS_BIND, ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = unix.Unmount(target, unix.MNT_DETACH) })
	if err := r.Teardown(context.Background(), p.Path); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(precious); err != nil || string(b) != "data" {
		t.Fatalf("teardown emptied a mounted volume: %q %v", b, err)
	}
	if _, err := os.Stat(runner.LayoutOf(e.root, p.Name).ProcDir()); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("proc folder still there: %v", err)
	}
}
