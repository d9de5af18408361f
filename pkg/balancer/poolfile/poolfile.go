// Package poolfile is the engine shared by the file-based balancer backends (nginx, Varnish,
// HAProxy, Apache): one file per pool on every balancer host, rendered and parsed by the
// backend's Spec.
//
// An update of a pool on a host runs under a lock on that host (flock on
// <include_dir>/.<pool>.vr-lock), so concurrent updates from any number of processes and
// machines never lose a node: read the pool file, compute the new node set, and, under a
// second host-wide lock (<include_dir>/.vr-reload.lock) that keeps validation and reloads of
// different pools apart, write the file atomically, update shared files (Varnish's include
// file), run the validator (check_cmd), and make the service take the new configuration
// (the backend's Apply, or reload_cmd). When any step fails the previous file (and shared
// files) are put back and the error names the host and carries the validator's or reload
// command's message. Finally the pool file is read back and compared.
//
// Balancer hosts are updated in parallel and independently: each converges on its own
// node set, and one host failing does not stop or undo the others. The error then names every
// host that failed (those keep their previous, valid configuration) and repeating the same
// call finishes the job, since adds and deletes are idempotent.
package poolfile

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vr-paas/vr/pkg/balancer"
	"github.com/vr-paas/vr/pkg/transport"
	"github.com/vr-paas/vr/pkg/transport/local"
	"github.com/vr-paas/vr/pkg/transport/ssh"
)

// Options are the settings every file-based backend accepts; backends embed them inline in
// their Config. The first six are the original's; the others are new.
type Options struct {
	User       string   `yaml:"user"`        // SSH user (default: the current user)
	Password   string   `yaml:"password"`    // SSH password (sudo must be passwordless)
	Hosts      []string `yaml:"hosts"`       // balancer hosts (default [localhost]); "host:port" for another SSH port
	TmpDir     string   `yaml:"tmpdir"`      // accepted for compatibility; temporary files go next to their target
	IncludeDir string   `yaml:"include_dir"` // where pool files are written
	ReloadCmd  string   `yaml:"reload_cmd"`  // shell command that makes the service load its new configuration

	CheckCmd              string `yaml:"check_cmd"`                // shell command that validates the configuration ("" = none)
	Port                  int    `yaml:"port"`                     // SSH port (default 22)
	KeyFile               string `yaml:"key_file"`                 // SSH private key (default: agent, ~/.ssh/id_*)
	KnownHosts            string `yaml:"known_hosts"`              // known_hosts file (default ~/.ssh/known_hosts)
	InsecureIgnoreHostKey bool   `yaml:"insecure_ignore_host_key"` // accept any host key (the original's behaviour)
	Sudo                  *bool  `yaml:"sudo"`                     // run commands and file writes with sudo -n (default: when user is not root)
	ConnectTimeout        int    `yaml:"connect_timeout"`          // seconds (default 10)
	CommandTimeout        int    `yaml:"command_timeout"`          // seconds per command (default 120)
	LockTimeout           int    `yaml:"lock_timeout"`             // seconds to wait for a pool's lock (default 60)
}

// DefaultLockTimeout is how long an update waits for a pool's lock by default.
const DefaultLockTimeout = 60 * time.Second

// SSHConfig returns the SSH settings of o.
func (o Options) SSHConfig() ssh.Config {
	c := ssh.Config{
		User:                  o.User,
		Password:              o.Password,
		Port:                  o.Port,
		InsecureIgnoreHostKey: o.InsecureIgnoreHostKey,
		ConnectTimeout:        time.Duration(o.ConnectTimeout) * time.Second,
		CommandTimeout:        time.Duration(o.CommandTimeout) * time.Second,
	}
	if o.KeyFile != "" {
		c.KeyFiles = []string{o.KeyFile}
	}
	if o.KnownHosts != "" {
		c.KnownHosts = []string{o.KnownHosts}
	}
	user := o.User
	if user == "" {
		user = os.Getenv("USER")
	}
	c.Sudo = user != "" && user != "root"
	if o.Sudo != nil {
		c.Sudo = *o.Sudo
	}
	return c
}

// Dialer returns how hosts are reached: the local machine for "localhost" (without SSH),
// SSH with o's settings for every other host.
func (o Options) Dialer() transport.DialFunc {
	sshDial := ssh.Dialer(o.SSHConfig())
	return func(ctx context.Context, host string) (transport.Transport, error) {
		if host == "localhost" {
			return local.New(), nil
		}
		return sshDial(ctx, host)
	}
}

// Spec is what a backend tells the engine.
type Spec struct {
	Backend string  // short name, for messages ("nginx")
	Options Options // with the backend's defaults applied

	// PoolPath is the path of a pool's file on a balancer host.
	PoolPath func(pool string) string
	// Render returns the file for a pool with the given (sorted) nodes. An empty pool must
	// render a valid configuration.
	Render func(pool string, nodes []string) []byte
	// Parse returns the nodes of a pool file.
	Parse func(pool string, data []byte) ([]string, error)
	// ValidatePool adds the backend's own rules for pool names (nil: none).
	ValidatePool func(pool string) error
	// Shared, if set, updates files shared by every pool after the pool's file was written
	// (present) or removed (!present), and returns how to put them back.
	Shared func(ctx context.Context, t transport.Transport, pool string, present bool) (undo func(context.Context) error, err error)
	// Apply, if set, runs after validation and may make the running service take the change
	// itself (HAProxy's runtime API); when it returns false, reload_cmd runs. After an Apply
	// error the previous files are put back and reload_cmd runs to resynchronise.
	Apply func(ctx context.Context, t transport.Transport, pool string, old, next []string, created bool) (bool, error)
	// Reload, if set, runs instead of reload_cmd (it usually wraps it, to wait until the
	// service really serves the new configuration of pool: next, or no pool when removed).
	Reload func(ctx context.Context, t transport.Transport, pool string, next []string, removed bool) error
}

// Balancer is a file-based balancer.
type Balancer struct {
	spec Spec
	dial transport.DialFunc
	env  balancer.Env
}

// New returns the Balancer of spec. Hosts default to [localhost].
func New(spec Spec, env balancer.Env) (*Balancer, error) {
	if len(spec.Options.Hosts) == 0 {
		spec.Options.Hosts = []string{"localhost"}
	}
	if spec.Options.IncludeDir == "" {
		return nil, fmt.Errorf("%s: include_dir is empty", spec.Backend)
	}
	seen := map[string]bool{}
	for _, h := range spec.Options.Hosts {
		if h == "" || seen[h] {
			return nil, fmt.Errorf("%s: hosts: empty or repeated host %q", spec.Backend, h)
		}
		seen[h] = true
	}
	dial := env.Dial
	if dial == nil {
		dial = spec.Options.Dialer()
	}
	return &Balancer{spec: spec, dial: dial, env: env}, nil
}

// Hosts returns the balancer hosts.
func (b *Balancer) Hosts() []string { return slices.Clone(b.spec.Options.Hosts) }

func (b *Balancer) checkPool(pool string) error {
	if err := balancer.ValidatePool(pool); err != nil {
		return err
	}
	if b.spec.ValidatePool != nil {
		return b.spec.ValidatePool(pool)
	}
	return nil
}

func (b *Balancer) lockPath(pool string) string {
	return path.Join(b.spec.Options.IncludeDir, "."+pool+".vr-lock")
}

func (b *Balancer) reloadLockPath() string {
	return path.Join(b.spec.Options.IncludeDir, ".vr-reload.lock")
}

// eachHost runs f for every host in parallel and joins the errors.
func (b *Balancer) eachHost(ctx context.Context, f func(ctx context.Context, i int, t transport.Transport) error) error {
	hosts := b.spec.Options.Hosts
	errs := make([]error, len(hosts))
	var wg sync.WaitGroup
	for i, h := range hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t, err := b.dial(ctx, h)
			if err != nil {
				errs[i] = fmt.Errorf("%s: host %s: %w", b.spec.Backend, h, err)
				return
			}
			defer t.Close()
			if err := f(ctx, i, t); err != nil {
				errs[i] = fmt.Errorf("%s: host %s: %w", b.spec.Backend, h, err)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// read returns the nodes in a pool file on t and whether the file exists.
func (b *Balancer) read(ctx context.Context, t transport.Transport, pool string) (data []byte, nodes []string, exists bool, err error) {
	p := b.spec.PoolPath(pool)
	data, err = t.ReadFile(ctx, p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, []string{}, false, nil
	}
	if err != nil {
		return nil, nil, false, err
	}
	nodes, err = b.spec.Parse(pool, data)
	if err != nil {
		return nil, nil, false, fmt.Errorf("pool file %s: %w", p, err)
	}
	return data, balancer.Sorted(nodes), true, nil
}

// Nodes returns the union of the pool's nodes on every host, and warns when hosts disagree.
func (b *Balancer) Nodes(ctx context.Context, pool string) ([]string, error) {
	if err := b.checkPool(pool); err != nil {
		return nil, err
	}
	hosts := b.spec.Options.Hosts
	per := make([][]string, len(hosts))
	err := b.eachHost(ctx, func(ctx context.Context, i int, t transport.Transport) error {
		_, nodes, _, err := b.read(ctx, t, pool)
		per[i] = nodes
		return err
	})
	if err != nil {
		return nil, err
	}
	all := []string{}
	for _, n := range per {
		all = balancer.Union(all, n)
	}
	for i, n := range per {
		if !slices.Equal(n, all) {
			b.env.Warnf("%s: host %s has nodes %v for pool %s, but other hosts have %v", b.spec.Backend, hosts[i], n, pool, all)
		}
	}
	return all, nil
}

// op computes a host's next node set from its current one; ok false means nothing to do.
type op struct {
	name   string
	change func(cur []string, exists bool) (next []string, ok bool)
	remove bool // delete the pool file instead of writing it
}

// AddNodes adds nodes to the pool on every host (creating the pool file where missing).
func (b *Balancer) AddNodes(ctx context.Context, pool string, nodes []string) error {
	if err := b.checkPool(pool); err != nil {
		return err
	}
	if err := balancer.ValidateNodes(nodes); err != nil {
		return err
	}
	return b.update(ctx, pool, op{name: "add nodes", change: func(cur []string, exists bool) ([]string, bool) {
		next := balancer.Union(cur, nodes)
		return next, !exists || !slices.Equal(cur, next)
	}})
}

// DeleteNodes removes nodes from the pool on every host.
func (b *Balancer) DeleteNodes(ctx context.Context, pool string, nodes []string) error {
	if err := b.checkPool(pool); err != nil {
		return err
	}
	if err := balancer.ValidateNodes(nodes); err != nil {
		return err
	}
	return b.update(ctx, pool, op{name: "delete nodes", change: func(cur []string, exists bool) ([]string, bool) {
		next := balancer.Subtract(cur, nodes)
		return next, exists && !slices.Equal(cur, next)
	}})
}

// DeletePool removes the pool's file from every host. When the service's configuration still
// refers to the pool, validation fails and the file is put back.
func (b *Balancer) DeletePool(ctx context.Context, pool string) error {
	if err := b.checkPool(pool); err != nil {
		return err
	}
	return b.update(ctx, pool, op{name: "delete pool", remove: true, change: func(_ []string, exists bool) ([]string, bool) {
		return []string{}, exists
	}})
}

func (b *Balancer) update(ctx context.Context, pool string, o op) error {
	return b.eachHost(ctx, func(ctx context.Context, _ int, t transport.Transport) error {
		return b.updateHost(ctx, t, pool, o)
	})
}

// lock takes a lock on t with the configured timeout and a clear message when it expires.
func (b *Balancer) lock(ctx context.Context, t transport.Transport, p, what string) (transport.Unlocker, error) {
	timeout := DefaultLockTimeout
	if s := b.spec.Options.LockTimeout; s > 0 {
		timeout = time.Duration(s) * time.Second
	}
	lctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	u, err := t.Lock(lctx, p)
	if err != nil {
		if ctx.Err() == nil && errors.Is(lctx.Err(), context.DeadlineExceeded) {
			return nil, fmt.Errorf("%s is locked by another update (waited %s for %s)", what, timeout, p)
		}
		return nil, fmt.Errorf("lock %s: %w", what, err)
	}
	return u, nil
}

func (b *Balancer) updateHost(ctx context.Context, t transport.Transport, pool string, o op) error {
	u, err := b.lock(ctx, t, b.lockPath(pool), "pool "+pool)
	if err != nil {
		return err
	}
	defer u.Unlock()

	old, cur, exists, err := b.read(ctx, t, pool)
	if err != nil {
		return err
	}
	next, ok := o.change(cur, exists)
	if !ok {
		return nil
	}
	if err := b.apply(ctx, t, pool, o, old, cur, next, exists); err != nil {
		return fmt.Errorf("pool %s: %s: %w", pool, o.name, err)
	}

	// Read back what the host now has.
	_, got, gotExists, err := b.read(ctx, t, pool)
	if err != nil {
		return fmt.Errorf("pool %s: read back: %w", pool, err)
	}
	if gotExists == o.remove || !slices.Equal(got, next) {
		return fmt.Errorf("pool %s: read back %v (file present: %t) after writing %v: another program changed %s", pool, got, gotExists, next, b.spec.PoolPath(pool))
	}
	return nil
}

// apply writes (or removes) the pool file, validates and reloads under the host-wide lock,
// and puts the previous files back on failure.
func (b *Balancer) apply(ctx context.Context, t transport.Transport, pool string, o op, old []byte, cur, next []string, existed bool) (err error) {
	u, err := b.lock(ctx, t, b.reloadLockPath(), "reload of "+b.spec.Backend)
	if err != nil {
		return err
	}
	defer u.Unlock()

	p := b.spec.PoolPath(pool)
	var undoShared func(context.Context) error
	restore := func() error {
		// Put things back even when ctx was cancelled: a half-applied change is worse.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		var errs []error
		if existed {
			errs = append(errs, t.WriteFile(rctx, p, old, 0o644))
		} else {
			errs = append(errs, t.Remove(rctx, p))
		}
		if undoShared != nil {
			errs = append(errs, undoShared(rctx))
		}
		if e := errors.Join(errs...); e != nil {
			return fmt.Errorf("putting the previous files back also failed: %w", e)
		}
		return nil
	}
	fail := func(format string, args ...any) error {
		e := fmt.Errorf(format, args...)
		if rerr := restore(); rerr != nil {
			return fmt.Errorf("%w; %w", e, rerr)
		}
		return fmt.Errorf("%w; previous configuration put back", e)
	}

	if o.remove {
		err = t.Remove(ctx, p)
	} else {
		err = t.WriteFile(ctx, p, b.spec.Render(pool, next), 0o644)
	}
	if err != nil {
		return fail("%w", err)
	}
	if b.spec.Shared != nil {
		undoShared, err = b.spec.Shared(ctx, t, pool, !o.remove)
		if err != nil {
			return fail("%w", err)
		}
	}
	if c := b.spec.Options.CheckCmd; c != "" {
		if _, err := Shell(ctx, t, c); err != nil {
			return fail("configuration check `%s` failed: %s", c, Message(err))
		}
	}
	done := false
	if b.spec.Apply != nil {
		done, err = b.spec.Apply(ctx, t, pool, cur, next, !existed)
		if err != nil {
			e := fail("%w", err)
			if rerr := b.reload(ctx, t, pool, cur, !existed); rerr != nil {
				e = fmt.Errorf("%w; %w", e, rerr)
			}
			return e
		}
	}
	if !done {
		if err := b.reload(ctx, t, pool, next, o.remove); err != nil {
			return fail("%w", err)
		}
	}
	return nil
}

// reload makes the service on t load its configuration (Spec.Reload, or reload_cmd).
func (b *Balancer) reload(ctx context.Context, t transport.Transport, pool string, next []string, removed bool) error {
	r := b.spec.Options.ReloadCmd
	if b.spec.Reload != nil {
		if err := b.spec.Reload(ctx, t, pool, next, removed); err != nil {
			return fmt.Errorf("reload `%s` failed: %s", r, Message(err))
		}
		return nil
	}
	if r == "" {
		return nil
	}
	if _, err := Shell(ctx, t, r); err != nil {
		return fmt.Errorf("reload `%s` failed: %s", r, Message(err))
	}
	return nil
}

// Shell runs a shell command line on t.
func Shell(ctx context.Context, t transport.Transport, line string) (transport.Result, error) {
	return t.Run(ctx, transport.Cmd{Argv: []string{"sh", "-c", line}})
}

// Message returns the output of a failed command (the validator's message) with its exit
// status, or the error's text.
func Message(err error) string {
	var re *transport.RunError
	if errors.As(err, &re) {
		out := strings.Join(strings.Fields(re.Output()), " ")
		if out == "" {
			out = "no output"
		}
		return fmt.Sprintf("exit status %d: %s", re.ExitCode, out)
	}
	return err.Error()
}

var (
	_ balancer.Balancer    = (*Balancer)(nil)
	_ balancer.PoolDeleter = (*Balancer)(nil)
)
