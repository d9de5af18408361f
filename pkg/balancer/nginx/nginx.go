// Package nginx is the balancer backend for nginx: one file per pool in include_dir,
// <include_dir>/<pool>.conf, holding an `upstream <pool>` block in the original's format,
// validated with check_cmd (nginx -t) before reload_cmd reloads nginx gracefully. The operator
// writes the `server { ... proxy_pass http://<pool>; }` block once.
//
// Unlike the original, an empty pool is still valid configuration (nginx refuses an empty
// upstream block, so the file then holds one server marked down on a reserved address), the
// validator runs before every reload (the original's `/etc/init.d/nginx reload` exited 0 on
// an invalid configuration: issue #214), and updates are locked, atomic and read back
// (see balancer/poolfile).
package nginx

import (
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/vr-paas/vr/pkg/balancer"
	"github.com/vr-paas/vr/pkg/balancer/poolfile"
)

// Defaults, as in the original (include_dir, reload_cmd) and new (check_cmd).
const (
	DefaultIncludeDir = "/etc/nginx/sites-enabled/"
	DefaultReloadCmd  = "/etc/init.d/nginx reload"
	DefaultCheckCmd   = "nginx -t -q"
	DefaultPIDFile    = "/run/nginx.pid"
)

// Config holds the nginx backend's settings.
type Config struct {
	poolfile.Options `yaml:",inline"`
	// PIDFile is nginx's pid file (default /run/nginx.pid). After reload_cmd, the update
	// waits until the master behind it has retired its old workers, so that when it returns
	// no request is routed by the old configuration (nginx -s reload returns at once, and
	// `nginx -s reload` or an init script report success even when the master then fails to
	// load the configuration). "none" skips the wait.
	PIDFile string `yaml:"pid_file"`
}

// Factory builds nginx balancers.
type Factory struct{}

// Name returns "nginx".
func (Factory) Name() string { return "nginx" }

// Aliases returns the original's class path.
func (Factory) Aliases() []string { return []string{"vr.common.balancer.nginx.NginxBalancer"} }

// New decodes cfg's options.
func (Factory) New(cfg balancer.Config, env balancer.Env) (balancer.Balancer, error) {
	return poolfile.NewFromConfig(cfg, env, Config{Options: poolfile.Options{CheckCmd: DefaultCheckCmd}}, New)
}

// Balancer is an nginx balancer.
type Balancer struct{ *poolfile.Balancer }

// New returns an nginx Balancer. Empty include_dir and reload_cmd get the defaults; an empty
// check_cmd means no validation.
func New(c Config, env balancer.Env) (*Balancer, error) {
	o := c.Options.WithDefaults(DefaultIncludeDir, DefaultReloadCmd)
	pidFile := c.PIDFile
	if pidFile == "" {
		pidFile = DefaultPIDFile
	}
	spec := poolfile.Spec{
		Backend:  "nginx",
		Options:  o,
		PoolPath: func(pool string) string { return path.Join(o.IncludeDir, pool+".conf") },
		Render:   Render,
		Parse:    Parse,
	}
	if pidFile != "none" {
		spec.Reload = poolfile.WaitingReload(pidFile, o.ReloadCmd, busyWorker,
			"nginx still runs its old workers after reload: it did not load the new configuration (see its error log)")
	}
	pb, err := poolfile.New(spec, env)
	if err != nil {
		return nil, err
	}
	return &Balancer{pb}, nil
}

// placeholder keeps an empty upstream valid: nginx needs at least one server, and one marked
// down is never used (requests get 502 as with no server at all).
const placeholder = "127.0.0.1:9"

// Render returns the pool file: the original's format (a leading newline, `upstream <pool> {`,
// one `  server <host:port>;` per node, `}`), with nodes sorted. An empty pool gets the
// placeholder server marked down.
func Render(pool string, nodes []string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "\nupstream %s {\n", pool)
	for _, n := range nodes {
		fmt.Fprintf(&b, "  server %s;\n", n)
	}
	if len(nodes) == 0 {
		fmt.Fprintf(&b, "  server %s down;  # empty pool\n", placeholder)
	}
	b.WriteString("}\n")
	return []byte(b.String())
}

// busyWorker marks an old child of the nginx master still busy while it is a worker that
// has not begun retiring ("worker process is shutting down": it has closed its listening
// sockets) — see poolfile.WaitingReload.
const busyWorker = `case "$(ps -o args= -p "$p" 2>/dev/null)" in *"worker process") busy=$p ;; esac`

var (
	upstreamRe = regexp.MustCompile(`upstream +(.*?) +{`)
	serverRe   = regexp.MustCompile(`(?m)^\s*server +([^ ;]+)( +down)?[^;]*;`)
)

// Parse returns the nodes of a pool file, read with the original's expressions (files the
// original wrote are read as they are); the empty-pool placeholder is not a node.
func Parse(pool string, data []byte) ([]string, error) {
	m := upstreamRe.FindSubmatch(data)
	if m == nil {
		if len(strings.TrimSpace(string(data))) == 0 {
			return []string{}, nil
		}
		return nil, fmt.Errorf("no `upstream %s {` block", pool)
	}
	if string(m[1]) != pool {
		return nil, fmt.Errorf("holds upstream %q, not %q", m[1], pool)
	}
	nodes := []string{}
	for _, s := range serverRe.FindAllSubmatch(data, -1) {
		if string(s[1]) == placeholder && len(s[2]) > 0 {
			continue
		}
		nodes = append(nodes, string(s[1]))
	}
	return balancer.Sorted(nodes), nil
}

var (
	_ balancer.Balancer    = (*Balancer)(nil)
	_ balancer.PoolDeleter = (*Balancer)(nil)
)
