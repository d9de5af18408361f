package poolfile_test

import (
	"testing"

	"github.com/vr-paas/vr/pkg/balancer/poolfile"
)

func TestWithDefaults(t *testing.T) {
	got := poolfile.Options{}.WithDefaults("/inc/", "reload")
	if got.IncludeDir != "/inc/" || got.ReloadCmd != "reload" {
		t.Errorf("empty options: %+v", got)
	}
	set := poolfile.Options{IncludeDir: "/mine/", ReloadCmd: "mine", CheckCmd: "check"}
	if got := set.WithDefaults("/inc/", "reload"); got.IncludeDir != "/mine/" || got.ReloadCmd != "mine" || got.CheckCmd != "check" {
		t.Errorf("set options changed: %+v", got)
	}
}
