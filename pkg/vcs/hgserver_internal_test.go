package vcs

import (
	"context"
	"os/exec"
	"strings"
	"testing"

	"github.com/vr-paas/vr/pkg/testutil"
)

func TestHgCommandServer(t *testing.T) {
	testutil.RequireBinary(t, "hg")
	dir := t.TempDir()
	if out, err := exec.Command("hg", "init", dir).CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	h := &hgRepo{dir: dir}
	defer h.close()
	out, err := h.hg(context.Background(), false, "-R", dir, "root")
	if err != nil || strings.TrimSpace(out) != dir {
		t.Fatalf("root = %q, %v", out, err)
	}
	if h.srv == nil || h.noServer {
		t.Fatalf("the command server is not used")
	}
	pid := h.srv.cmd.Process.Pid
	// A failing command reports hg's message; the server stays.
	_, err = h.hg(context.Background(), false, "-R", dir, "update", "-r", "nope")
	if err == nil || !strings.Contains(err.Error(), "unknown revision") {
		t.Errorf("err = %v", err)
	}
	if _, err := h.hg(context.Background(), false, "-R", dir, "log", "-r", "null", "-T", "{node}"); err != nil || h.srv == nil || h.srv.cmd.Process.Pid != pid {
		t.Errorf("server not reused: %v", err)
	}
	// Without a server (hg too old, say), commands run one by one.
	h2 := &hgRepo{dir: dir, noServer: true}
	if out, err := h2.hg(context.Background(), false, "-R", dir, "root"); err != nil || strings.TrimSpace(out) != dir {
		t.Errorf("fallback: %q %v", out, err)
	}
}
