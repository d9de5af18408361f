//go:build linux && cgo

package lxc

import (
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	liblxc "github.com/lxc/go-lxc"
	"golang.org/x/sys/unix"

	"github.com/vr-paas/vr/pkg/container"
	"github.com/vr-paas/vr/pkg/mountinfo"
)

const (
	// drainTimeout bounds how long Exec waits for the output pipes to reach EOF after the
	// process exited (background children may keep them open).
	drainTimeout = time.Second
	// teardownTimeout bounds each wait of a teardown: the container stopping, its monitor
	// exiting, its cgroups becoming removable.
	teardownTimeout = 10 * time.Second
)

// startMu serialises container starts in this process. liblxc moves the calling process
// into the new container's monitor cgroup, and start moves it back before the next one.
var startMu sync.Mutex

// Backend runs containers with liblxc. Create it with New.
type Backend struct {
	lxcpath string
	host    container.HostInfo
	cg      *cgroupHost
	names   sync.Map // container name → *sync.Mutex
}

var (
	_ container.Backend   = (*Backend)(nil)
	_ container.Container = (*Container)(nil)
)

// New checks the host (root, liblxc, the static holder binaries, cgroups) and returns a
// Backend keeping its container definitions in opts.LXCPath.
func New(opts Options) (*Backend, error) {
	if euid := os.Geteuid(); euid != 0 {
		return nil, fmt.Errorf("lxc backend needs root (euid %d): %w", euid, fs.ErrPermission)
	}
	if !liblxc.VersionAtLeast(4, 0, 0) {
		return nil, fmt.Errorf("lxc backend needs liblxc 4.0 or newer, have %s: %w", liblxc.Version(), container.ErrUnsupported)
	}
	lxcpath := opts.LXCPath
	if lxcpath == "" {
		lxcpath = DefaultLXCPath
	}
	lxcpath, err := filepath.Abs(lxcpath)
	if err != nil {
		return nil, err
	}
	// liblxc needs search permission on every component of the lxcpath.
	if err := os.MkdirAll(lxcpath, 0o755); err != nil {
		return nil, fmt.Errorf("lxc backend: create lxcpath: %w", err)
	}
	initPath, err := findStatic(opts.InitPath, DefaultInitPaths, "lxc-init (init.lxc.static)", "apt-get install lxc")
	if err != nil {
		return nil, err
	}
	busybox, err := findStatic(opts.BusyboxPath, DefaultBusyboxPaths, "busybox", "apt-get install busybox-static")
	if err != nil {
		return nil, err
	}
	cg, err := probeCgroups()
	if err != nil {
		return nil, fmt.Errorf("lxc backend: %w", err)
	}
	host := cg.hostInfo()
	host.InitPath, host.BusyboxPath = initPath, busybox
	return &Backend{lxcpath: lxcpath, host: host, cg: cg}, nil
}

// findStatic returns path (or the first of candidates that exists) after checking that it
// is a statically linked executable: it runs inside containers whose root filesystem may
// have no (or other) shared libraries.
func findStatic(path string, candidates []string, what, install string) (string, error) {
	if path == "" {
		for _, c := range candidates {
			if exists(c) {
				path = c
				break
			}
		}
		if path == "" {
			return "", fmt.Errorf("lxc backend: no static %s found (looked at %s; %s): %w", what, strings.Join(candidates, ", "), install, container.ErrUnsupported)
		}
	}
	f, err := elf.Open(path)
	if err != nil {
		return "", fmt.Errorf("lxc backend: %s %s: %w", what, path, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return "", fmt.Errorf("lxc backend: %s %s is dynamically linked; a static build is needed (%s): %w", what, path, install, container.ErrUnsupported)
		}
	}
	return path, nil
}

// LXCPath returns the directory holding the container definitions.
func (b *Backend) LXCPath() string { return b.lxcpath }

// HostInfo returns what the backend found out about the host.
func (b *Backend) HostInfo() container.HostInfo { return b.host }

// CgroupDirs returns every cgroup directory the named container has or may have on this
// host (the monitor's and the payload's, in each hierarchy).
func (b *Backend) CgroupDirs(name string) []string { return b.cg.containerDirs(name) }

// PayloadCgroupDirs returns the directories of the cgroup the named container's processes
// run in, one per hierarchy (where its limits can be read).
func (b *Backend) PayloadCgroupDirs(name string) []string { return b.cg.payloadDirs(name) }

func (b *Backend) lock(name string) func() {
	m, _ := b.names.LoadOrStore(name, &sync.Mutex{})
	mu := m.(*sync.Mutex)
	mu.Lock()
	return mu.Unlock
}

func (b *Backend) dir(name string) string { return filepath.Join(b.lxcpath, name) }

// Run implements container.Backend.
func (b *Backend) Run(ctx context.Context, spec container.Spec, s container.Streams) (int, error) {
	c, err := b.start(ctx, spec)
	if err != nil {
		return -1, err
	}
	// Once the process is gone, kill the rest of the container before draining the
	// output, so that background children holding the pipes cannot cut it short.
	code, err := c.exec(ctx, spec.Process, s, c.stop)
	derr := c.Destroy(context.WithoutCancel(ctx))
	return code, errors.Join(err, derr)
}

// Start implements container.Backend.
func (b *Backend) Start(ctx context.Context, spec container.Spec) (container.Container, error) {
	c, err := b.start(ctx, spec)
	if err != nil {
		return nil, err
	}
	return c, nil
}

func (b *Backend) start(ctx context.Context, spec container.Spec) (*Container, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	s := spec.WithDefaults()
	if err := b.checkPaths(&s); err != nil {
		return nil, err
	}
	cfg, err := container.RenderLXCConfig(s, b.host)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("start container %q: %w", s.Name, err)
	}

	unlock := b.lock(s.Name)
	defer unlock()
	lc, err := liblxc.NewContainer(s.Name, b.lxcpath)
	if err != nil {
		return nil, fmt.Errorf("start container %q: %w", s.Name, err)
	}
	ok := false
	defer func() {
		if !ok {
			_ = lc.Release()
		}
	}()
	if lc.Running() {
		return nil, fmt.Errorf("start container %q in %s: %w", s.Name, b.lxcpath, container.ErrExists)
	}
	// Remains of a stopped container of the same name (a killed runner) go first.
	if err := b.teardown(s.Name, lc, 0); err != nil {
		return nil, fmt.Errorf("start container %q: remove remains of an earlier one: %w", s.Name, err)
	}

	// Write the definition and load it.
	dir := b.dir(s.Name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("start container %q: %w", s.Name, err)
	}
	cfgPath := filepath.Join(dir, "config")
	logPath := filepath.Join(dir, "lxc.log")
	fail := func(err error) (*Container, error) {
		msg := logTail(logPath)
		_ = b.teardown(s.Name, lc, 0)
		return nil, fmt.Errorf("start container %q: %w%s", s.Name, err, msg)
	}
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		return fail(err)
	}
	lc.ClearConfig()
	if err := lc.LoadConfigFile(cfgPath); err != nil {
		return fail(fmt.Errorf("load %s: %w", cfgPath, err))
	}
	if err := lc.SetLogFile(logPath); err != nil {
		return fail(err)
	}
	if err := lc.SetLogLevel(liblxc.WARN); err != nil {
		return fail(err)
	}
	if err := lc.WantDaemonize(true); err != nil {
		return fail(err)
	}

	// Start it, then leave the monitor cgroup liblxc moved this process into.
	startMu.Lock()
	saved, serr := selfCgroups()
	err = lc.Start()
	if serr == nil {
		serr = b.cg.restoreSelf(saved)
	}
	startMu.Unlock()
	if err == nil && !lc.Running() {
		err = errors.New("its init exited at once")
	}
	if err != nil {
		return fail(err)
	}
	if serr != nil {
		return fail(serr)
	}
	c := &Container{b: b, name: s.Name, lc: lc, stopTimeout: s.StopTimeout, monitorPid: b.findMonitor(s.Name)}
	ok = true
	return c, nil
}

// checkPaths checks the host paths of a spec and marks the file mounts.
func (b *Backend) checkPaths(s *container.Spec) error {
	isDir := func(field, p string) error {
		fi, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("container %q: %s: %w", s.Name, field, err)
		}
		if !fi.IsDir() {
			return fmt.Errorf("container %q: %s: %s is not a directory", s.Name, field, p)
		}
		return nil
	}
	if s.Rootfs.Overlay != nil {
		if err := isDir("rootfs.overlay.lower", s.Rootfs.Overlay.Lower); err != nil {
			return err
		}
	} else if err := isDir("rootfs.dir", s.Rootfs.Dir); err != nil {
		return err
	}
	for i, m := range s.Mounts {
		fi, err := os.Stat(m.Source)
		if err != nil {
			return fmt.Errorf("container %q: mounts[%d].source: %w", s.Name, i, err)
		}
		s.Mounts[i].File = !fi.IsDir()
	}
	return nil
}

// Cleanup implements container.Backend.
func (b *Backend) Cleanup(ctx context.Context, name string) error {
	if err := container.ValidateName(name); err != nil {
		return err
	}
	unlock := b.lock(name)
	defer unlock()
	lc, err := liblxc.NewContainer(name, b.lxcpath)
	if err != nil {
		return fmt.Errorf("clean up container %q: %w", name, err)
	}
	defer lc.Release()
	if err := b.teardown(name, lc, 0); err != nil {
		return fmt.Errorf("clean up container %q: %w", name, err)
	}
	return nil
}

// teardown stops the container if it runs and removes everything of it: processes,
// cgroups, mounts below its directory, its directory. monitorPid is the LXC monitor's pid
// if known (0: look it up).
func (b *Backend) teardown(name string, lc *liblxc.Container, monitorPid int) error {
	var errs []error
	monitors := b.findMonitors(name)
	if monitorPid > 0 && !slices.Contains(monitors, monitorPid) {
		monitors = append(monitors, monitorPid)
	}
	if lc.Running() {
		if err := lc.Stop(); err != nil && lc.Running() {
			errs = append(errs, fmt.Errorf("stop: %w", err))
		}
		lc.Wait(liblxc.STOPPED, teardownTimeout)
	}
	// Processes without a working monitor (it was killed) are killed directly: killing
	// the container's init ends its whole PID namespace.
	if err := b.killPayload(name); err != nil {
		errs = append(errs, err)
	}
	for _, pid := range monitors {
		if err := waitGone(pid, teardownTimeout, func(pid int) bool { return b.isMonitor(pid, name) }); err != nil {
			errs = append(errs, fmt.Errorf("wait for the lxc monitor: %w", err))
		}
	}
	deadline := time.Now().Add(teardownTimeout)
	for _, d := range b.cg.containerDirs(name) {
		if err := removeCgroup(d, deadline); err != nil {
			errs = append(errs, err)
		}
	}
	dir := b.dir(name)
	for _, mp := range mountsBelow(dir) {
		if err := unix.Unmount(mp, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
			errs = append(errs, fmt.Errorf("unmount %s: %w", mp, err))
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// killPayload SIGKILLs every process left in the container's cgroups and waits for them to
// be gone.
func (b *Backend) killPayload(name string) error {
	dirs := b.cg.payloadDirs(name)
	deadline := time.Now().Add(teardownTimeout)
	for {
		var pids []int
		for _, d := range dirs {
			for _, pid := range cgroupPids(d) {
				if !slices.Contains(pids, pid) && alive(pid) {
					pids = append(pids, pid)
				}
			}
		}
		if len(pids) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("processes %v of the container survive SIGKILL", pids)
		}
		for _, pid := range pids {
			_ = unix.Kill(pid, unix.SIGKILL)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// findMonitor returns the pid of the container's LXC monitor, or 0.
func (b *Backend) findMonitor(name string) int {
	if m := b.findMonitors(name); len(m) > 0 {
		return m[0]
	}
	return 0
}

// findMonitors returns the live processes of the container's monitor cgroups that are LXC
// monitors of this container (so never this process).
func (b *Backend) findMonitors(name string) []int {
	var pids []int
	for _, d := range b.cg.monitorDirs(name) {
		for _, pid := range cgroupPids(d) {
			if pid != os.Getpid() && !slices.Contains(pids, pid) && b.isMonitor(pid, name) {
				pids = append(pids, pid)
			}
		}
	}
	return pids
}

// isMonitor reports whether pid is alive and is the LXC monitor of the named container
// in this backend's lxcpath (its title is "[lxc monitor] LXCPATH NAME").
func (b *Backend) isMonitor(pid int, name string) bool {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return false
	}
	title := string(bytes.TrimRight(bytes.ReplaceAll(data, []byte{0}, []byte{' '}), " "))
	return title == "[lxc monitor] "+b.lxcpath+" "+name
}

// Leftovers implements container.Backend.
func (b *Backend) Leftovers(ctx context.Context, name string) ([]string, error) {
	if err := container.ValidateName(name); err != nil {
		return nil, err
	}
	var out []string
	lc, err := liblxc.NewContainer(name, b.lxcpath)
	if err != nil {
		return nil, fmt.Errorf("container %q: %w", name, err)
	}
	if lc.Running() {
		out = append(out, fmt.Sprintf("container %s running (init pid %d)", name, lc.InitPid()))
	}
	_ = lc.Release()
	for _, pid := range b.findMonitors(name) {
		out = append(out, fmt.Sprintf("process %d (lxc monitor of %s)", pid, name))
	}
	var seen []int
	for _, d := range b.cg.payloadDirs(name) {
		for _, pid := range cgroupPids(d) {
			if !slices.Contains(seen, pid) && alive(pid) {
				seen = append(seen, pid)
				out = append(out, fmt.Sprintf("process %d (in cgroup %s)", pid, d))
			}
		}
	}
	for _, d := range b.cg.containerDirs(name) {
		if exists(d) {
			out = append(out, "cgroup "+d)
		}
	}
	for _, mp := range mountsBelow(b.dir(name)) {
		out = append(out, "mount "+mp)
	}
	if exists(b.dir(name)) {
		out = append(out, "definition "+b.dir(name))
	}
	return out, nil
}

// mountsBelow lists the mount points at or below dir in this mount namespace, deepest
// first (nil when mountinfo cannot be read).
func mountsBelow(dir string) []string {
	mps, _ := mountinfo.Below(dir)
	return mps
}

// logTail returns the end of liblxc's log for an error message ("" when empty).
func logTail(path string) string {
	data, err := os.ReadFile(path)
	if err != nil || len(bytes.TrimSpace(data)) == 0 {
		return ""
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	// The errors say what went wrong; warnings (e.g. about cgroups this process was still
	// in while liblxc gave up) are noise then.
	var errLines []string
	for _, l := range lines {
		if strings.Contains(l, " ERROR ") {
			errLines = append(errLines, l)
		}
	}
	if len(errLines) > 0 {
		lines = errLines
	}
	if len(lines) > 8 {
		lines = lines[len(lines)-8:]
	}
	return "\nliblxc log:\n  " + strings.Join(lines, "\n  ")
}

// Container is a started LXC container.
type Container struct {
	b           *Backend
	name        string
	stopTimeout time.Duration
	monitorPid  int

	mu        sync.Mutex
	lc        *liblxc.Container
	destroyed bool
}

// Name implements container.Container.
func (c *Container) Name() string { return c.name }

// InitPid returns the host pid of the container's init, or -1 once destroyed.
func (c *Container) InitPid() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.destroyed {
		return -1
	}
	return c.lc.InitPid()
}

// Exec implements container.Container.
func (c *Container) Exec(ctx context.Context, p container.Process, s container.Streams) (int, error) {
	return c.exec(ctx, p, s, nil)
}

// exec runs p. afterExit, when set, runs once p has exited and before the output is
// drained to the end; without it the output is drained for at most drainTimeout.
func (c *Container) exec(ctx context.Context, p container.Process, s container.Streams, afterExit func()) (int, error) {
	if err := p.Validate(c.name); err != nil {
		return -1, err
	}
	p = p.WithDefaults()
	if err := ctx.Err(); err != nil {
		return -1, fmt.Errorf("container %q: %w: %w", c.name, container.ErrStopped, context.Cause(ctx))
	}
	c.mu.Lock()
	if c.destroyed {
		c.mu.Unlock()
		return -1, fmt.Errorf("container %q: destroyed: %w", c.name, container.ErrNotFound)
	}
	lc := c.lc
	c.mu.Unlock()

	st, err := openStdio(s, p.TTY, func() (int, error) { return openPtmx(lc) })
	if err != nil {
		return -1, fmt.Errorf("container %q: %w", c.name, err)
	}
	opts := liblxc.AttachOptions{
		Namespaces: -1,
		Arch:       -1,
		Cwd:        p.Cwd,
		UID:        p.UID,
		GID:        p.GID,
		ClearEnv:   true,
		Env:        p.Env,
		StdinFd:    st.child[0].Fd(),
		StdoutFd:   st.child[1].Fd(),
		StderrFd:   st.child[2].Fd(),
	}
	// With a pty as stdin, liblxc's attach makes the process a session leader with the
	// pty as its controlling terminal, so job control and ^C work.
	pid, err := lc.RunCommandNoWait(p.Argv, opts)
	st.started()
	if err != nil {
		st.finish(drainTimeout)
		return -1, fmt.Errorf("container %q: run %q: %w", c.name, p.Argv[0], err)
	}
	code, err := c.wait(ctx, pid, s.Signals)
	if afterExit != nil {
		afterExit()
		st.finish(0)
	} else {
		st.finish(drainTimeout)
	}
	return code, err
}

// openPtmx opens a pty master on the container's devpts instance, so that the slave has
// a /dev/pts/N inside the container; the host's /dev/ptmx is the fallback.
func openPtmx(lc *liblxc.Container) (int, error) {
	if f, err := lc.DevptsFd(); err == nil {
		fd, err := unix.Openat(int(f.Fd()), "ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
		_ = f.Close()
		if err == nil {
			return fd, nil
		}
	}
	return unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
}

// wait waits for the attached process pid (a child of this process), forwarding signals
// and stopping it when ctx is cancelled.
func (c *Container) wait(ctx context.Context, pid int, sigs <-chan os.Signal) (int, error) {
	// A pidfd makes the signals safe from pid reuse once the process is reaped.
	pfd, perr := unix.PidfdOpen(pid, 0)
	if perr == nil {
		defer unix.Close(pfd)
	}
	// A signal goes to the process and to the processes it started in its process group,
	// as a terminal sends it to the foreground job: with sh -c "a && b" the shell
	// alone would get it and a never. Without a pty, liblxc's attach leaves the process
	// in this process's group (AttachOptions cannot make it setsid), so the group is
	// not signalled as such but walked from pid.
	send := func(sig syscall.Signal) {
		kids := groupDescendants(pid)
		if perr == nil {
			_ = unix.PidfdSendSignal(pfd, sig, nil, 0)
		} else {
			_ = unix.Kill(pid, sig)
		}
		for _, k := range kids {
			_ = unix.Kill(k, sig)
		}
	}
	type result struct {
		ws  unix.WaitStatus
		err error
	}
	done := make(chan result, 1)
	go func() {
		var ws unix.WaitStatus
		for {
			_, err := unix.Wait4(pid, &ws, 0, nil)
			if errors.Is(err, unix.EINTR) {
				continue
			}
			done <- result{ws, err}
			return
		}
	}()
	var stopErr error
	var kill <-chan time.Time
	ctxDone := ctx.Done()
	for {
		select {
		case r := <-done:
			if r.err != nil {
				return -1, fmt.Errorf("container %q: wait for process %d: %w", c.name, pid, r.err)
			}
			return exitCode(r.ws), stopErr
		case sig, ok := <-sigs:
			if !ok {
				// The caller closed the channel: no more signals (a nil channel
				// blocks, instead of spinning on the closed one).
				sigs = nil
				continue
			}
			if s, ok := sig.(syscall.Signal); ok {
				send(s)
			}
		case <-ctxDone:
			ctxDone = nil
			stopErr = fmt.Errorf("container %q: %w: %w", c.name, container.ErrStopped, context.Cause(ctx))
			send(unix.SIGTERM)
			t := time.NewTimer(c.stopTimeout)
			defer t.Stop()
			kill = t.C
		case <-kill:
			kill = nil
			send(unix.SIGKILL)
		}
	}
}

// stop kills every process of the container (it keeps its definition and cgroups).
func (c *Container) stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.destroyed && c.lc.Running() {
		_ = c.lc.Stop()
	}
}

// Destroy implements container.Container.
func (c *Container) Destroy(ctx context.Context) error {
	unlock := c.b.lock(c.name)
	defer unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.destroyed {
		return nil
	}
	c.destroyed = true
	err := c.b.teardown(c.name, c.lc, c.monitorPid)
	_ = c.lc.Release()
	if err != nil {
		return fmt.Errorf("destroy container %q: %w", c.name, err)
	}
	return nil
}
