package container

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"regexp"
	"strings"
	"time"
)

// DefaultStopTimeout is the grace period between SIGTERM and SIGKILL when Run's or Exec's
// context is cancelled and Spec.StopTimeout is zero.
const DefaultStopTimeout = 10 * time.Second

// DefaultPath is the PATH a process gets when its Env has none.
const DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// MaxNameLen is the longest container name accepted. Names end up in cgroup directory
// names and LXC socket paths, which have length limits of their own.
const MaxNameLen = 200

// Network selects the container's network.
type Network string

const (
	// NetworkNone gives the container a new network namespace with only a loopback
	// interface (up). It is the zero value's meaning: isolation unless asked otherwise.
	NetworkNone Network = "none"
	// NetworkHost shares the host's network namespace: a proc listening on a port is
	// reachable at host:port, as in the original Velociraptor.
	NetworkHost Network = "host"
)

// Spec describes one container: what it is made of and the process it runs.
type Spec struct {
	// Name identifies the container on the host (LXC name, cgroup directories). Letters,
	// digits, '.', '_' and '-', starting with a letter or digit; at most MaxNameLen bytes.
	Name string
	// Hostname is the container's host name; empty means Name.
	Hostname string
	// Rootfs is the root filesystem: exactly one of Dir and Overlay.
	Rootfs Rootfs
	// Mounts are bind mounts from the host, mounted in order after the root filesystem.
	Mounts []Mount
	// Process is what Run runs in the container.
	Process
	// Limits caps the resources of every process in the container.
	Limits Limits
	// Network is NetworkHost or NetworkNone ("" means NetworkNone).
	Network Network
	// NoNewPrivs sets no_new_privs for every process of the container, so that setuid and
	// setgid binaries (a host's su, sudo or mount bind-mounted into a build container) cannot
	// raise an unprivileged process's privileges.
	NoNewPrivs bool
	// StopTimeout is the grace period between the SIGTERM sent when the context is
	// cancelled and the SIGKILL that follows; zero means DefaultStopTimeout.
	StopTimeout time.Duration
}

// Rootfs is a container's root filesystem. Set exactly one field.
type Rootfs struct {
	// Dir is a directory used as the root filesystem, read-write. Mount points of Mounts
	// that do not exist are created in it.
	Dir string
	// Overlay layers a writable upper directory over a read-only lower one.
	Overlay *Overlay
}

// Overlay is an overlayfs root filesystem. The lower directory is never written to: every
// change, including the mount points created for Mounts, lands in Upper. The overlay is
// mounted inside the container's own mount namespace, so it disappears with the container.
type Overlay struct {
	// Lower is the read-only lower directory (e.g. an unpacked OS image shared by procs).
	Lower string
	// Upper is the writable upper directory; it is created when missing.
	Upper string
	// Work is overlayfs's work directory. liblxc always uses the directory "work" next to
	// Upper (filepath.Dir(Upper)+"/work") and creates it, so Work must be empty (meaning
	// that) or equal to it.
	Work string
}

// WorkDir returns the overlay work directory liblxc uses for this overlay: "work" next to
// the upper directory.
func (o Overlay) WorkDir() string {
	return path.Join(path.Dir(path.Clean(o.Upper)), "work")
}

// Mount is a bind mount of a host path into the container.
type Mount struct {
	// Source is the host path (a directory or a file); it must exist.
	Source string
	// Target is the absolute path inside the container; missing mount points are created
	// (in the overlay's upper dir, or in Rootfs.Dir).
	Target string
	// ReadOnly mounts it read-only.
	ReadOnly bool
	// File says Source is a file, so the mount point is created as an empty file rather
	// than a directory. The lxc backend sets it itself when Source is a regular file.
	File bool
}

// Process is a command run in a container.
type Process struct {
	// Argv is the command and its arguments; Argv[0] is looked up in PATH inside the
	// container when it has no slash.
	Argv []string
	// Env is the complete environment ("KEY=value"); nothing is inherited from the host.
	// PATH defaults to DefaultPath when absent. (LXC itself adds container=lxc.)
	Env []string
	// UID and GID are the numeric user and group inside the container (0 is root). The
	// supplementary groups are dropped.
	UID, GID int
	// Cwd is the absolute working directory inside the container; empty means "/". (When
	// it does not exist in the container, liblxc logs a warning and uses "/".)
	Cwd string
	// TTY runs the process on a new pseudo-terminal: its stdin, stdout and stderr are the
	// terminal, Streams.In is copied to it and its output (stdout and stderr together) goes
	// to Streams.Out. When Streams.In is a terminal it is put in raw mode for the duration
	// and its window size follows along, as shells need.
	TTY bool
}

// Limits are cgroup resource limits. Zero means no limit.
type Limits struct {
	// Memory is the memory limit in bytes (v1 memory.limit_in_bytes, v2 memory.max).
	Memory int64
	// MemorySwap is the limit of memory plus swap in bytes (v1 memory.memsw.limit_in_bytes;
	// on v2, memory.swap.max = MemorySwap - Memory). It needs Memory and must be at least
	// Memory; MemorySwap == Memory forbids swapping. The kernel must account swap.
	MemorySwap int64
	// CPUShares is the relative CPU weight (v1 cpu.shares, 2..262144, default 1024; on v2
	// converted to cpu.weight).
	CPUShares int64
	// Pids is the maximum number of processes (tasks) in the container, including the
	// container's own init (2 processes with the lxc backend).
	Pids int64
}

// Streams connects a process to its caller.
type Streams struct {
	// In is copied to the process's stdin; nil means /dev/null. Reading it stops when
	// the process exits. An *os.File (a terminal, a pipe) is read so that this read can
	// be interrupted, and nothing after the process's end is consumed; the copy from any
	// other reader may remain blocked in a Read, and the data that Read returns is lost.
	In io.Reader
	// Out and Err receive the process's stdout and stderr; nil discards. With TTY, Out
	// receives both. They are always fed through pipes (or the pty), never handed to the
	// container, so a file given here keeps its owner and mode. When Out and Err are the
	// same writer, its writes are serialised.
	Out, Err io.Writer
	// Signals, when set, are forwarded to the process as they arrive (typically fed by
	// signal.Notify for SIGTERM, SIGINT and SIGHUP). Closing it ends the forwarding.
	Signals <-chan os.Signal
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

// ValidateName checks a container name (see Spec.Name).
func ValidateName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: name: must not be empty", ErrInvalidSpec)
	case len(name) > MaxNameLen:
		return fmt.Errorf("%w: name %q: longer than %d bytes", ErrInvalidSpec, name, MaxNameLen)
	case !nameRE.MatchString(name):
		return fmt.Errorf("%w: name %q: use letters, digits, '.', '_' and '-', starting with a letter or digit", ErrInvalidSpec, name)
	}
	return nil
}

// WithDefaults returns a copy of s with the documented defaults filled in: Hostname,
// Network, Cwd, PATH in Env and StopTimeout. The slices are copied.
func (s Spec) WithDefaults() Spec {
	if s.Hostname == "" {
		s.Hostname = s.Name
	}
	if s.Network == "" {
		s.Network = NetworkNone
	}
	if s.StopTimeout == 0 {
		s.StopTimeout = DefaultStopTimeout
	}
	s.Mounts = append([]Mount(nil), s.Mounts...)
	if s.Rootfs.Overlay != nil {
		o := *s.Rootfs.Overlay
		if o.Work == "" && o.Upper != "" {
			o.Work = o.WorkDir()
		}
		s.Rootfs.Overlay = &o
	}
	s.Process = s.Process.WithDefaults()
	return s
}

// WithDefaults returns a copy of p with Cwd and PATH defaulted.
func (p Process) WithDefaults() Process {
	if p.Cwd == "" {
		p.Cwd = "/"
	}
	p.Argv = append([]string(nil), p.Argv...)
	hasPath := false
	for _, kv := range p.Env {
		if strings.HasPrefix(kv, "PATH=") {
			hasPath = true
		}
	}
	env := append([]string(nil), p.Env...)
	if !hasPath {
		env = append(env, "PATH="+DefaultPath)
	}
	p.Env = env
	return p
}

// Validate checks the spec and returns every problem found, each wrapping ErrInvalidSpec
// and naming the container and the field.
func (s Spec) Validate() error {
	var errs []error
	add := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: container %q: %s: %s", ErrInvalidSpec, s.Name, field, fmt.Sprintf(format, args...)))
	}
	if err := ValidateName(s.Name); err != nil {
		errs = append(errs, err)
	}
	if s.Hostname != "" && (len(s.Hostname) > 64 || !nameRE.MatchString(s.Hostname)) {
		add("hostname", "%q is not a valid host name (letters, digits, '.', '_', '-'; at most 64 bytes)", s.Hostname)
	}

	// Root filesystem.
	switch r := s.Rootfs; {
	case r.Dir != "" && r.Overlay != nil:
		add("rootfs", "set either dir or overlay, not both")
	case r.Dir != "":
		if msg := checkHostPath(r.Dir); msg != "" {
			add("rootfs.dir", "%s", msg)
		}
	case r.Overlay != nil:
		o := r.Overlay
		for _, f := range []struct{ field, p string }{{"rootfs.overlay.lower", o.Lower}, {"rootfs.overlay.upper", o.Upper}} {
			if msg := checkHostPath(f.p); msg != "" {
				add(f.field, "%s", msg)
			} else if strings.ContainsAny(f.p, ":,") {
				add(f.field, "%q: overlay paths must not contain ':' or ','", f.p)
			}
		}
		if o.Lower != "" && o.Upper != "" && path.Clean(o.Lower) == path.Clean(o.Upper) {
			add("rootfs.overlay.upper", "must differ from the lower dir")
		}
		if o.Work != "" && o.Upper != "" && path.Clean(o.Work) != o.WorkDir() {
			add("rootfs.overlay.work", "%q: liblxc always uses %q (\"work\" next to the upper dir); leave it empty or set that", o.Work, o.WorkDir())
		}
	default:
		add("rootfs", "set dir or overlay")
	}

	// Mounts.
	for i, m := range s.Mounts {
		field := fmt.Sprintf("mounts[%d]", i)
		if msg := checkHostPath(m.Source); msg != "" {
			add(field+".source", "%s", msg)
		}
		if msg := checkHostPath(m.Target); msg != "" {
			add(field+".target", "%s", msg)
		} else if path.Clean(m.Target) == "/" {
			add(field+".target", "cannot mount over /")
		}
	}

	// Process.
	errs = append(errs, s.Process.validate(s.Name)...)

	// Limits.
	l := s.Limits
	if l.Memory < 0 {
		add("limits.memory", "must not be negative (0 means no limit)")
	}
	if l.MemorySwap < 0 {
		add("limits.memory_swap", "must not be negative (0 means no limit)")
	}
	if l.MemorySwap > 0 && l.Memory == 0 {
		add("limits.memory_swap", "needs limits.memory as well")
	}
	if l.MemorySwap > 0 && l.Memory > 0 && l.MemorySwap < l.Memory {
		add("limits.memory_swap", "%d bytes is less than limits.memory %d bytes", l.MemorySwap, l.Memory)
	}
	if l.CPUShares != 0 && (l.CPUShares < 2 || l.CPUShares > 262144) {
		add("limits.cpu_shares", "%d is outside 2..262144", l.CPUShares)
	}
	if l.Pids < 0 {
		add("limits.pids", "must not be negative (0 means no limit)")
	}

	switch s.Network {
	case "", NetworkNone, NetworkHost:
	default:
		add("network", "%q is neither %q nor %q", s.Network, NetworkHost, NetworkNone)
	}
	if s.StopTimeout < 0 {
		add("stop_timeout", "must not be negative")
	}
	return errors.Join(errs...)
}

// Validate checks a process on its own (as Container.Exec does).
func (p Process) Validate(name string) error {
	return errors.Join(p.validate(name)...)
}

func (p Process) validate(name string) []error {
	var errs []error
	add := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: container %q: %s: %s", ErrInvalidSpec, name, field, fmt.Sprintf(format, args...)))
	}
	if len(p.Argv) == 0 || p.Argv[0] == "" {
		add("argv", "must name a command")
	}
	for i, a := range p.Argv {
		if strings.ContainsRune(a, 0) {
			add(fmt.Sprintf("argv[%d]", i), "contains a NUL byte")
		}
	}
	for i, kv := range p.Env {
		k, _, ok := strings.Cut(kv, "=")
		if !ok || k == "" || strings.ContainsRune(kv, 0) {
			add(fmt.Sprintf("env[%d]", i), "%q is not KEY=value", kv)
		}
	}
	if p.UID < 0 || p.UID > 1<<32-2 {
		add("uid", "%d is out of range", p.UID)
	}
	if p.GID < 0 || p.GID > 1<<32-2 {
		add("gid", "%d is out of range", p.GID)
	}
	if p.Cwd != "" && !path.IsAbs(p.Cwd) {
		add("cwd", "%q is not an absolute path", p.Cwd)
	}
	return errs
}

// checkHostPath returns a problem with an absolute path used in LXC configuration, or "".
// Whitespace and control characters are refused because LXC's mount entries are
// whitespace-separated.
func checkHostPath(p string) string {
	switch {
	case p == "":
		return "must not be empty"
	case !path.IsAbs(p):
		return fmt.Sprintf("%q is not an absolute path", p)
	case strings.IndexFunc(p, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0:
		return fmt.Sprintf("%q contains whitespace or control characters", p)
	}
	for _, el := range strings.Split(p, "/") {
		if el == ".." {
			return fmt.Sprintf("%q contains \"..\"", p)
		}
	}
	return ""
}
