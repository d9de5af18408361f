package platform_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vr-paas/vr/pkg/balancer"
	"github.com/vr-paas/vr/pkg/platform"
)

// The seed's "Using Multiple Balancers" example, indented as YAML needs it.
const seed = `BALANCERS:
  my_varnish_balancer:
    BACKEND: vr.common.balancer.varnish.VarnishBalancer
    user: some_user_with_sudo
    password: some_password
    hosts:
    - varnish.mydomain.com
  my_nginx_balancer:
    BACKEND: vr.common.balancer.nginx.NginxBalancer
    user: some_user_with_sudo
    password: some_password
    hosts:
    - nginx.mydomain.com
squads: {}
`

func TestParseSeedExample(t *testing.T) {
	p, err := platform.Parse("platform.yaml", []byte(seed))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Balancers) != 2 || p.Balancers[0].Name != "my_varnish_balancer" || p.Balancers[1].Backend != "vr.common.balancer.nginx.NginxBalancer" {
		t.Fatalf("%+v", p.Balancers)
	}
	if c, err := p.Balancer("my_nginx_balancer"); err != nil || c.Line != 8 {
		t.Fatalf("%+v %v", c, err)
	}
	_, err = p.Balancer("nope")
	if !errors.Is(err, balancer.ErrUnknownBalancer) || !strings.Contains(err.Error(), "configured: my_varnish_balancer, my_nginx_balancer") {
		t.Fatal(err)
	}
}

func TestParseErrors(t *testing.T) {
	cases := map[string]string{
		"balancers:\n  lb: {BACKEND: dummy}\nBALANCERS:\n  x: {BACKEND: dummy}\n": `platform.yaml:3: key "BALANCERS": give balancers once`,
		"balancer:\n  lb: {BACKEND: dummy}\n":                                     `platform.yaml:1: key "balancer": unknown section`,
		"balancers:\n  lb: {BACKEND: dummy}\nbalancers: {}\n":                     `platform.yaml:3: key "balancers": duplicate key (first at line 1)`,
		"balancers: [\n": `platform.yaml:`,
		"- a\n":          `platform.yaml:1: expected a mapping`,
	}
	for text, want := range cases {
		_, err := platform.Parse("platform.yaml", []byte(text))
		var bi interface{ BadInput() bool }
		if err == nil || !strings.HasPrefix(err.Error(), want) || !errors.As(err, &bi) {
			t.Errorf("%q: %v, want %s", text, err, want)
		}
	}
	if p, err := platform.Parse("p", nil); err != nil || len(p.Balancers) != 0 {
		t.Errorf("empty file: %v", err)
	}
}

func TestLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "platform.yaml")
	if _, err := platform.Load(path); err == nil || !strings.Contains(err.Error(), "no such file") || !strings.Contains(err.Error(), "VR_CONFIG") {
		t.Fatalf("missing file: %v", err)
	}
	if err := os.WriteFile(path, []byte(seed), 0o644); err != nil {
		t.Fatal(err)
	}
	if p, err := platform.Load(path); err != nil || p.File != path || len(p.Balancers) != 2 {
		t.Fatalf("%v", err)
	}
}
