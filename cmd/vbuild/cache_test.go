package main

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/vr-paas/vr/pkg/cli/clitest"
	"github.com/vr-paas/vr/pkg/testutil"
)

func TestCachePurgeNothing(t *testing.T) {
	testutil.RequireLXC(t)
	root := t.TempDir()
	r := clitest.Run(t, newRootCmd, "--root", root, "cache", "purge", "nothing_here")
	if r.Code != 0 || r.Stdout != "No build cache of nothing_here in "+root+"/builder/cache\n" {
		t.Errorf("%+v", r)
	}
}

// TestCachePurgeRemovesInterruptedPurge: a purge killed between renaming the cache away and
// removing it left "<cache>.purge-<id>"; the next purge frees those bytes too.
func TestCachePurgeRemovesInterruptedPurge(t *testing.T) {
	testutil.RequireLXC(t)
	root := t.TempDir()
	trash := filepath.Join(root, "builder", "cache", "hello-"+strings.Repeat("a", 32)+".purge-1234")
	if err := os.MkdirAll(filepath.Join(trash, "vendor"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(trash, "vendor", "big"), make([]byte, 4096), 0o644); err != nil {
		t.Fatal(err)
	}
	r := clitest.Run(t, newRootCmd, "--root", root, "cache", "purge", "hello")
	if r.Code != 0 {
		t.Fatalf("%+v", r)
	}
	if _, err := os.Stat(trash); !os.IsNotExist(err) {
		t.Fatalf("leftover of an interrupted purge still there (%v); stdout %q", err, r.Stdout)
	}
}

func readDirNames(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names, err
}
