// Package all is the only list of balancer backends: Registry returns a balancer.Registry
// with every one of them, as restic's all.Backends() does. Add a backend here and nowhere else.
package all

import (
	"github.com/vr-paas/vr/pkg/balancer"
	"github.com/vr-paas/vr/pkg/balancer/apache"
	"github.com/vr-paas/vr/pkg/balancer/dummy"
	"github.com/vr-paas/vr/pkg/balancer/haproxy"
	"github.com/vr-paas/vr/pkg/balancer/nginx"
	"github.com/vr-paas/vr/pkg/balancer/stingray"
	"github.com/vr-paas/vr/pkg/balancer/varnish"
)

// Registry returns a Registry of every backend.
func Registry() *balancer.Registry {
	r := balancer.NewRegistry()
	r.Register(dummy.Factory{})
	r.Register(nginx.Factory{})
	r.Register(varnish.Factory{})
	r.Register(haproxy.Factory{})
	r.Register(apache.Factory{})
	r.Register(stingray.Factory{})
	return r
}
