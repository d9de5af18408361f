package balancer

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/vr-paas/vr/pkg/schema"
)

// Registry maps BACKEND values (short names and aliases) to factories. Build it once with
// NewRegistry and Register (balancer/all does), then use it from any goroutine.
type Registry struct {
	byName    map[string]Factory // short name and aliases
	factories []Factory
}

// NewRegistry returns an empty Registry.
func NewRegistry() *Registry { return &Registry{byName: map[string]Factory{}} }

// Register adds f under its name and aliases. It panics when one of them is already taken,
// a programming error in balancer/all.
func (r *Registry) Register(f Factory) {
	keys := append([]string{f.Name()}, f.Aliases()...)
	for _, k := range keys {
		if k == "" {
			panic("balancer: Register: empty backend name")
		}
		if old, ok := r.byName[k]; ok {
			panic(fmt.Sprintf("balancer: Register: backend %q of %s already registered by %s", k, f.Name(), old.Name()))
		}
	}
	for _, k := range keys {
		r.byName[k] = f
	}
	r.factories = append(r.factories, f)
}

// Names returns the short names of the registered backends, sorted.
func (r *Registry) Names() []string {
	var n []string
	for _, f := range r.factories {
		n = append(n, f.Name())
	}
	sort.Strings(n)
	return n
}

// Lookup returns the factory for a BACKEND value; an unknown one is an error wrapping
// ErrUnknownBackend that lists the known short names.
func (r *Registry) Lookup(backend string) (Factory, error) {
	if f, ok := r.byName[backend]; ok {
		return f, nil
	}
	return nil, fmt.Errorf("%w %q (known: %s)", ErrUnknownBackend, backend, strings.Join(r.Names(), ", "))
}

// Canonical returns the short name for a BACKEND value, or "" when it is unknown.
func (r *Registry) Canonical(backend string) string {
	if f, ok := r.byName[backend]; ok {
		return f.Name()
	}
	return ""
}

// New builds the balancer that cfg describes. Every error is a *schema.Error (bad input)
// naming the file, line and key; an unknown BACKEND wraps ErrUnknownBackend.
func (r *Registry) New(cfg Config, env Env) (Balancer, error) {
	f, err := r.Lookup(cfg.Backend)
	if err != nil {
		return nil, &schema.Error{File: cfg.File, Line: cfg.BackendLine, Key: cfg.Name + ".BACKEND", Msg: err.Error(), Err: err}
	}
	b, err := f.New(cfg, env)
	if err != nil {
		var se *schema.Error
		if errors.As(err, &se) {
			return nil, err
		}
		// New only checks configuration: any other error is about it too.
		return nil, &schema.Error{File: cfg.File, Line: cfg.Line, Key: cfg.Name, Msg: err.Error(), Err: err}
	}
	return b, nil
}
