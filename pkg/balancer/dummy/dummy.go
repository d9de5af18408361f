// Package dummy is the balancer backend that routes nothing: it keeps pools in a local state
// file, so that swarms with a pool work in development and tests. Unlike the original's
// DummyBalancer, which forgot everything between calls, the pools persist (state_file,
// default /var/lib/vr/balancer-<name>.json), and concurrent updates are serialised with a
// lock file next to it.
package dummy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/vr-paas/vr/pkg/balancer"
	"github.com/vr-paas/vr/pkg/flock"
	"github.com/vr-paas/vr/pkg/schema"
)

// Config holds the dummy backend's settings.
type Config struct {
	// StateFile is where the pools are kept (default /var/lib/vr/balancer-<name>.json).
	StateFile string `yaml:"state_file"`
}

// Factory builds dummy balancers.
type Factory struct{}

// Name returns "dummy".
func (Factory) Name() string { return "dummy" }

// Aliases returns the original's class paths.
func (Factory) Aliases() []string {
	return []string{"vr.common.balancer.dummy.DummyBalancer", "vr.server.balancer.dummy.DummyBalancer"}
}

// New decodes the options of cfg.
func (Factory) New(cfg balancer.Config, env balancer.Env) (balancer.Balancer, error) {
	var c Config
	if err := balancer.DecodeOptions(cfg, &c); err != nil {
		return nil, err
	}
	if c.StateFile == "" {
		c.StateFile = filepath.Join("/var/lib/vr", "balancer-"+cfg.Name+".json")
	}
	return New(c, env), nil
}

// Balancer keeps pools in a JSON file: {"pools": {"<pool>": ["host:port", ...]}}.
type Balancer struct {
	cfg Config
	env balancer.Env
}

// New returns a dummy Balancer over cfg.StateFile.
func New(cfg Config, env balancer.Env) *Balancer { return &Balancer{cfg: cfg, env: env} }

type state struct {
	Pools map[string][]string `json:"pools"`
}

func (b *Balancer) load() (state, error) {
	s := state{Pools: map[string][]string{}}
	data, err := os.ReadFile(b.cfg.StateFile)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return s, fmt.Errorf("dummy balancer: %w", err)
	}
	if err := json.Unmarshal(data, &s); err != nil {
		return s, fmt.Errorf("dummy balancer: %s: %w", b.cfg.StateFile, err)
	}
	if s.Pools == nil {
		s.Pools = map[string][]string{}
	}
	return s, nil
}

// update runs change on the pools under the state file's lock and saves the result.
func (b *Balancer) update(ctx context.Context, change func(s *state) bool) error {
	if err := os.MkdirAll(filepath.Dir(b.cfg.StateFile), 0o755); err != nil {
		return fmt.Errorf("dummy balancer: %w", err)
	}
	l, err := flock.Acquire(ctx, b.cfg.StateFile+".lock")
	if err != nil {
		return fmt.Errorf("dummy balancer: %w", err)
	}
	defer l.Unlock()
	s, err := b.load()
	if err != nil {
		return err
	}
	if !change(&s) {
		return nil
	}
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	if err := schema.WriteFileAtomic(b.cfg.StateFile, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("dummy balancer: %w", err)
	}
	return nil
}

// Nodes returns the pool's nodes, sorted.
func (b *Balancer) Nodes(_ context.Context, pool string) ([]string, error) {
	if err := balancer.ValidatePool(pool); err != nil {
		return nil, err
	}
	s, err := b.load()
	if err != nil {
		return nil, err
	}
	return balancer.Sorted(s.Pools[pool]), nil
}

// AddNodes adds nodes to the pool, creating it.
func (b *Balancer) AddNodes(ctx context.Context, pool string, nodes []string) error {
	if err := balancer.Check(pool, nodes); err != nil {
		return err
	}
	return b.update(ctx, func(s *state) bool {
		old, ok := s.Pools[pool]
		next := balancer.Union(old, nodes)
		if ok && balancer.Equal(old, next) {
			return false
		}
		s.Pools[pool] = next
		b.env.Warnf("Dummy Pool %q: %v", pool, next)
		return true
	})
}

// DeleteNodes removes nodes from the pool.
func (b *Balancer) DeleteNodes(ctx context.Context, pool string, nodes []string) error {
	if err := balancer.Check(pool, nodes); err != nil {
		return err
	}
	return b.update(ctx, func(s *state) bool {
		old, ok := s.Pools[pool]
		if !ok {
			return false
		}
		next := balancer.Subtract(old, nodes)
		if balancer.Equal(old, next) {
			return false
		}
		s.Pools[pool] = next
		return true
	})
}

// DeletePool forgets the pool.
func (b *Balancer) DeletePool(ctx context.Context, pool string) error {
	if err := balancer.ValidatePool(pool); err != nil {
		return err
	}
	return b.update(ctx, func(s *state) bool {
		if _, ok := s.Pools[pool]; !ok {
			return false
		}
		delete(s.Pools, pool)
		return true
	})
}

// Pools returns the names of the pools in the state file, sorted.
func (b *Balancer) Pools() ([]string, error) {
	s, err := b.load()
	if err != nil {
		return nil, err
	}
	var names []string
	for n := range s.Pools {
		names = append(names, n)
	}
	sort.Strings(names)
	return names, nil
}

var (
	_ balancer.Balancer    = (*Balancer)(nil)
	_ balancer.PoolDeleter = (*Balancer)(nil)
)
