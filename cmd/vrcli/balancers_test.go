package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vr-paas/vr/pkg/cli/clitest"
)

func TestBalancers(t *testing.T) {
	cfg := writePlatform(t, `  edge:
    BACKEND: vr.common.balancer.nginx.NginxBalancer
    hosts: [lb1.example.com, lb2.example.com]
  traffic:
    BACKEND: vr.common.balancer.zxtm.ZXTMBalancer
    URL: https://traffic.example:9090/soap
    POOL_PREFIX: vr-
squads: {}
`)
	r := clitest.Run(t, newRootCmd, "--config", cfg, "balancers")
	if r.Code != 0 {
		t.Fatalf("%+v", r)
	}
	want := []string{
		"NAME     BACKEND   WHERE",
		"lb       dummy     (local state file)",
		"edge     nginx     lb1.example.com,lb2.example.com",
		"traffic  stingray  https://traffic.example:9090/soap",
	}
	if got := strings.Split(strings.TrimSpace(r.Stdout), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got:\n%s\nwant:\n%s", r.Stdout, strings.Join(want, "\n"))
	}
}

func TestBalancersErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	unknown := write("unknown.yaml", "BALANCERS:\n  lb:\n    BACKEND: vr.common.balancer.chained.ChainedBalancer\n")
	typo := write("typo.yaml", "BALANCERS:\n  lb:\n    BACKEND: nginx\n    include_dri: /etc/nginx/conf.d/\n")
	clitest.RunTable(t, newRootCmd, []clitest.Case{
		{Args: []string{"balancers", "extra"}, Code: 2, StderrLine: true},
		{Args: []string{"--config", unknown, "balancers"}, Code: 2, Stderr: `unknown.yaml:3: key "lb.BACKEND": unknown balancer backend "vr.common.balancer.chained.ChainedBalancer" (known: apache, dummy, haproxy, nginx, stingray, varnish)`, StderrLine: true},
		{Args: []string{"--config", typo, "balancers"}, Code: 2, Stderr: `typo.yaml:4: key "lb.include_dri": unknown setting (did you mean "include_dir"?)`, StderrLine: true},
	})
}
