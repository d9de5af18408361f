package main

import (
	"os"
	"sort"
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

func readDirNames(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names, err
}
