// Package haproxy is the balancer backend for HAProxy (new in vr; the original had none): one
// file per pool, <include_dir><pool>.cfg, holding `backend <pool>` with one `server` line per
// node (named after the node). HAProxy loads every *.cfg file of a directory given with -f,
// so the operator adds `-f <include_dir>` to HAProxy's command line and routes to the
// backends (default_backend / use_backend).
//
// Every update writes and validates the file (check_cmd, haproxy -c). When the pool already
// exists in the running HAProxy, membership is then changed through the runtime API on
// stats_socket (`add server` + `enable server` for new nodes; `disable server`, which lets
// requests in flight finish, then `del server` for removed ones), which drops nothing and
// needs no reload; the result is read back with `show servers state`. A new pool, or a
// runtime API that cannot be reached, takes reload_cmd instead (a hitless reload of the
// master-worker process), after which the update waits until the runtime API shows the new
// state. The runtime API is spoken with socat on the balancer host.
package haproxy

import (
	"context"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vr-paas/vr/pkg/balancer"
	"github.com/vr-paas/vr/pkg/balancer/poolfile"
	"github.com/vr-paas/vr/pkg/transport"
)

// Defaults.
const (
	DefaultIncludeDir  = "/etc/haproxy/pools.d/"
	DefaultReloadCmd   = "/etc/init.d/haproxy reload"
	DefaultCheckCmd    = "haproxy -c -f /etc/haproxy/haproxy.cfg -f /etc/haproxy/pools.d/"
	DefaultStatsSocket = "/run/haproxy/admin.sock"
)

// Config holds the HAProxy backend's settings.
type Config struct {
	poolfile.Options `yaml:",inline"`
	// StatsSocket is the runtime API socket (a `stats socket ... level admin` of HAProxy's
	// global section) on the balancer hosts; "none" updates by reload only.
	StatsSocket string `yaml:"stats_socket"`
	// DrainTimeout is how many seconds a removed server may keep requests in flight before
	// it is left in maintenance instead of deleted from the running process (default 5).
	DrainTimeout int `yaml:"drain_timeout"`
}

// Factory builds HAProxy balancers.
type Factory struct{}

// Name returns "haproxy".
func (Factory) Name() string { return "haproxy" }

// Aliases returns a dotted path in the original's style.
func (Factory) Aliases() []string { return []string{"vr.common.balancer.haproxy.HAProxyBalancer"} }

// New decodes cfg's options.
func (Factory) New(cfg balancer.Config, env balancer.Env) (balancer.Balancer, error) {
	return poolfile.NewFromConfig(cfg, env, Config{Options: poolfile.Options{CheckCmd: DefaultCheckCmd}}, New)
}

// Balancer is an HAProxy balancer.
type Balancer struct{ *poolfile.Balancer }

// New returns an HAProxy Balancer; empty settings get the defaults (check_cmd excepted).
func New(c Config, env balancer.Env) (*Balancer, error) {
	o := c.Options.WithDefaults(DefaultIncludeDir, DefaultReloadCmd)
	if c.StatsSocket == "" {
		c.StatsSocket = DefaultStatsSocket
	}
	if c.DrainTimeout == 0 {
		c.DrainTimeout = 5
	}
	r := &runtime{sock: c.StatsSocket, drain: time.Duration(c.DrainTimeout) * time.Second, env: env, reload: o.ReloadCmd}
	spec := poolfile.Spec{
		Backend:  "haproxy",
		Options:  o,
		PoolPath: func(pool string) string { return path.Join(o.IncludeDir, pool+".cfg") },
		Render:   Render,
		Parse:    Parse,
	}
	if c.StatsSocket != "none" {
		spec.Apply = r.apply
		spec.Reload = r.reloadAndWait
	}
	pb, err := poolfile.New(spec, env)
	if err != nil {
		return nil, err
	}
	return &Balancer{pb}, nil
}

// Header is the first line of every pool file.
const Header = "# This pool was written by Velociraptor.  You probably shouldn't edit it."

// Render returns the pool file: a backend named after the pool with one server per node.
func Render(pool string, nodes []string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\nbackend %s\n  balance roundrobin\n", Header, pool)
	for _, n := range nodes {
		fmt.Fprintf(&b, "  server %s %s\n", n, n)
	}
	return []byte(b.String())
}

var (
	backendRe = regexp.MustCompile(`(?m)^\s*backend\s+(\S+)`)
	serverRe  = regexp.MustCompile(`(?m)^\s*server\s+\S+\s+(\S+)`)
)

// Parse returns the nodes (server addresses) of a pool file.
func Parse(pool string, data []byte) ([]string, error) {
	m := backendRe.FindSubmatch(data)
	if m == nil || string(m[1]) != pool {
		return nil, fmt.Errorf("no `backend %s` section", pool)
	}
	nodes := []string{}
	for _, s := range serverRe.FindAllSubmatch(data, -1) {
		nodes = append(nodes, string(s[1]))
	}
	return balancer.Sorted(nodes), nil
}

// runtime speaks HAProxy's runtime API on a balancer host.
type runtime struct {
	sock   string
	drain  time.Duration
	env    balancer.Env
	reload string
}

// errUnreachable means the runtime API could not be used (no socket, no socat).
type errUnreachable struct{ err error }

func (e errUnreachable) Error() string { return "runtime API unreachable: " + e.err.Error() }

// cmd sends one command and returns HAProxy's answer.
func (r *runtime) cmd(ctx context.Context, t transport.Transport, line string) (string, error) {
	res, err := t.Run(ctx, transport.Cmd{
		Argv:  []string{"socat", "-t", "5", "-", "UNIX-CONNECT:" + r.sock},
		Stdin: strings.NewReader(line + "\n"),
	})
	if err != nil {
		return "", errUnreachable{err}
	}
	return strings.TrimSpace(string(res.Stdout)), nil
}

// Maintenance bits of srv_admin_state (forced, inherited, configured, resolution).
const maintMask = 0x01 | 0x02 | 0x04 | 0x20

// state returns the running servers of backend pool: server name → in maintenance. found is
// false when the running process has no such backend.
func (r *runtime) state(ctx context.Context, t transport.Transport, pool string) (servers map[string]bool, found bool, err error) {
	out, err := r.cmd(ctx, t, "show servers state "+pool)
	if err != nil {
		return nil, false, err
	}
	if strings.Contains(out, "Can't find backend") {
		return nil, false, nil
	}
	servers = map[string]bool{}
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) < 7 || strings.HasPrefix(l, "#") || f[1] != pool {
			continue
		}
		admin, err := strconv.Atoi(f[6])
		if err != nil {
			return nil, false, fmt.Errorf("runtime API: unexpected line %q", l)
		}
		servers[f[3]] = admin&maintMask != 0
	}
	if len(servers) == 0 && !strings.HasPrefix(out, "1") {
		// The first line of a good answer is the format version ("1").
		return nil, false, fmt.Errorf("runtime API: unexpected answer %q", out)
	}
	return servers, true, nil
}

// active returns the sorted names of the servers not in maintenance.
func active(servers map[string]bool) []string {
	out := []string{}
	for n, maint := range servers {
		if !maint {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

// apply changes the running backend to next through the runtime API; false means a reload
// is needed (new pool, or no runtime API).
func (r *runtime) apply(ctx context.Context, t transport.Transport, pool string, _, next []string, created bool) (bool, error) {
	if created {
		return false, nil
	}
	servers, found, err := r.state(ctx, t, pool)
	if _, ok := err.(errUnreachable); ok { //nolint:errorlint // our own unwrapped type
		r.env.Warnf("haproxy: host %s: %v; reloading instead", t.Host(), err)
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if !found {
		return false, nil
	}
	expect := func(line string, ok ...string) error {
		out, err := r.cmd(ctx, t, line)
		if err != nil {
			return err
		}
		for _, o := range ok {
			if out == o {
				return nil
			}
		}
		return fmt.Errorf("runtime API: %s: %s", line, out)
	}
	for _, n := range next {
		maint, present := servers[n]
		if !present {
			if err := expect(fmt.Sprintf("add server %s/%s %s", pool, n, n), "New server registered."); err != nil {
				return false, err
			}
		}
		if !present || maint {
			if err := expect(fmt.Sprintf("enable server %s/%s", pool, n), ""); err != nil {
				return false, err
			}
		}
	}
	var gone []string
	for n, maint := range servers {
		if slices.Contains(next, n) {
			continue
		}
		gone = append(gone, n)
		if !maint {
			// Maintenance: no new requests; those in flight finish.
			if err := expect(fmt.Sprintf("disable server %s/%s", pool, n), ""); err != nil {
				return false, err
			}
		}
	}
	if got, _, err := r.state(ctx, t, pool); err != nil {
		return false, err
	} else if !slices.Equal(active(got), next) {
		return false, fmt.Errorf("runtime API: backend %s serves %v after the update, want %v", pool, active(got), next)
	}
	// Delete the retired servers once their connections are gone.
	for _, n := range gone {
		if err := r.delete(ctx, t, pool, n); err != nil {
			r.env.Warnf("haproxy: host %s: server %s/%s stays in maintenance in the running process (gets no traffic; gone at the next reload): %v", t.Host(), pool, n, err)
		}
	}
	return true, nil
}

// delete retries `del server` until the server has no connections left or the drain timeout.
func (r *runtime) delete(ctx context.Context, t transport.Transport, pool, n string) error {
	deadline := time.Now().Add(r.drain)
	for {
		out, err := r.cmd(ctx, t, fmt.Sprintf("del server %s/%s", pool, n))
		if err != nil {
			return err
		}
		if out == "Server deleted." {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("del server: %s", out)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// reloadAndWait runs reload_cmd, then waits (at most 10 s) until the running process serves
// the pool as written, so that the update returns once the new configuration is live.
func (r *runtime) reloadAndWait(ctx context.Context, t transport.Transport, pool string, next []string, removed bool) error {
	if _, err := poolfile.Shell(ctx, t, r.reload); err != nil {
		return err
	}
	start := time.Now()
	deadline := start.Add(10 * time.Second)
	resent := 0
	for {
		servers, found, err := r.state(ctx, t, pool)
		last := fmt.Sprintf("running: backend present %t, servers in service %v, error %v", found, active(servers), err)
		if _, ok := err.(errUnreachable); ok && time.Now().After(deadline) { //nolint:errorlint // our own unwrapped type
			r.env.Warnf("haproxy: host %s: %v; not waiting for the reload", t.Host(), err)
			return nil
		}
		if err == nil && found != removed && (removed || slices.Equal(active(servers), next)) {
			return nil
		}
		// A reload signal that reaches the master while it is still re-executing itself can
		// be lost: send it again after 3 and 6 seconds (reloading is idempotent).
		if n := int(time.Since(start) / (3 * time.Second)); n > resent && n <= 2 {
			resent = n
			if _, err := poolfile.Shell(ctx, t, r.reload); err != nil {
				return err
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("haproxy does not serve the new configuration of backend %s 10s after reload (%s; see its log)", pool, last)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

var (
	_ balancer.Balancer    = (*Balancer)(nil)
	_ balancer.PoolDeleter = (*Balancer)(nil)
)
