// Package containertest has a fake container.Backend for the tests of packages that run
// containers (runner, builder, imager): it validates and records the specs it is given
// and lets the test play the process, without root or LXC.
package containertest

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/vr-paas/vr/pkg/container"
)

// Handler plays a process: it gets the container's spec, the process (spec.Process for
// Run) and the streams, and returns the exit code, as a real process would.
type Handler func(ctx context.Context, spec container.Spec, p container.Process, s container.Streams) (int, error)

// Backend is a fake container.Backend. The zero value runs every process with exit code 0
// and no output. It is safe for concurrent use.
type Backend struct {
	// Handler, when set, plays every process.
	Handler Handler

	mu      sync.Mutex
	specs   []container.Spec
	execs   []container.Process
	cleaned []string
	running map[string]bool
}

var _ container.Backend = (*Backend)(nil)

// Specs returns the specs given to Run and Start, in order.
func (b *Backend) Specs() []container.Spec {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.specs)
}

// Processes returns every process run, by Run or Exec, in order.
func (b *Backend) Processes() []container.Process {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.execs)
}

// Cleaned returns the names given to Cleanup, in order.
func (b *Backend) Cleaned() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.cleaned)
}

// SetRunning marks a container as running (a leftover of a killed runner, say), so that
// Run and Start of that name fail with container.ErrExists until Cleanup.
func (b *Backend) SetRunning(name string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.running == nil {
		b.running = map[string]bool{}
	}
	b.running[name] = true
}

// Run implements container.Backend.
func (b *Backend) Run(ctx context.Context, spec container.Spec, s container.Streams) (int, error) {
	c, err := b.start(spec)
	if err != nil {
		return -1, err
	}
	defer c.Destroy(ctx)
	return c.Exec(ctx, spec.Process, s)
}

// Start implements container.Backend.
func (b *Backend) Start(ctx context.Context, spec container.Spec) (container.Container, error) {
	return b.start(spec)
}

func (b *Backend) start(spec container.Spec) (*Container, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.running[spec.Name] {
		return nil, fmt.Errorf("start container %q: %w", spec.Name, container.ErrExists)
	}
	if b.running == nil {
		b.running = map[string]bool{}
	}
	b.running[spec.Name] = true
	b.specs = append(b.specs, spec)
	return &Container{b: b, spec: spec.WithDefaults()}, nil
}

// Cleanup implements container.Backend.
func (b *Backend) Cleanup(ctx context.Context, name string) error {
	if err := container.ValidateName(name); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.running, name)
	b.cleaned = append(b.cleaned, name)
	return nil
}

// Leftovers implements container.Backend: a running container is the only thing a fake
// leaves.
func (b *Backend) Leftovers(ctx context.Context, name string) ([]string, error) {
	if err := container.ValidateName(name); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.running[name] {
		return []string{"container " + name + " running"}, nil
	}
	return nil, nil
}

// Container is a started fake container.
type Container struct {
	b    *Backend
	spec container.Spec

	mu        sync.Mutex
	destroyed bool
}

// Name implements container.Container.
func (c *Container) Name() string { return c.spec.Name }

// Exec implements container.Container.
func (c *Container) Exec(ctx context.Context, p container.Process, s container.Streams) (int, error) {
	if err := p.Validate(c.spec.Name); err != nil {
		return -1, err
	}
	c.mu.Lock()
	destroyed := c.destroyed
	c.mu.Unlock()
	if destroyed {
		return -1, fmt.Errorf("container %q: destroyed: %w", c.spec.Name, container.ErrNotFound)
	}
	c.b.mu.Lock()
	c.b.execs = append(c.b.execs, p)
	h := c.b.Handler
	c.b.mu.Unlock()
	if h == nil {
		return 0, nil
	}
	return h(ctx, c.spec, p.WithDefaults(), s)
}

// Destroy implements container.Container.
func (c *Container) Destroy(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.destroyed {
		return nil
	}
	c.destroyed = true
	c.b.mu.Lock()
	delete(c.b.running, c.spec.Name)
	c.b.mu.Unlock()
	return nil
}
