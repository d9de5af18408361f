package balancer

import (
	"context"

	"github.com/vr-paas/vr/pkg/transport"
)

// Balancer manages the member nodes ("host:port") of named pools.
//
// Contract, for every backend:
//   - Nodes returns the pool's nodes sorted and without duplicates, and an empty list (not an
//     error) when the pool does not exist.
//   - AddNodes creates the pool when it is missing; adding nodes that are already members
//     changes nothing.
//   - DeleteNodes succeeds when the pool or some of the nodes do not exist.
//   - Pool names and nodes are validated first; an invalid one is an error whose BadInput()
//     is true, and nothing is changed.
//   - Methods may be called concurrently, also from several processes and machines: updates of
//     one pool are serialised (a lock on each balancer host), so no update is lost.
type Balancer interface {
	Nodes(ctx context.Context, pool string) ([]string, error)
	AddNodes(ctx context.Context, pool string, nodes []string) error
	DeleteNodes(ctx context.Context, pool string, nodes []string) error
}

// PoolDeleter is implemented by balancers that can remove a pool. Deleting a missing pool is
// not an error. A file-based balancer refuses (and keeps the pool) when the balancer's own
// configuration still refers to the pool, since its validator then fails.
type PoolDeleter interface {
	DeletePool(ctx context.Context, pool string) error
}

// Env is what the caller lends a backend.
type Env struct {
	// Dial opens balancer hosts. Nil means: the backend's own configuration decides (the
	// local machine for "localhost", SSH for every other host).
	Dial transport.DialFunc
	// Warn receives non-fatal problems (balancer hosts that disagree about a pool, a server
	// that could not be removed from a running process yet). Nil discards them.
	Warn func(msg string)
}

// Warnf sends a formatted warning to e.Warn, if set.
func (e Env) Warnf(format string, args ...any) {
	if e.Warn != nil {
		e.Warn(sprintf(format, args...))
	}
}

// Factory builds Balancers of one backend from their configuration blocks.
type Factory interface {
	// Name is the backend's short name ("nginx"), accepted as BACKEND.
	Name() string
	// Aliases are the other BACKEND values accepted for it (the original's dotted class paths).
	Aliases() []string
	// New checks cfg.Options and returns a Balancer. Configuration errors are BadInput errors
	// naming the file, line and key.
	New(cfg Config, env Env) (Balancer, error)
}
