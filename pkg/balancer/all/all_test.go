package all_test

import (
	"strings"
	"testing"

	"github.com/vr-paas/vr/pkg/balancer/all"
)

func TestRegistry(t *testing.T) {
	r := all.Registry()
	if got := strings.Join(r.Names(), ","); got != "apache,dummy,haproxy,nginx,stingray,varnish" {
		t.Fatalf("Names() = %s", got)
	}
	for backend, want := range map[string]string{
		"vr.common.balancer.dummy.DummyBalancer":       "dummy",
		"vr.server.balancer.dummy.DummyBalancer":       "dummy",
		"vr.common.balancer.nginx.NginxBalancer":       "nginx",
		"vr.common.balancer.varnish.VarnishBalancer":   "varnish",
		"vr.common.balancer.stingray.StingrayBalancer": "stingray",
		"vr.common.balancer.zxtm.ZXTMBalancer":         "stingray",
		"vr.server.balancer.zxtm.ZXTMBalancer":         "stingray",
		"haproxy":                                      "haproxy",
		"apache":                                       "apache",
	} {
		if got := r.Canonical(backend); got != want {
			t.Errorf("Canonical(%s) = %q, want %s", backend, got, want)
		}
	}
}
