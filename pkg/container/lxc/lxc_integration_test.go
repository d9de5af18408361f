//go:build linux && cgo

package lxc_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vr-paas/vr/pkg/container"
	"github.com/vr-paas/vr/pkg/container/lxc"
	"github.com/vr-paas/vr/pkg/testutil"
)

// newBackend returns a backend with a private lxcpath, after the LXC gate.
func newBackend(t *testing.T) *lxc.Backend {
	t.Helper()
	b, err := lxc.New(lxc.Options{LXCPath: filepath.Join(t.TempDir(), "lxc")})
	if err != nil {
		t.Fatalf("lxc.New: %v", err)
	}
	return b
}

var nameClean = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// uniqueName returns a container name unique to this test run.
func uniqueName(t *testing.T) string {
	n := nameClean.ReplaceAllString(t.Name(), "-")
	if len(n) > 40 {
		n = n[:40]
	}
	return fmt.Sprintf("vrt-%s-%d-%d", strings.ToLower(n), os.Getpid(), time.Now().UnixNano()%1e6)
}

// busyboxSpec is a spec running argv in a fresh busybox rootfs.
func busyboxSpec(t *testing.T, argv ...string) container.Spec {
	t.Helper()
	return container.Spec{
		Name:    uniqueName(t),
		Rootfs:  container.Rootfs{Dir: testutil.BusyboxRootfs(t)},
		Process: container.Process{Argv: argv},
	}
}

// run runs spec and returns its exit code, stdout and stderr; it fails the test on an
// error and checks that nothing of the container is left.
func run(t *testing.T, b *lxc.Backend, spec container.Spec, in string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	s := container.Streams{Out: &out, Err: &errb}
	if in != "" {
		s.In = strings.NewReader(in)
	}
	before, _ := os.ReadFile("/proc/self/cgroup")
	code, err := b.Run(context.Background(), spec, s)
	if err != nil {
		t.Fatalf("Run: %v (stdout %q, stderr %q)", err, out.String(), errb.String())
	}
	// liblxc moved this process into the monitor's cgroup; it must be back in its own.
	if after, _ := os.ReadFile("/proc/self/cgroup"); !bytes.Equal(before, after) {
		t.Errorf("this process's cgroups changed:\n%s\nto\n%s", before, after)
	}
	assertNothingLeft(t, b, spec)
	return code, out.String(), errb.String()
}

// assertNothingLeft checks, independently of the backend's own bookkeeping, that no
// mount, cgroup, process or definition of the container remains.
func assertNothingLeft(t *testing.T, b *lxc.Backend, spec container.Spec) {
	t.Helper()
	name := spec.Name
	if left, err := b.Leftovers(context.Background(), name); err != nil || len(left) > 0 {
		t.Errorf("Leftovers(%s) = %q, %v; want none", name, left, err)
	}
	// Mounts: nothing in this mount namespace mentions the container or its rootfs.
	mountinfo, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	needles := []string{name, filepath.Join(b.LXCPath(), name)}
	if spec.Rootfs.Dir != "" {
		needles = append(needles, spec.Rootfs.Dir)
	}
	if o := spec.Rootfs.Overlay; o != nil {
		needles = append(needles, o.Lower, o.Upper)
	}
	for _, line := range strings.Split(string(mountinfo), "\n") {
		for _, n := range needles {
			if strings.Contains(line, n) {
				t.Errorf("mount left: %s", line)
			}
		}
	}
	// Cgroups: no directory named after the container in any hierarchy.
	matches, _ := filepath.Glob("/sys/fs/cgroup/*/*" + name + "*")
	more, _ := filepath.Glob("/sys/fs/cgroup/*" + name + "*")
	if left := append(matches, more...); len(left) > 0 {
		t.Errorf("cgroups left: %v", left)
	}
	// Processes: no live process mentions the container (LXC monitors carry its name).
	for _, p := range processesMentioning(name) {
		t.Errorf("process left: %s", p)
	}
	// Definition.
	if _, err := os.Stat(filepath.Join(b.LXCPath(), name)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("definition left: %s (%v)", filepath.Join(b.LXCPath(), name), err)
	}
}

// processesMentioning lists live (non-zombie) processes whose command line contains s.
func processesMentioning(s string) []string {
	var out []string
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		cmd, err := os.ReadFile(filepath.Join(d, "cmdline"))
		if err != nil || len(cmd) == 0 {
			continue
		}
		line := string(bytes.ReplaceAll(cmd, []byte{0}, []byte{' '}))
		if strings.Contains(line, s) && filepath.Base(d) != fmt.Sprint(os.Getpid()) {
			out = append(out, filepath.Base(d)+": "+line)
		}
	}
	return out
}

func TestRunOutputAndExitCode(t *testing.T) {
	testutil.RequireLXC(t)
	b := newBackend(t)
	spec := busyboxSpec(t, "/bin/sh", "-c", "echo out; echo err >&2; cat; exit 7")
	code, out, errOut := run(t, b, spec, "from stdin\n")
	if code != 7 {
		t.Errorf("exit code = %d, want 7", code)
	}
	if out != "out\nfrom stdin\n" {
		t.Errorf("stdout = %q, want %q", out, "out\nfrom stdin\n")
	}
	if errOut != "err\n" {
		t.Errorf("stderr = %q, want %q", errOut, "err\n")
	}
}

func TestRunTrueAndFalse(t *testing.T) {
	testutil.RequireLXC(t)
	b := newBackend(t)
	for _, tc := range []struct {
		argv []string
		want int
	}{
		{[]string{"/bin/true"}, 0},
		{[]string{"false"}, 1},
		{[]string{"/bin/sh", "-c", "kill -KILL $$"}, 137},
	} {
		spec := busyboxSpec(t, tc.argv...)
		if code, _, _ := run(t, b, spec, ""); code != tc.want {
			t.Errorf("%q: exit code = %d, want %d", tc.argv, code, tc.want)
		}
	}
}

func TestRunMissingCommand(t *testing.T) {
	testutil.RequireLXC(t)
	b := newBackend(t)
	spec := busyboxSpec(t, "/no/such/command")
	code, out, errOut := run(t, b, spec, "")
	if code == 0 {
		t.Errorf("exit code = 0 for a missing command (stdout %q, stderr %q)", out, errOut)
	}
	t.Logf("missing command: exit %d, stderr %q", code, errOut)
}

func TestRunEnvUserCwdHostname(t *testing.T) {
	testutil.RequireLXC(t)
	b := newBackend(t)
	spec := busyboxSpec(t, "/bin/sh", "-c", `echo "uid=$(id -u) gid=$(id -g) foo=$FOO path=$PATH pwd=$(pwd) host=$(hostname) home=$HOME"`)
	spec.Env = []string{"FOO=bar baz", "HOME=/app"}
	spec.UID, spec.GID = 1000, 1000
	spec.Cwd = "/tmp"
	spec.Hostname = "web-1"
	_, out, errOut := run(t, b, spec, "")
	want := "uid=1000 gid=1000 foo=bar baz path=" + container.DefaultPath + " pwd=/tmp host=web-1 home=/app\n"
	if out != want {
		t.Errorf("stdout = %q, want %q (stderr %q)", out, want, errOut)
	}

	// Nothing of the host's environment leaks in.
	t.Setenv("VR_SECRET_HOST_VAR", "leak")
	spec2 := busyboxSpec(t, "/bin/sh", "-c", "env")
	_, out, _ = run(t, b, spec2, "")
	if strings.Contains(out, "VR_SECRET_HOST_VAR") {
		t.Errorf("host environment leaked into the container: %q", out)
	}
}

func TestReadOnlyAndReadWriteBindMounts(t *testing.T) {
	testutil.RequireLXC(t)
	b := newBackend(t)
	ro, rw := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(ro, "hello"), []byte("hi\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "settings.yaml")
	if err := os.WriteFile(file, []byte("a: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	spec := busyboxSpec(t, "/bin/sh", "-c", `
		cat /data/ro/hello
		if echo x > /data/ro/new 2>/dev/null; then echo ro-writable; else echo ro-refused; fi
		echo written > /data/rw/new && echo rw-ok
		cat /etc/vr/settings.yaml`)
	spec.Mounts = []container.Mount{
		{Source: ro, Target: "/data/ro", ReadOnly: true},
		{Source: rw, Target: "/data/rw"},
		{Source: file, Target: "/etc/vr/settings.yaml", ReadOnly: true},
	}
	_, out, errOut := run(t, b, spec, "")
	want := "hi\nro-refused\nrw-ok\na: 1\n"
	if out != want {
		t.Errorf("stdout = %q, want %q (stderr %q)", out, want, errOut)
	}
	if _, err := os.Stat(filepath.Join(ro, "new")); err == nil {
		t.Error("a file was created in the read-only mount's source")
	}
	if data, err := os.ReadFile(filepath.Join(rw, "new")); err != nil || string(data) != "written\n" {
		t.Errorf("rw mount source: new = %q, %v; want \"written\\n\"", data, err)
	}
}

// treeDigest hashes every path, mode, size, link target and content below dir.
func treeDigest(t *testing.T, dir string) string {
	t.Helper()
	h := sha256.New()
	var paths []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		paths = append(paths, p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(paths)
	for _, p := range paths {
		fi, err := os.Lstat(p)
		if err != nil {
			t.Fatal(err)
		}
		st := fi.Sys().(*syscall.Stat_t)
		fmt.Fprintf(h, "%s %v %d %d:%d %d\n", p, fi.Mode(), fi.Size(), st.Uid, st.Gid, st.Mtim.Nano())
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			fmt.Fprintln(h, target)
		case fi.Mode().IsRegular():
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			h.Write(data)
		}
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

func TestOverlayLeavesLowerUntouched(t *testing.T) {
	testutil.RequireLXC(t)
	b := newBackend(t)
	lower := testutil.BusyboxRootfs(t)
	proc := t.TempDir()
	vol := t.TempDir()
	before := treeDigest(t, lower)
	spec := container.Spec{
		Name: uniqueName(t),
		Rootfs: container.Rootfs{Overlay: &container.Overlay{
			Lower: lower,
			Upper: filepath.Join(proc, "rootfs"),
		}},
		Mounts: []container.Mount{{Source: vol, Target: "/srv/volume"}},
		Process: container.Process{Argv: []string{"/bin/sh", "-c", `
			echo new > /newfile
			echo changed > /etc/hosts
			rm /etc/hostname
			mkdir -p /app/sub && echo x > /app/sub/f
			cat /etc/hosts; ls /srv`}},
	}
	_, out, errOut := run(t, b, spec, "")
	if out != "changed\nvolume\n" {
		t.Errorf("stdout = %q, want %q (stderr %q)", out, "changed\nvolume\n", errOut)
	}
	if after := treeDigest(t, lower); after != before {
		t.Error("the overlay's lower dir changed")
	}
	upper := filepath.Join(proc, "rootfs")
	if data, err := os.ReadFile(filepath.Join(upper, "newfile")); err != nil || string(data) != "new\n" {
		t.Errorf("upper/newfile = %q, %v", data, err)
	}
	if fi, err := os.Lstat(filepath.Join(upper, "etc/hostname")); err != nil || fi.Mode()&fs.ModeCharDevice == 0 {
		t.Errorf("upper/etc/hostname should be a whiteout: %v, %v", fi, err)
	}
	if _, err := os.Stat(filepath.Join(upper, "srv/volume")); err != nil {
		t.Errorf("the mount point should have been created in the upper dir: %v", err)
	}
	if _, err := os.Stat(filepath.Join(proc, "work")); err != nil {
		t.Errorf("overlay work dir: %v", err)
	}

	// The same upper dir again: the changes persist.
	spec.Name = uniqueName(t)
	spec.Process.Argv = []string{"/bin/sh", "-c", "cat /newfile /app/sub/f; test -e /etc/hostname || echo gone"}
	_, out, _ = run(t, b, spec, "")
	if out != "new\nx\ngone\n" {
		t.Errorf("second run: stdout = %q, want %q", out, "new\nx\ngone\n")
	}
}

func TestNetwork(t *testing.T) {
	testutil.RequireLXC(t)
	b := newBackend(t)
	hostIfaces, err := os.ReadDir("/sys/class/net")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range hostIfaces {
		names = append(names, e.Name())
	}
	sort.Strings(names)

	none := busyboxSpec(t, "/bin/sh", "-c", "ls /sys/class/net; ping -c 1 -W 1 127.0.0.1 >/dev/null && echo lo-up")
	none.Network = container.NetworkNone
	_, out, errOut := run(t, b, none, "")
	if out != "lo\nlo-up\n" {
		t.Errorf("network none: stdout = %q, want %q (stderr %q)", out, "lo\nlo-up\n", errOut)
	}

	host := busyboxSpec(t, "/bin/sh", "-c", "ls /sys/class/net")
	host.Network = container.NetworkHost
	_, out, _ = run(t, b, host, "")
	if got := strings.Fields(out); strings.Join(got, " ") != strings.Join(names, " ") {
		t.Errorf("network host: interfaces %q, want the host's %q", got, names)
	}
}

func TestMemoryLimitKills(t *testing.T) {
	testutil.RequireLXC(t)
	b := newBackend(t)
	// awk doubles a string until it holds 256 MiB; a 32 MiB limit (no swap either) stops it.
	prog := `BEGIN { s = "x"; while (length(s) < 268435456) s = s s; print "survived", length(s) }`
	spec := busyboxSpec(t, "/bin/awk", prog)
	spec.Limits.Memory = 32 << 20
	if b.HostInfo().MemorySwap {
		spec.Limits.MemorySwap = 32 << 20
	}
	code, out, errOut := run(t, b, spec, "")
	if code != 137 || strings.Contains(out, "survived") {
		t.Errorf("exit code = %d, stdout %q, stderr %q; want 137 (SIGKILL by the OOM killer)", code, out, errOut)
	}

	// The same program without the limit survives, so the limit is what killed it.
	spec2 := busyboxSpec(t, "/bin/awk", prog)
	code, out, _ = run(t, b, spec2, "")
	if code != 0 || !strings.HasPrefix(out, "survived") {
		t.Errorf("without a limit: exit %d, stdout %q; want 0 and survived", code, out)
	}
}

func TestPidsLimit(t *testing.T) {
	testutil.RequireLXC(t)
	b := newBackend(t)
	// 20 background sleeps; with pids.max 8 (2 of them are the holder) forks fail.
	script := `i=0; while [ $i -lt 20 ]; do sleep 2 & i=$((i+1)); done; echo spawned`
	spec := busyboxSpec(t, "/bin/sh", "-c", script)
	spec.Limits.Pids = 8
	_, out, errOut := run(t, b, spec, "")
	if !strings.Contains(errOut, "can't fork") {
		t.Errorf("with pids 8: stderr %q (stdout %q), want \"can't fork\"", errOut, out)
	}
	spec2 := busyboxSpec(t, "/bin/sh", "-c", script)
	spec2.Limits.Pids = 100
	_, out, errOut = run(t, b, spec2, "")
	if out != "spawned\n" || errOut != "" {
		t.Errorf("with pids 100: stdout %q, stderr %q", out, errOut)
	}
}

func TestLimitsReachTheCgroup(t *testing.T) {
	testutil.RequireLXC(t)
	b := newBackend(t)
	host := b.HostInfo()
	spec := busyboxSpec(t, "/bin/true")
	spec.Limits = container.Limits{Memory: 64 << 20, CPUShares: 512, Pids: 50}
	if host.MemorySwap {
		spec.Limits.MemorySwap = 96 << 20
	}
	c, err := b.Start(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Destroy(context.Background())
	// The files and values expected: the v1 files, or their v2 counterparts (where the
	// swap limit excludes the memory and cpu.weight replaces cpu.shares).
	want := map[string]string{
		"memory.limit_in_bytes": fmt.Sprint(64 << 20),
		"cpu.shares":            "512",
		"pids.max":              "50",
	}
	if host.MemorySwap {
		want["memory.memsw.limit_in_bytes"] = fmt.Sprint(96 << 20)
	}
	if host.Cgroup == container.CgroupV2 {
		want = map[string]string{
			"memory.max": fmt.Sprint(64 << 20),
			"cpu.weight": fmt.Sprint(container.CPUWeight(512)),
			"pids.max":   "50",
		}
		if host.MemorySwap {
			want["memory.swap.max"] = fmt.Sprint((96 - 64) << 20)
		}
	}
	found := map[string]bool{}
	for _, dir := range b.PayloadCgroupDirs(spec.Name) {
		for file, v := range want {
			data, err := os.ReadFile(filepath.Join(dir, file))
			if err != nil {
				continue
			}
			found[file] = true
			if got := strings.TrimSpace(string(data)); got != v {
				t.Errorf("%s/%s = %s, want %s", dir, file, got, v)
			}
		}
	}
	for file := range want {
		if !found[file] {
			t.Errorf("%s not found in %v", file, b.PayloadCgroupDirs(spec.Name))
		}
	}
	if err := c.Destroy(context.Background()); err != nil {
		t.Fatal(err)
	}
	assertNothingLeft(t, b, spec)
}

// signalWriter collects output and closes ready when it first contains "ready".
type signalWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	once  sync.Once
	ready chan struct{}
}

func newSignalWriter() *signalWriter { return &signalWriter{ready: make(chan struct{})} }

func (w *signalWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if strings.Contains(w.buf.String(), "ready") {
		w.once.Do(func() { close(w.ready) })
	}
	return len(p), nil
}

func (w *signalWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

const trapScript = `trap 'echo got-$SIG; exit 42' TERM INT; echo ready; while :; do sleep 0.05; done`

func TestSignalsAreForwarded(t *testing.T) {
	testutil.RequireLXC(t)
	b := newBackend(t)
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		spec := busyboxSpec(t, "/bin/sh", "-c", strings.ReplaceAll(trapScript, "$SIG", sig.String()))
		out := newSignalWriter()
		sigs := make(chan os.Signal, 1)
		go func() {
			select {
			case <-out.ready:
				sigs <- sig
			case <-time.After(10 * time.Second):
			}
		}()
		code, err := b.Run(context.Background(), spec, container.Streams{Out: out, Signals: sigs})
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		if code != 42 || !strings.Contains(out.String(), "got-"+sig.String()) {
			t.Errorf("%v: exit %d, stdout %q; want 42 and the trap's output", sig, code, out.String())
		}
		assertNothingLeft(t, b, spec)
	}
}

func TestContextCancelSendsSIGTERM(t *testing.T) {
	testutil.RequireLXC(t)
	b := newBackend(t)
	spec := busyboxSpec(t, "/bin/sh", "-c", strings.ReplaceAll(trapScript, "$SIG", "term"))
	out := newSignalWriter()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-out.ready
		cancel()
	}()
	code, err := b.Run(ctx, spec, container.Streams{Out: out})
	if !errors.Is(err, container.ErrStopped) || !errors.Is(err, context.Canceled) {
		t.Errorf("Run error = %v, want ErrStopped and context.Canceled", err)
	}
	if code != 42 || !strings.Contains(out.String(), "got-term") {
		t.Errorf("exit %d, stdout %q; want 42 and got-term", code, out.String())
	}
	assertNothingLeft(t, b, spec)
}

// TestSIGTERMReachesTheShellsChildren: with sh -c "app && more" the app gets the SIGTERM
// too, not only the shell (which defers its trap until the app exits); without it the
// app ran on and the shell was SIGKILLed after the grace period.
func TestSIGTERMReachesTheShellsChildren(t *testing.T) {
	testutil.RequireLXC(t)
	b := newBackend(t)
	inner := strings.ReplaceAll(trapScript, "$SIG", "inner")
	spec := busyboxSpec(t, "/bin/sh", "-c", `trap 'echo outer-term' TERM; sh -c "`+inner+`" && echo after; echo outer-done`)
	spec.StopTimeout = 5 * time.Second
	out := newSignalWriter()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-out.ready
		cancel()
	}()
	start := time.Now()
	code, err := b.Run(ctx, spec, container.Streams{Out: out})
	if !errors.Is(err, container.ErrStopped) {
		t.Errorf("Run error = %v, want ErrStopped", err)
	}
	if want := "ready\ngot-inner\nouter-term\nouter-done\n"; code != 0 || out.String() != want {
		t.Errorf("exit %d, stdout %q; want 0 and %q", code, out.String(), want)
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("took %v: the grace period ran out", d)
	}
	assertNothingLeft(t, b, spec)
}

func TestStopTimeoutKills(t *testing.T) {
	testutil.RequireLXC(t)
	b := newBackend(t)
	spec := busyboxSpec(t, "/bin/sh", "-c", `trap '' TERM; echo ready; while :; do sleep 0.05; done`)
	spec.StopTimeout = 300 * time.Millisecond
	out := newSignalWriter()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-out.ready
		cancel()
	}()
	start := time.Now()
	code, err := b.Run(ctx, spec, container.Streams{Out: out})
	if !errors.Is(err, container.ErrStopped) {
		t.Errorf("Run error = %v, want ErrStopped", err)
	}
	if code != 137 {
		t.Errorf("exit code = %d, want 137 (SIGKILL after the grace period)", code)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
	assertNothingLeft(t, b, spec)
}

func TestBackgroundChildDoesNotHoldRun(t *testing.T) {
	testutil.RequireLXC(t)
	b := newBackend(t)
	// The child keeps stdout open for 100 s; Run must return once sh exits.
	spec := busyboxSpec(t, "/bin/sh", "-c", "sleep 100 & echo parent-done")
	start := time.Now()
	code, out, _ := run(t, b, spec, "")
	if code != 0 || out != "parent-done\n" {
		t.Errorf("exit %d, stdout %q", code, out)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Run took %v", d)
	}
}

func TestStdoutFileKeepsOwnerAndMode(t *testing.T) {
	testutil.RequireLXC(t)
	b := newBackend(t)
	logPath := filepath.Join(t.TempDir(), "log")
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY, 0o640)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	spec := busyboxSpec(t, "/bin/sh", "-c", "echo to-the-log")
	spec.UID, spec.GID = 1000, 1000
	code, err := b.Run(context.Background(), spec, container.Streams{Out: f, Err: f})
	if err != nil || code != 0 {
		t.Fatalf("Run = %d, %v", code, err)
	}
	fi, err := os.Stat(logPath)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	if fi.Mode().Perm() != 0o640 || st.Uid != 0 || st.Gid != 0 {
		t.Errorf("log file is now %v %d:%d, want -rw-r----- 0:0", fi.Mode(), st.Uid, st.Gid)
	}
	if data, _ := os.ReadFile(logPath); string(data) != "to-the-log\n" {
		t.Errorf("log = %q", data)
	}
}

func TestTTY(t *testing.T) {
	testutil.RequireLXC(t)
	b := newBackend(t)
	// The pty is stdin, stdout and stderr, and the controlling terminal of a session the
	// process leads: typing ^C sends SIGINT to the foreground process group.
	spec := busyboxSpec(t, "/bin/sh", "-c", `test -t 0 && test -t 1 && test -t 2 && echo tty-yes
		tty
		read line; echo "got $line"
		trap 'echo got-sigint; exit 5' INT
		echo ready
		while :; do sleep 0.05; done`)
	spec.TTY = true
	out := newSignalWriter()
	inR, inW := io.Pipe()
	go func() {
		_, _ = io.WriteString(inW, "hello\n")
		select {
		case <-out.ready:
			_, _ = io.WriteString(inW, "\x03") // ^C
		case <-time.After(10 * time.Second):
		}
	}()
	defer inW.Close()
	code, err := b.Run(context.Background(), spec, container.Streams{In: inR, Out: out})
	got := strings.ReplaceAll(out.String(), "\r\n", "\n")
	if err != nil || code != 5 {
		t.Fatalf("Run = %d, %v (output %q); want 5 from the SIGINT trap", code, err, got)
	}
	for _, want := range []string{"tty-yes\n/dev/pts/", "got hello\n", "got-sigint\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("output %q lacks %q", got, want)
		}
	}
	assertNothingLeft(t, b, spec)
}

func TestStartExecDestroy(t *testing.T) {
	testutil.RequireLXC(t)
	b := newBackend(t)
	spec := busyboxSpec(t, "/bin/true")
	ctx := context.Background()
	c, err := b.Start(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Start(ctx, spec); !errors.Is(err, container.ErrExists) {
		t.Errorf("second Start = %v, want ErrExists", err)
	}
	for i := 0; i < 3; i++ {
		var out bytes.Buffer
		code, err := c.Exec(ctx, container.Process{Argv: []string{"/bin/sh", "-c", fmt.Sprintf("echo %d > /tmp/f%d; ls /tmp", i, i)}}, container.Streams{Out: &out})
		if err != nil || code != 0 {
			t.Fatalf("Exec %d = %d, %v", i, code, err)
		}
		// Each Exec sees the files of the earlier ones: one container throughout.
		var want []string
		for j := 0; j <= i; j++ {
			want = append(want, fmt.Sprintf("f%d", j))
		}
		if got := strings.Fields(out.String()); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("Exec %d: ls /tmp = %q, want %q", i, got, want)
		}
	}
	if err := c.Destroy(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Destroy(ctx); err != nil {
		t.Errorf("second Destroy: %v", err)
	}
	if _, err := c.Exec(ctx, container.Process{Argv: []string{"/bin/true"}}, container.Streams{}); !errors.Is(err, container.ErrNotFound) {
		t.Errorf("Exec after Destroy = %v, want ErrNotFound", err)
	}
	assertNothingLeft(t, b, spec)
}

func TestCleanupIsIdempotent(t *testing.T) {
	testutil.RequireLXC(t)
	b := newBackend(t)
	if err := b.Cleanup(context.Background(), "vrt-never-existed"); err != nil {
		t.Errorf("Cleanup of a container that never existed: %v", err)
	}
	if err := b.Cleanup(context.Background(), "../etc"); !errors.Is(err, container.ErrInvalidSpec) {
		t.Errorf("Cleanup(\"../etc\") = %v, want ErrInvalidSpec", err)
	}
}

// TestMain doubles as a stand-in runner process: with VR_LXC_HELPER_RUNNER set, the test
// binary runs one container in the foreground, as vruntime run does, until it is killed
// (TestKilledRunnerLeavesCleanableRemains SIGKILLs it).
func TestMain(m *testing.M) {
	if os.Getenv("VR_LXC_HELPER_RUNNER") != "" {
		helperRunner()
	}
	os.Exit(m.Run())
}

func helperRunner() {
	b, err := lxc.New(lxc.Options{LXCPath: os.Getenv("VR_LXC_HELPER_LXCPATH")})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	spec := container.Spec{
		Name:    os.Getenv("VR_LXC_HELPER_NAME"),
		Rootfs:  container.Rootfs{Dir: os.Getenv("VR_LXC_HELPER_ROOTFS")},
		Process: container.Process{Argv: []string{"/bin/sh", "-c", "echo ready; exec sleep 1000"}},
	}
	code, err := b.Run(context.Background(), spec, container.Streams{Out: os.Stdout, Err: os.Stderr})
	fmt.Fprintln(os.Stderr, "helper runner: Run returned", code, err)
	os.Exit(4)
}

func TestKilledRunnerLeavesCleanableRemains(t *testing.T) {
	testutil.RequireLXC(t)
	lxcpath := filepath.Join(t.TempDir(), "lxc")
	b, err := lxc.New(lxc.Options{LXCPath: lxcpath})
	if err != nil {
		t.Fatal(err)
	}
	rootfs := testutil.BusyboxRootfs(t)
	name := uniqueName(t)
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(),
		"VR_LXC_HELPER_RUNNER=1", "VR_LXC_HELPER_LXCPATH="+lxcpath,
		"VR_LXC_HELPER_NAME="+name, "VR_LXC_HELPER_ROOTFS="+rootfs)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if sc.Text() == "ready" {
				ready <- true
				break
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case <-ready:
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("the helper runner never got its container running; stderr:\n%s", stderr.String())
	}

	// SIGKILL the runner: the container keeps running without it.
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	left, err := b.Leftovers(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(left, "\n"), "running") {
		t.Fatalf("after SIGKILL of the runner, Leftovers = %q; want the container still running", left)
	}
	if ps := processesMentioning(name); len(ps) == 0 {
		t.Errorf("no process of the container found after the runner was killed")
	}

	// A new run of the same name refuses to trample it.
	spec := container.Spec{Name: name, Rootfs: container.Rootfs{Dir: rootfs}, Process: container.Process{Argv: []string{"/bin/true"}}}
	if _, err := b.Run(context.Background(), spec, container.Streams{}); !errors.Is(err, container.ErrExists) {
		t.Errorf("Run over a leftover = %v, want ErrExists", err)
	}

	// Cleanup by name removes everything.
	if err := b.Cleanup(context.Background(), name); err != nil {
		t.Fatalf("Cleanup: %v", err)
	}
	assertNothingLeft(t, b, spec)
	if err := b.Cleanup(context.Background(), name); err != nil {
		t.Errorf("second Cleanup: %v", err)
	}

	// And the name is usable again.
	code, _, _ := run(t, b, spec, "")
	if code != 0 {
		t.Errorf("Run after Cleanup: exit %d", code)
	}
}

func TestInvalidSpecIsRefusedBeforeAnythingHappens(t *testing.T) {
	testutil.RequireLXC(t)
	b := newBackend(t)
	spec := busyboxSpec(t)
	if _, err := b.Run(context.Background(), spec, container.Streams{}); !errors.Is(err, container.ErrInvalidSpec) {
		t.Errorf("Run without argv = %v, want ErrInvalidSpec", err)
	}
	spec = busyboxSpec(t, "/bin/true")
	spec.Mounts = []container.Mount{{Source: "/does/not/exist", Target: "/x"}}
	if _, err := b.Run(context.Background(), spec, container.Streams{}); err == nil || !strings.Contains(err.Error(), "mounts[0].source") {
		t.Errorf("Run with a missing mount source = %v, want an error naming mounts[0].source", err)
	}
	assertNothingLeft(t, b, spec)
}

func TestStartFailureIsReportedAndCleanedUp(t *testing.T) {
	testutil.RequireLXC(t)
	b := newBackend(t)
	// A root filesystem whose /dev is a file: liblxc cannot mount the /dev tmpfs.
	spec := busyboxSpec(t, "/bin/true")
	spec.Rootfs.Dir = t.TempDir()
	if err := os.WriteFile(filepath.Join(spec.Rootfs.Dir, "dev"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile("/proc/self/cgroup")
	code, err := b.Run(context.Background(), spec, container.Streams{})
	if err == nil || code != -1 {
		t.Fatalf("Run = %d, %v; want -1 and an error", code, err)
	}
	for _, want := range []string{`start container "` + spec.Name + `"`, "liblxc log:", `Failed to mount "/dev"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if after, _ := os.ReadFile("/proc/self/cgroup"); !bytes.Equal(before, after) {
		t.Errorf("this process's cgroups changed:\n%s\nto\n%s", before, after)
	}
	assertNothingLeft(t, b, spec)
}

// TestNoNewPrivs: with Spec.NoNewPrivs the process (attached, not only init) runs with
// no_new_privs set, so setuid binaries cannot raise its privileges; without it, it does not.
func TestNoNewPrivs(t *testing.T) {
	testutil.RequireLXC(t)
	b := newBackend(t)
	for _, want := range []string{"0", "1"} {
		spec := busyboxSpec(t, "/bin/sh", "-c", "grep NoNewPrivs /proc/self/status")
		spec.NoNewPrivs = want == "1"
		spec.UID, spec.GID = 65534, 65534
		code, out, errOut := run(t, b, spec, "")
		if code != 0 || strings.Fields(out)[len(strings.Fields(out))-1] != want {
			t.Errorf("NoNewPrivs=%v: exit %d, stdout %q, stderr %q; want NoNewPrivs %s", spec.NoNewPrivs, code, out, errOut, want)
		}
	}
}
