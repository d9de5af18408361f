package balancer_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	yaml "go.yaml.in/yaml/v3"

	"github.com/vr-paas/vr/pkg/balancer"
)

type fakeFactory struct{ name string }

func (f fakeFactory) Name() string      { return f.name }
func (f fakeFactory) Aliases() []string { return []string{"vr.fake." + f.name} }
func (f fakeFactory) New(cfg balancer.Config, _ balancer.Env) (balancer.Balancer, error) {
	var o struct {
		Hosts   []string `yaml:"hosts"`
		Timeout int      `yaml:"timeout"`
		Inline  struct {
			User string `yaml:"user"`
		} `yaml:",inline"`
	}
	return nil, balancer.DecodeOptions(cfg, &o)
}

func TestRegisterPanicsOnDuplicate(t *testing.T) {
	r := balancer.NewRegistry()
	r.Register(fakeFactory{"a"})
	defer func() {
		if recover() == nil {
			t.Fatal("Register of a duplicate name did not panic")
		}
	}()
	r.Register(fakeFactory{"a"})
}

func parse(t *testing.T, text string) ([]balancer.Config, error) {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
		t.Fatal(err)
	}
	return balancer.ParseConfigs("platform.yaml", doc.Content[0].Content[1])
}

func TestParseConfigs(t *testing.T) {
	cfgs, err := parse(t, `BALANCERS:
  lb:
    BACKEND: vr.common.balancer.nginx.NginxBalancer
    hosts: [a, b]
  default:
    BACKEND: dummy
`)
	if err != nil || len(cfgs) != 2 || cfgs[0].Name != "lb" || cfgs[0].Backend != "vr.common.balancer.nginx.NginxBalancer" || cfgs[0].BackendLine != 3 || cfgs[1].Name != "default" {
		t.Fatalf("%+v %v", cfgs, err)
	}
	bad := map[string]string{
		"BALANCERS: [a]\n":                      `platform.yaml:1: key "BALANCERS": expected a mapping`,
		"BALANCERS:\n  lb:\n    hosts: [a]\n":   `platform.yaml:2: key "lb": missing BACKEND`,
		"BALANCERS:\n  lb: nginx\n":             `platform.yaml:2: key "lb": expected a mapping`,
		"BALANCERS:\n  lb:\n    BACKEND: [x]\n": `platform.yaml:3: key "lb.BACKEND": expected a backend name`,
	}
	for text, want := range bad {
		_, err := parse(t, text)
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%q: %v, want %s", text, err, want)
		}
	}
}

func TestRegistryNewErrors(t *testing.T) {
	r := balancer.NewRegistry()
	r.Register(fakeFactory{"fake"})
	cases := map[string]string{
		"lb:\n  BACKEND: nope\n":                             `platform.yaml:2: key "lb.BACKEND": unknown balancer backend "nope" (known: fake)`,
		"lb:\n  BACKEND: fake\n  hostz: [a]\n":               `platform.yaml:3: key "lb.hostz": unknown setting (did you mean "hosts"?) for backend fake; known: hosts, timeout, user`,
		"lb:\n  BACKEND: vr.fake.fake\n  timeout: soon\n":    `platform.yaml:3: key "lb.timeout": cannot unmarshal !!str`,
		"lb:\n  BACKEND: fake\n  user: a\n  user: b\n":       `platform.yaml:4: key "lb.user": duplicate key`,
		"lb:\n  BACKEND: fake\n  hosts: [a]\n  timeout: 3\n": "",
		"lb:\n  BACKEND: fake\n  user: u\n  hosts: [a, b]\n": "",
	}
	for text, want := range cases {
		var doc yaml.Node
		_ = yaml.Unmarshal([]byte(text), &doc)
		cfgs, err := balancer.ParseConfigs("platform.yaml", doc.Content[0])
		if err != nil {
			t.Fatal(err)
		}
		_, err = r.New(cfgs[0], balancer.Env{})
		if want == "" {
			if err != nil {
				t.Errorf("%q: %v", text, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q:\n got %v\nwant %s", text, err, want)
		}
		var bi interface{ BadInput() bool }
		if !errors.As(err, &bi) || !bi.BadInput() {
			t.Errorf("%q: %v is not a bad-input error", text, err)
		}
		if strings.Contains(text, "nope") && !errors.Is(err, balancer.ErrUnknownBackend) {
			t.Errorf("unknown backend error does not wrap ErrUnknownBackend")
		}
	}
}

func TestDecodeKeepsEarlierKeys(t *testing.T) {
	var doc yaml.Node
	_ = yaml.Unmarshal([]byte("lb:\n  BACKEND: x\n  hosts: [a]\n  timeout: 3\n"), &doc)
	cfgs, _ := balancer.ParseConfigs("f", doc.Content[0])
	var o struct {
		Hosts   []string `yaml:"hosts"`
		Timeout int      `yaml:"timeout"`
	}
	if err := balancer.DecodeOptions(cfgs[0], &o); err != nil || len(o.Hosts) != 1 || o.Timeout != 3 {
		t.Fatalf("%+v %v", o, err)
	}
}

func TestNodes(t *testing.T) {
	good := []string{"10.0.0.1:80", "host.example.com:5000", "[::1]:8080", "localhost:65535", "a_b.example:1"}
	for _, n := range good {
		if _, _, err := balancer.SplitNode(n); err != nil {
			t.Errorf("%s: %v", n, err)
		}
	}
	bad := []string{"", "host", "host:", ":80", "host:0", "host:65536", "host:080", "ho st:80", "::1:80", "-host:80", "host;rm:80", "h/x:80"}
	for _, n := range bad {
		if _, _, err := balancer.SplitNode(n); err == nil {
			t.Errorf("%q accepted", n)
		}
	}
	for _, p := range []string{"", ".x", "-x", "a/b", "a b", strings.Repeat("x", 101)} {
		if balancer.ValidatePool(p) == nil {
			t.Errorf("pool %q accepted", p)
		}
	}
	if got := balancer.Subtract([]string{"b", "a", "c", "a"}, []string{"c"}); strings.Join(got, ",") != "a,b" {
		t.Errorf("Subtract = %v", got)
	}
	if got := balancer.Union([]string{"b"}, []string{"a", "b"}); strings.Join(got, ",") != "a,b" {
		t.Errorf("Union = %v", got)
	}
	_ = context.Background
}
