package builder

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"time"

	"github.com/vr-paas/vr/pkg/container"
)

// Defaults of Options. They are documented in README.md (## vbuild) and in vbuild's --help.
const (
	// DefaultUser is the user the buildpack runs as.
	DefaultUser = "nobody"
	// DefaultMemory is the memory limit of the build container (bytes): 2 GiB.
	DefaultMemory = 2 << 30
	// DefaultPids is the limit on processes (tasks) in the build container.
	DefaultPids = 1024
	// DefaultCPUShares is the build container's CPU weight (cgroup v1 cpu.shares; the
	// kernel's default is 1024), so that builds yield to the host's procs under load.
	DefaultCPUShares = 512
	// DefaultTimeout is the wall-clock limit of detect + compile + release.
	DefaultTimeout = 30 * time.Minute
	// DefaultLockTimeout is how long a build waits for another build of the same app (or a
	// checkout of the same repository) to finish.
	DefaultLockTimeout = time.Hour
	// DefaultStopTimeout is the grace period between SIGTERM and SIGKILL when a build is
	// stopped (interrupted or timed out).
	DefaultStopTimeout = 10 * time.Second
)

// Options configure Build, Shell and PurgeCache.
type Options struct {
	// Root is VR_ROOT: checkouts, caches and locks go under Root/builder, images under
	// Root/images.
	Root string
	// Backend runs the build container (pkg/container/lxc on real hosts).
	Backend container.Backend
	// OutputDir receives build.tar.gz, build_result.yaml and compile.log ("" = ".").
	OutputDir string

	// User is the user the buildpack runs as: a name (looked up in the image's /etc/passwd,
	// or the host's without an image), a uid, or uid:gid. Root is refused. Default nobody.
	User string
	// Limits are the build container's cgroup limits. Zero fields get the defaults above;
	// a negative field means no limit.
	Limits container.Limits
	// Timeout is the wall-clock limit of detect, compile and release together (default
	// DefaultTimeout; negative: none).
	Timeout time.Duration
	// LockTimeout bounds the wait for a concurrent build of the same app (default
	// DefaultLockTimeout).
	LockTimeout time.Duration
	// StopTimeout is the grace period between SIGTERM and SIGKILL (default
	// DefaultStopTimeout).
	StopTimeout time.Duration
	// Network is the build container's network (default container.NetworkHost: buildpacks
	// download what they need).
	Network container.Network

	// Log receives the step lines and the compile output as it happens (nil: discarded).
	Log io.Writer
	// Progress, when set, receives progress output of checkouts and downloads (vbuild sets
	// it on a terminal).
	Progress io.Writer
	// HTTPClient fetches images and probes buildpack URLs (nil: defaults).
	HTTPClient *http.Client

	// In, Out, Err and TTY are the interactive shell's streams (Shell, and Build with
	// ShellOnFailure). With TTY the shell gets a pseudo-terminal.
	In       io.Reader
	Out, Err io.Writer
	TTY      bool
	// Term is the shell's TERM (the caller's), when set.
	Term string
	// ShellOnFailure opens the shell in the build container when compile fails, before
	// the failure is reported.
	ShellOnFailure bool
}

// withDefaults returns o with the documented defaults filled in.
func (o Options) withDefaults() (Options, error) {
	if o.Root == "" {
		return o, errors.New("builder: Options.Root is empty")
	}
	if o.Backend == nil {
		return o, errors.New("builder: Options.Backend is nil")
	}
	root, err := filepath.Abs(o.Root)
	if err != nil {
		return o, err
	}
	o.Root = root
	if o.OutputDir == "" {
		o.OutputDir = "."
	}
	if o.OutputDir, err = filepath.Abs(o.OutputDir); err != nil {
		return o, err
	}
	if o.User == "" {
		o.User = DefaultUser
	}
	o.Limits.Memory = orDefault(o.Limits.Memory, DefaultMemory)
	o.Limits.Pids = orDefault(o.Limits.Pids, DefaultPids)
	o.Limits.CPUShares = orDefault(o.Limits.CPUShares, DefaultCPUShares)
	if o.Limits.MemorySwap < 0 {
		o.Limits.MemorySwap = 0
	}
	if o.Limits.MemorySwap > 0 && o.Limits.Memory > 0 && o.Limits.MemorySwap < o.Limits.Memory {
		return o, fmt.Errorf("memory+swap limit %d is below the memory limit %d", o.Limits.MemorySwap, o.Limits.Memory)
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.LockTimeout <= 0 {
		o.LockTimeout = DefaultLockTimeout
	}
	if o.StopTimeout <= 0 {
		o.StopTimeout = DefaultStopTimeout
	}
	if o.Network == "" {
		o.Network = container.NetworkHost
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	return o, nil
}

func orDefault(v, def int64) int64 {
	switch {
	case v == 0:
		return def
	case v < 0:
		return 0
	}
	return v
}
