// Package apache is the balancer backend for the Apache HTTP Server with mod_proxy_balancer
// (new in vr; the original had none): one file per pool,
// <include_dir><pool_file_prefix><pool>.conf, holding a `<Proxy "balancer://<pool>">` block
// with one BalancerMember per node. The default include_dir is Debian's conf-enabled/, which
// apache2.conf includes, and the prefix (default "vr-pool-") keeps pool files apart from the
// operator's own; the operator routes with `ProxyPass "/" "balancer://<pool>/"`.
//
// Every update is validated (check_cmd, apachectl configtest) and then loaded with a graceful
// restart (reload_cmd, apachectl graceful): requests in flight finish on the old children.
// After it, the update waits (pid_file set) until the old generation of children has stopped
// serving, so that when it returns no request is routed by the old configuration.
package apache

import (
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/vr-paas/vr/pkg/balancer"
	"github.com/vr-paas/vr/pkg/balancer/poolfile"
)

// Defaults.
const (
	DefaultIncludeDir     = "/etc/apache2/conf-enabled/"
	DefaultReloadCmd      = "apachectl graceful"
	DefaultCheckCmd       = "apachectl configtest"
	DefaultPoolFilePrefix = "vr-pool-"
)

// Config holds the Apache backend's settings.
type Config struct {
	poolfile.Options `yaml:",inline"`
	PoolFilePrefix   string `yaml:"pool_file_prefix"` // default "vr-pool-"
	// PIDFile is Apache's pid file; when set, an update waits after reload_cmd until the
	// children the server had before the reload are gone or no longer accept requests.
	PIDFile string `yaml:"pid_file"`
}

// Factory builds Apache balancers.
type Factory struct{}

// Name returns "apache".
func (Factory) Name() string { return "apache" }

// Aliases returns a dotted path in the original's style.
func (Factory) Aliases() []string { return []string{"vr.common.balancer.apache.ApacheBalancer"} }

// New decodes cfg's options.
func (Factory) New(cfg balancer.Config, env balancer.Env) (balancer.Balancer, error) {
	return poolfile.NewFromConfig(cfg, env, Config{Options: poolfile.Options{CheckCmd: DefaultCheckCmd}}, New)
}

// Balancer is an Apache balancer.
type Balancer struct{ *poolfile.Balancer }

// New returns an Apache Balancer; empty settings get the defaults (check_cmd excepted).
func New(c Config, env balancer.Env) (*Balancer, error) {
	o := c.Options.WithDefaults(DefaultIncludeDir, DefaultReloadCmd)
	if c.PoolFilePrefix == "" {
		c.PoolFilePrefix = DefaultPoolFilePrefix
	}
	spec := poolfile.Spec{
		Backend:  "apache",
		Options:  o,
		PoolPath: func(pool string) string { return path.Join(o.IncludeDir, c.PoolFilePrefix+pool+".conf") },
		Render:   Render,
		Parse:    Parse,
	}
	if c.PIDFile != "" {
		spec.Reload = poolfile.WaitingReload(c.PIDFile, o.ReloadCmd, busyChild,
			"apache still runs children of before the reload")
	}
	pb, err := poolfile.New(spec, env)
	if err != nil {
		return nil, err
	}
	return &Balancer{pb}, nil
}

// Header is the first line of every pool file.
const Header = "# This pool was written by Velociraptor.  You probably shouldn't edit it."

// Render returns the pool file: a balancer with one member per node (none for an empty pool,
// which Apache accepts and answers with 503).
func Render(pool string, nodes []string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n<Proxy \"balancer://%s\">\n", Header, pool)
	for _, n := range nodes {
		fmt.Fprintf(&b, "  BalancerMember \"http://%s\"\n", n)
	}
	b.WriteString("</Proxy>\n")
	return []byte(b.String())
}

var (
	proxyRe  = regexp.MustCompile(`<Proxy\s+"?balancer://([^"/>\s]+)`)
	memberRe = regexp.MustCompile(`(?m)^\s*BalancerMember\s+"?[a-z]+://([^"/\s]+)`)
)

// Parse returns the nodes of a pool file.
func Parse(pool string, data []byte) ([]string, error) {
	m := proxyRe.FindSubmatch(data)
	if m == nil || string(m[1]) != pool {
		return nil, fmt.Errorf("no `<Proxy \"balancer://%s\">` block", pool)
	}
	nodes := []string{}
	for _, s := range memberRe.FindAllSubmatch(data, -1) {
		nodes = append(nodes, string(s[1]))
	}
	return balancer.Sorted(nodes), nil
}

// busyChild marks an old child of the Apache parent still busy while it is still that
// parent's child (a graceful restart lets old children finish their requests, then they exit)
// — see poolfile.WaitingReload.
const busyChild = `if [ "$(ps -o ppid= -p "$p" 2>/dev/null | tr -d ' ')" = "$parent" ]; then busy=$p; fi`

var (
	_ balancer.Balancer    = (*Balancer)(nil)
	_ balancer.PoolDeleter = (*Balancer)(nil)
)
