//go:build !linux || !cgo

package lxc_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/vr-paas/vr/pkg/container"
	"github.com/vr-paas/vr/pkg/container/lxc"
	"github.com/vr-paas/vr/pkg/testutil"
)

// TestBuiltWithoutLXC checks the stand-in backend of builds without cgo, and makes sure
// that such a build cannot pass for a run of the container tests where they are required.
func TestBuiltWithoutLXC(t *testing.T) {
	if _, err := lxc.New(lxc.Options{}); !errors.Is(err, container.ErrUnsupported) {
		t.Errorf("New = %v, want ErrUnsupported", err)
	}
	for _, f := range strings.Split(os.Getenv(testutil.RequireEnv), ",") {
		if f = strings.TrimSpace(f); f == "all" || f == "lxc" {
			t.Fatalf("built without linux+cgo, so the LXC container tests were not compiled (%s=%s); build with CGO_ENABLED=1 and lxc-dev", testutil.RequireEnv, os.Getenv(testutil.RequireEnv))
		}
	}
	t.Skip("built without linux+cgo: the LXC container tests are not compiled in")
}
