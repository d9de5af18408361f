package runnercmd

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vr-paas/vr/pkg/cli/clitest"
	"github.com/vr-paas/vr/pkg/container/containertest"
	"github.com/vr-paas/vr/pkg/testutil"
)

func TestTeardown(t *testing.T) {
	b := &containertest.Backend{}
	path := setUp(t, b, testProc("true"))
	r := clitest.Run(t, fakeRoot(Precise, b), "teardown", path)
	if r.Code != 0 || !strings.Contains(r.Stdout, "Removed "+filepath.Dir(path)) {
		t.Errorf("exit %d, stdout %q, stderr %q", r.Code, r.Stdout, r.Stderr)
	}
	if _, err := os.Stat(filepath.Dir(path)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("proc dir left: %v", err)
	}
	if !slices.Contains(b.Cleaned(), "demo-v1-test-abcd1234-web-5555") {
		t.Errorf("cleaned %q", b.Cleaned())
	}
	// Gone already: success.
	r = clitest.Run(t, fakeRoot(Precise, b), "teardown", path)
	if r.Code != 0 {
		t.Errorf("again: exit %d, stderr %q", r.Code, r.Stderr)
	}
}

func TestTeardownFindsTheProcByItsFolder(t *testing.T) {
	testutil.RequireRoot(t)
	b := &containertest.Backend{}
	path := setUp(t, b, testProc("true"))
	// proc.yaml lost, the folder still there: torn down by the folder's name.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	r := clitest.Run(t, fakeRoot(Precise, b), "teardown", path)
	if _, err := os.Stat(filepath.Dir(path)); r.Code != 0 || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("exit %d, stderr %q, folder %v", r.Code, r.Stderr, err)
	}
}
