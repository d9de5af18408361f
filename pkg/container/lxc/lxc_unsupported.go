//go:build !linux || !cgo

package lxc

import (
	"context"
	"fmt"

	"github.com/vr-paas/vr/pkg/container"
)

// errUnsupported is what every entry point returns in this build.
var errUnsupported = fmt.Errorf("lxc backend needs linux and cgo (liblxc): %w", container.ErrUnsupported)

// Backend is the LXC backend; in this build (no Linux or no cgo) it cannot run anything.
type Backend struct{}

var _ container.Backend = (*Backend)(nil)

// New returns container.ErrUnsupported: this build has no liblxc.
func New(Options) (*Backend, error) { return nil, errUnsupported }

// LXCPath returns "" in this build.
func (b *Backend) LXCPath() string { return "" }

// HostInfo returns the zero HostInfo in this build.
func (b *Backend) HostInfo() container.HostInfo { return container.HostInfo{} }

// CgroupDirs returns nil in this build.
func (b *Backend) CgroupDirs(string) []string { return nil }

// PayloadCgroupDirs returns nil in this build.
func (b *Backend) PayloadCgroupDirs(string) []string { return nil }

// Run returns container.ErrUnsupported.
func (b *Backend) Run(context.Context, container.Spec, container.Streams) (int, error) {
	return -1, errUnsupported
}

// Start returns container.ErrUnsupported.
func (b *Backend) Start(context.Context, container.Spec) (container.Container, error) {
	return nil, errUnsupported
}

// Cleanup returns container.ErrUnsupported.
func (b *Backend) Cleanup(context.Context, string) error { return errUnsupported }

// Leftovers returns container.ErrUnsupported.
func (b *Backend) Leftovers(context.Context, string) ([]string, error) { return nil, errUnsupported }
