//go:build linux

package lxc

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vr-paas/vr/pkg/container"
)

func TestHierarchyDir(t *testing.T) {
	h := hierarchy{mount: "/sys/fs/cgroup/memory", root: "/"}
	if got := h.dir("/a/b"); got != "/sys/fs/cgroup/memory/a/b" {
		t.Errorf("dir = %q", got)
	}
	// A cgroup filesystem mounted from a sub-cgroup (as inside a container).
	h = hierarchy{mount: "/sys/fs/cgroup/memory", root: "/lxc.payload.x"}
	for cg, want := range map[string]string{
		"/lxc.payload.x":      "/sys/fs/cgroup/memory",
		"/lxc.payload.x/sub":  "/sys/fs/cgroup/memory/sub",
		"/lxc.payload.xother": "",
		"/":                   "",
	} {
		if got := h.dir(cg); got != want {
			t.Errorf("dir(%q) = %q, want %q", cg, got, want)
		}
	}
}

func TestLookupCgroup(t *testing.T) {
	m := map[string]string{"cpuacct,cpu": "/a", "memory": "/m", "name=systemd": "/s", "": "/u"}
	for _, tc := range []struct {
		h    hierarchy
		want string
		ok   bool
	}{
		{hierarchy{key: "memory", controllers: []string{"memory"}}, "/m", true},
		{hierarchy{key: "cpu,cpuacct", controllers: []string{"cpu", "cpuacct"}}, "/a", true},
		{hierarchy{key: "name=systemd", controllers: []string{"name=systemd"}}, "/s", true},
		{hierarchy{v2: true}, "/u", true},
		{hierarchy{key: "pids", controllers: []string{"pids"}}, "", false},
	} {
		got, ok := lookupCgroup(m, tc.h)
		if got != tc.want || ok != tc.ok {
			t.Errorf("lookupCgroup(%q) = %q, %v; want %q, %v", tc.h.key, got, ok, tc.want, tc.ok)
		}
	}
}

func TestProbeCgroupsOnThisHost(t *testing.T) {
	ch, err := probeCgroups()
	if err != nil {
		t.Skipf("no usable cgroup filesystem here: %v", err)
	}
	if len(ch.hierarchies) == 0 || len(ch.hierarchies) != len(ch.bases) {
		t.Fatalf("hierarchies %v, bases %v", ch.hierarchies, ch.bases)
	}
	info := ch.hostInfo()
	if info.Cgroup != container.CgroupV1 && info.Cgroup != container.CgroupV2 {
		t.Errorf("cgroup version %d", info.Cgroup)
	}
	dirs := ch.containerDirs("x")
	if len(dirs) != 2*len(ch.bases) || !strings.HasSuffix(dirs[0], "/vr.payload.x") || !strings.HasSuffix(dirs[1], "/vr.monitor.x") {
		t.Errorf("containerDirs = %v", dirs)
	}
	// restoreSelf with the current cgroups is a no-op.
	saved, err := selfCgroups()
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.restoreSelf(saved); err != nil {
		t.Errorf("restoreSelf(current) = %v", err)
	}
}

func TestExitCode(t *testing.T) {
	for _, tc := range []struct {
		script string
		want   int
	}{{"exit 0", 0}, {"exit 7", 7}, {"kill -TERM $$", 143}, {"kill -KILL $$", 137}} {
		cmd := exec.Command("/bin/sh", "-c", tc.script)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		var ws unix.WaitStatus
		if _, err := unix.Wait4(cmd.Process.Pid, &ws, 0, nil); err != nil {
			t.Fatal(err)
		}
		if got := exitCode(ws); got != tc.want {
			t.Errorf("%q: exitCode = %d, want %d", tc.script, got, tc.want)
		}
	}
}

func TestWaitGoneAndAlive(t *testing.T) {
	if !alive(os.Getpid()) {
		t.Error("alive(self) = false")
	}
	cmd := exec.Command("sleep", "10")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	if err := waitGone(pid, 50*time.Millisecond, nil); err == nil {
		t.Error("waitGone returned before the process exited")
	}
	if !alive(pid) {
		t.Error("alive(running) = false")
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	// A zombie (exited, not reaped yet) counts as gone.
	if err := waitGone(pid, 5*time.Second, nil); err != nil {
		t.Errorf("waitGone: %v", err)
	}
	if alive(pid) {
		t.Error("alive(zombie) = true")
	}
	_ = cmd.Wait()
	if err := waitGone(pid, time.Second, nil); err != nil {
		t.Errorf("waitGone(reaped) = %v", err)
	}
	if err := waitGonePolling(pid, time.Second); err != nil {
		t.Errorf("waitGonePolling(reaped) = %v", err)
	}
}

// TestStdioPipes plays the process by hand on the child ends.
func TestStdioPipes(t *testing.T) {
	var out, errb bytes.Buffer
	st, err := openStdio(container.Streams{In: strings.NewReader("input"), Out: &out, Err: &errb}, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	in, _ := io.ReadAll(st.child[0])
	_, _ = st.child[1].WriteString("to stdout")
	_, _ = st.child[2].WriteString("to stderr")
	st.started()
	st.finish(0)
	if string(in) != "input" || out.String() != "to stdout" || errb.String() != "to stderr" {
		t.Errorf("stdin %q, stdout %q, stderr %q", in, out.String(), errb.String())
	}

	// No stdin means /dev/null; nil writers discard.
	st, err = openStdio(container.Streams{}, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := st.child[0].Read(make([]byte, 1)); n != 0 {
		t.Error("stdin is not empty")
	}
	_, _ = st.child[1].WriteString("discarded")
	st.started()
	st.finish(0)
}

// TestStdioDrainTimeout: a process's child that keeps stdout open does not hold finish.
func TestStdioDrainTimeout(t *testing.T) {
	var out bytes.Buffer
	st, err := openStdio(container.Streams{Out: &out}, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	held, err := unix.Dup(int(st.child[1].Fd()))
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(held)
	_, _ = st.child[1].WriteString("before exit")
	st.started()
	start := time.Now()
	st.finish(100 * time.Millisecond)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("finish took %v", d)
	}
	if out.String() != "before exit" {
		t.Errorf("stdout %q", out.String())
	}
}

func TestStdioTTY(t *testing.T) {
	ptmx := func() (int, error) {
		return unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	}
	if _, err := os.Stat("/dev/ptmx"); err != nil {
		t.Skip("no /dev/ptmx")
	}
	var out bytes.Buffer
	st, err := openStdio(container.Streams{In: strings.NewReader("typed\n"), Out: &out}, true, ptmx)
	if err != nil {
		t.Fatal(err)
	}
	if st.child[0] != st.child[1] || st.child[1] != st.child[2] || !isTerminal(int(st.child[0].Fd())) {
		t.Fatal("the process's stdio is not one terminal")
	}
	line := make([]byte, 64)
	n, err := st.child[0].Read(line)
	if err != nil || string(line[:n]) != "typed\n" {
		t.Errorf("read from the pty: %q, %v", line[:n], err)
	}
	_, _ = st.child[1].WriteString("shown\n")
	st.started()
	st.finish(0)
	// The terminal echoes the input and turns \n into \r\n.
	if got := out.String(); !strings.Contains(got, "typed\r\n") || !strings.Contains(got, "shown\r\n") {
		t.Errorf("pty output %q", got)
	}
}

func TestPruneInitScope(t *testing.T) {
	for in, want := range map[string]string{
		"/init.scope":                 "/",
		"/":                           "/",
		"/a/init.scope":               "/a",
		"/system.slice/x.service":     "/system.slice/x.service",
		"/init.scope/sub":             "/init.scope/sub",
		"/notinit.scope":              "/notinit.scope",
		"init.scope":                  "init.scope",
		"/lxc.payload.c/init.scope":   "/lxc.payload.c",
		"/user.slice/user-0.slice":    "/user.slice/user-0.slice",
		"/system.slice/my-init.scope": "/system.slice/my-init.scope",
	} {
		if got := pruneInitScope(in); got != want {
			t.Errorf("pruneInitScope(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestCgroupBasesOnSystemdHosts: systemd puts PID 1 in /init.scope; liblxc creates the
// container cgroups beside it (prune_init_scope), so the bases must not end in init.scope.
func TestCgroupBasesOnSystemdHosts(t *testing.T) {
	// Unified (Debian 12 with systemd).
	unified := []hierarchy{{mount: "/sys/fs/cgroup", root: "/", v2: true, controllers: []string{"memory", "pids"}}}
	ch := newCgroupHost(unified, parseProcCgroups("0::/init.scope\n"))
	if want := []string{"/sys/fs/cgroup"}; !slices.Equal(ch.bases, want) {
		t.Errorf("unified: bases = %q, want %q", ch.bases, want)
	}
	if dirs := ch.payloadDirs("x"); !slices.Equal(dirs, []string{"/sys/fs/cgroup/vr.payload.x"}) {
		t.Errorf("unified: payloadDirs = %q", dirs)
	}

	// Hybrid: v1 controllers at "/", the named systemd hierarchy and cgroup2 in init.scope.
	hybrid := []hierarchy{
		{key: "memory", mount: "/sys/fs/cgroup/memory", root: "/", controllers: []string{"memory"}},
		{key: "name=systemd", mount: "/sys/fs/cgroup/systemd", root: "/", controllers: []string{"name=systemd"}},
		{mount: "/sys/fs/cgroup/unified", root: "/", v2: true},
	}
	ch = newCgroupHost(hybrid, parseProcCgroups("4:memory:/\n1:name=systemd:/init.scope\n0::/init.scope\n"))
	want := []string{"/sys/fs/cgroup/memory", "/sys/fs/cgroup/systemd", "/sys/fs/cgroup/unified"}
	if !slices.Equal(ch.bases, want) {
		t.Errorf("hybrid: bases = %q, want %q", ch.bases, want)
	}

	// Nested: PID 1 in a deeper cgroup keeps it, minus init.scope.
	ch = newCgroupHost(unified, parseProcCgroups("0::/lxc.payload.outer/init.scope\n"))
	if want := []string{"/sys/fs/cgroup/lxc.payload.outer"}; !slices.Equal(ch.bases, want) {
		t.Errorf("nested: bases = %q, want %q", ch.bases, want)
	}
}

// TestStdioSameWriterForOutAndErr: one writer for stdout and stderr is not written
// concurrently (go test -race).
func TestStdioSameWriterForOutAndErr(t *testing.T) {
	var both bytes.Buffer
	st, err := openStdio(container.Streams{Out: &both, Err: &both}, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	const n = 200
	var wg sync.WaitGroup
	for _, f := range st.child[1:] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < n; i++ {
				_, _ = f.WriteString("0123456789\n")
			}
		}()
	}
	wg.Wait()
	st.started()
	st.finish(0)
	if got := both.Len(); got != 2*n*11 {
		t.Errorf("got %d bytes, want %d", got, 2*n*11)
	}
}

func TestSameWriter(t *testing.T) {
	var a, b bytes.Buffer
	for _, tc := range []struct {
		a, b io.Writer
		want bool
	}{
		{&a, &a, true},
		{&a, &b, false},
		{nil, nil, false},
		{&a, nil, false},
		{os.Stdout, os.Stdout, true},
		{os.Stdout, os.Stderr, false},
		// Incomparable dynamic types must not panic.
		{writerFunc(nil), writerFunc(nil), false},
	} {
		if got := sameWriter(tc.a, tc.b); got != tc.want {
			t.Errorf("sameWriter(%T %p, %T %p) = %v, want %v", tc.a, tc.a, tc.b, tc.b, got, tc.want)
		}
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// TestStdinCopierStopsWithTheProcess: two processes in a row read the same pipe; the
// first one's stdin copier must not be left reading it and swallow the second one's input.
func TestStdinCopierStopsWithTheProcess(t *testing.T) {
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	read := func(st *stdio) string {
		t.Helper()
		buf := make([]byte, 64)
		_ = st.child[0].SetReadDeadline(time.Now().Add(5 * time.Second))
		n, err := st.child[0].Read(buf)
		if err != nil {
			t.Fatalf("read stdin: %v (an earlier stdin copier swallowed the input?)", err)
		}
		return string(buf[:n])
	}
	for _, in := range []string{"first", "second", "third"} {
		st, err := openStdio(container.Streams{In: pr}, false, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pw.WriteString(in); err != nil {
			t.Fatal(err)
		}
		if got := read(st); got != in {
			t.Errorf("process got %q on stdin, want %q", got, in)
		}
		// The copier is back in a Read of pr when the process exits.
		time.Sleep(20 * time.Millisecond)
		st.started()
		st.finish(0)
	}
	// The caller's file still works, in its own (non-blocking, polled) mode.
	_, _ = pw.WriteString("left")
	buf := make([]byte, 8)
	if n, err := pr.Read(buf); err != nil || string(buf[:n]) != "left" {
		t.Errorf("caller read %q, %v", buf[:n], err)
	}
}

// TestStdinReaderRestoresBlockingMode: a blocking stdin (a terminal, a shell's pipe) is
// read without blocking while the process runs and is blocking again afterwards.
func TestStdinReaderRestoresBlockingMode(t *testing.T) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(p[1])
	f := os.NewFile(uintptr(p[0]), "blocking-pipe") // blocking: not in the poller
	defer f.Close()
	r, stop := stdinReader(f)
	if r == io.Reader(f) {
		t.Fatal("stdinReader did not duplicate the file")
	}
	done := make(chan error, 1)
	go func() {
		_, err := r.Read(make([]byte, 1))
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	stop()
	select {
	case err := <-done:
		if err == nil {
			t.Error("the interrupted Read returned data")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("stop did not interrupt the Read")
	}
	flags, err := unix.FcntlInt(uintptr(p[0]), unix.F_GETFL, 0)
	if err != nil || flags&unix.O_NONBLOCK != 0 {
		t.Errorf("flags %#x, %v: O_NONBLOCK left set", flags, err)
	}
}
