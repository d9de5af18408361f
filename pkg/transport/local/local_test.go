package local_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vr-paas/vr/pkg/transport"
	"github.com/vr-paas/vr/pkg/transport/local"
)

func TestRootedHost(t *testing.T) {
	root := t.TempDir()
	h := local.NewRooted("lb1", root)
	ctx := context.Background()
	if err := os.MkdirAll(filepath.Join(root, "etc/nginx"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := h.ReadFile(ctx, "/etc/nginx/web.conf"); !errors.Is(err, fs.ErrNotExist) || !strings.HasPrefix(err.Error(), "lb1: read /etc/nginx/web.conf") {
		t.Fatalf("missing: %v", err)
	}
	if err := h.WriteFile(ctx, "/etc/nginx/web.conf", []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(root, "etc/nginx/web.conf")); err != nil || string(b) != "x" {
		t.Fatalf("%q %v", b, err)
	}
	res, err := h.Run(ctx, transport.Cmd{Argv: []string{"sh", "-c", "cat etc/nginx/web.conf"}})
	if err != nil || string(res.Stdout) != "x" {
		t.Fatalf("run in root: %q %v", res.Stdout, err)
	}
	_, err = h.Run(ctx, transport.Cmd{Argv: []string{"sh", "-c", "echo nope >&2; exit 4"}})
	var re *transport.RunError
	if !errors.As(err, &re) || re.ExitCode != 4 || err.Error() != "lb1: sh -c 'echo nope >&2; exit 4': exit status 4: nope" {
		t.Fatalf("%v", err)
	}
	u, err := h.Lock(ctx, "/etc/nginx/.web.lock")
	if err != nil {
		t.Fatal(err)
	}
	tctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, err := h.Lock(tctx, "/etc/nginx/.web.lock"); err == nil {
		t.Fatal("lock taken twice")
	}
	_ = u.Unlock()
	if err := h.Remove(ctx, "/etc/nginx/web.conf"); err != nil {
		t.Fatal(err)
	}
	if err := h.Remove(ctx, "/etc/nginx/web.conf"); err != nil {
		t.Fatalf("remove missing: %v", err)
	}
	start := time.Now()
	cctx, ccancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer ccancel()
	if _, err := h.Run(cctx, transport.Cmd{Argv: []string{"sh", "-c", "sleep 5 & sleep 5"}}); !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 2*time.Second {
		t.Fatalf("cancel: %v after %s", err, time.Since(start))
	}
}
