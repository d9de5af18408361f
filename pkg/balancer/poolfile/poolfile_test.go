package poolfile_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vr-paas/vr/pkg/balancer"
	"github.com/vr-paas/vr/pkg/balancer/poolfile"
	"github.com/vr-paas/vr/pkg/transport"
	"github.com/vr-paas/vr/pkg/transport/local"
)

// newBalancer is a minimal file backend (one node per line) on a rooted local host "lb1".
func newBalancer(t *testing.T, root string, o poolfile.Options) *poolfile.Balancer {
	t.Helper()
	o.IncludeDir = "/pools"
	o.Hosts = []string{"lb1"}
	b, err := poolfile.New(poolfile.Spec{
		Backend:  "test",
		Options:  o,
		PoolPath: func(pool string) string { return "/pools/" + pool + ".txt" },
		Render:   func(_ string, nodes []string) []byte { return []byte(strings.Join(nodes, "\n") + "\n") },
		Parse: func(_ string, data []byte) ([]string, error) {
			return strings.Fields(string(data)), nil
		},
	}, balancer.Env{Dial: func(_ context.Context, host string) (transport.Transport, error) {
		return local.NewRooted(host, root), nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFailedReloadPutsPreviousFileBack(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "pools"), 0o755); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ok := newBalancer(t, root, poolfile.Options{CheckCmd: "true", ReloadCmd: "true"})
	if err := ok.AddNodes(ctx, "web", []string{"10.0.0.1:80"}); err != nil {
		t.Fatal(err)
	}
	// A reload that fails: the previous file comes back and the error says why.
	bad := newBalancer(t, root, poolfile.Options{CheckCmd: "true", ReloadCmd: "echo service is down >&2; exit 7"})
	err := bad.AddNodes(ctx, "web", []string{"10.0.0.2:80"})
	if err == nil || err.Error() != "test: host lb1: pool web: add nodes: reload `echo service is down >&2; exit 7` failed: exit status 7: service is down; previous configuration put back" {
		t.Fatalf("%v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "pools", "web.txt")); string(b) != "10.0.0.1:80\n" {
		t.Fatalf("file after failed reload: %q", b)
	}
	// A new pool whose validation fails leaves no file behind.
	badCheck := newBalancer(t, root, poolfile.Options{CheckCmd: "exit 1", ReloadCmd: "true"})
	if err := badCheck.AddNodes(ctx, "api", []string{"10.0.0.2:80"}); err == nil {
		t.Fatal("invalid configuration accepted")
	}
	if _, err := os.Stat(filepath.Join(root, "pools", "api.txt")); !os.IsNotExist(err) {
		t.Fatalf("new pool file left after failed validation: %v", err)
	}
}

func TestLockTimeout(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "pools"), 0o755); err != nil {
		t.Fatal(err)
	}
	h := local.NewRooted("lb1", root)
	u, err := h.Lock(context.Background(), "/pools/.web.vr-lock")
	if err != nil {
		t.Fatal(err)
	}
	defer u.Unlock()
	b := newBalancer(t, root, poolfile.Options{LockTimeout: 1})
	start := time.Now()
	err = b.AddNodes(context.Background(), "web", []string{"10.0.0.1:80"})
	if err == nil || !strings.Contains(err.Error(), "host lb1: pool web is locked by another update (waited 1s") || time.Since(start) > 3*time.Second {
		t.Fatalf("%v after %s", err, time.Since(start))
	}
}
