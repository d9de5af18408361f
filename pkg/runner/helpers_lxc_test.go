//go:build linux && cgo

package runner_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vr-paas/vr/pkg/container"
	"github.com/vr-paas/vr/pkg/container/lxc"
	"github.com/vr-paas/vr/pkg/fetch"
	"github.com/vr-paas/vr/pkg/runner"
	"github.com/vr-paas/vr/pkg/schema"
	"github.com/vr-paas/vr/pkg/testutil"
)

// appDir is the test app: busybox httpd serving a page and a CGI script, with uptests.
const appDir = "../../testdata/apps/busybox_web"

// shared holds what every test of this binary may reuse: the busybox image tarball and the
// test app's build tarball, made once.
var shared struct {
	once       sync.Once
	dir        string
	image      string // path of the image tarball
	imageMD5   string
	build      string // path of the app's build tarball
	buildMD5   string
	err        error
	procNumber atomic.Int64
}

func TestMain(m *testing.M) {
	if os.Getenv("VR_RUNNER_HELPER") != "" {
		os.Exit(helperMain())
	}
	code := m.Run()
	if shared.dir != "" {
		_ = os.RemoveAll(shared.dir)
	}
	testutil.RemoveBinaries()
	os.Exit(code)
}

// fixtures makes the image and build tarballs once.
func fixtures(t testing.TB) {
	t.Helper()
	testutil.RequireLXC(t)
	testutil.RequireBinary(t, "busybox")
	shared.once.Do(func() {
		ctx := context.Background()
		shared.dir, shared.err = os.MkdirTemp("", "vr-runner-test-")
		if shared.err != nil {
			return
		}
		rootfs := filepath.Join(shared.dir, "busybox-rootfs")
		if shared.err = testutil.MakeBusyboxRootfs(rootfs); shared.err != nil {
			return
		}
		shared.image = filepath.Join(shared.dir, "busybox.tar.gz")
		sums, err := fetch.CreateTarGz(ctx, shared.image, rootfs, fetch.TarOptions{Level: 1})
		if shared.err = err; err != nil {
			return
		}
		shared.imageMD5 = sums.MD5
		shared.build = filepath.Join(shared.dir, "busybox_web-v1-build.tar.gz")
		sums, err = fetch.CreateTarGz(ctx, shared.build, appDir, fetch.TarOptions{Level: 1})
		shared.err = err
		shared.buildMD5 = sums.MD5
	})
	if shared.err != nil {
		t.Fatalf("test fixtures: %v", shared.err)
	}
}

// env is one test's VR_ROOT with a real lxc backend.
type env struct {
	t    testing.TB
	root string
	b    *lxc.Backend
}

func newEnv(t testing.TB) *env {
	t.Helper()
	fixtures(t)
	root := t.TempDir()
	b, err := lxc.New(lxc.Options{LXCPath: runner.LXCPath(root)})
	if err != nil {
		t.Fatalf("lxc.New: %v", err)
	}
	return &env{t: t, root: root, b: b}
}

// runner returns a Runner of the variant over this env.
func (e *env) runner(v runner.Variant) *runner.Runner {
	return &runner.Runner{Root: e.root, Variant: v, Backend: e.b, StopTimeout: 2 * time.Second, UptestTimeout: 20 * time.Second}
}

// proc returns a proc.yaml config for the variant with a unique name and a free port, over
// the busybox image and the test app's build; change it and write it with write.
func (e *env) proc(v runner.Variant) *schema.ProcConfig {
	n := shared.procNumber.Add(1)
	c := &schema.ProcConfig{
		AppName:     fmt.Sprintf("t%d_%d", os.Getpid(), n),
		Version:     "v1",
		ConfigName:  "test",
		ReleaseHash: "abcd1234",
		ProcName:    "web",
		Port:        testutil.FreePort(e.t),
		User:        "nobody",
		Group:       "nogroup",
		BuildURL:    shared.build,
		BuildMD5:    shared.buildMD5,
	}
	if v == runner.Image {
		c.ImageURL, c.ImageName, c.ImageMD5 = shared.image, "busybox", shared.imageMD5
	}
	return c
}

// write writes the config to $VR_ROOT/procs/<name>/proc.yaml, where the deployer puts it,
// and loads it.
func (e *env) write(c *schema.ProcConfig, v runner.Variant) *runner.Proc {
	e.t.Helper()
	name, err := c.Name()
	if err != nil {
		e.t.Fatal(err)
	}
	l := runner.LayoutOf(e.root, name)
	if err := os.MkdirAll(l.ProcDir(), 0o755); err != nil {
		e.t.Fatal(err)
	}
	if err := c.WriteFile(l.ProcYAML()); err != nil {
		e.t.Fatal(err)
	}
	p, err := runner.Load(l.ProcYAML(), v)
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

// setUp writes and sets up a proc.
func (e *env) setUp(c *schema.ProcConfig, v runner.Variant) (*runner.Runner, *runner.Proc) {
	e.t.Helper()
	p := e.write(c, v)
	r := e.runner(v)
	var progress bytes.Buffer
	r.Progress = &progress
	if err := r.Setup(context.Background(), p); err != nil {
		e.t.Fatalf("Setup: %v\n%s", err, progress.String())
	}
	r.Progress = nil
	return r, p
}

// runOut runs the proc to its end and returns its exit code and output (stdout+stderr).
func runOut(t testing.TB, r *runner.Runner, p *runner.Proc) (int, string) {
	t.Helper()
	var out testutil.SyncBuffer
	code, err := r.Run(context.Background(), p, container.Streams{Out: &out, Err: &out})
	if err != nil {
		t.Fatalf("Run: %v (output %q)", err, out.String())
	}
	return code, out.String()
}

// background runs the proc until the returned stop is called; stop returns Run's results.
func background(t testing.TB, r *runner.Runner, p *runner.Proc, out io.Writer) (stop func() (int, error)) {
	ctx, cancel := context.WithCancel(context.Background())
	type res struct {
		code int
		err  error
	}
	done := make(chan res, 1)
	go func() {
		code, err := r.Run(ctx, p, container.Streams{Out: out, Err: out})
		done <- res{code, err}
	}()
	var once sync.Once
	var result res
	stop = func() (int, error) {
		once.Do(func() {
			cancel()
			select {
			case result = <-done:
			case <-time.After(30 * time.Second):
				result = res{-1, errors.New("Run did not return within 30s of the cancel")}
			}
		})
		return result.code, result.err
	}
	t.Cleanup(func() { _, _ = stop() })
	return stop
}

// waitHTTP polls http://127.0.0.1:port/path until it answers 200 and returns the body.
func waitHTTP(t testing.TB, port int, path string, log fmt.Stringer) string {
	t.Helper()
	url := fmt.Sprintf("http://127.0.0.1:%d%s", port, path)
	var body string
	var err error
	testutil.Eventually(t, 15*time.Second, func() bool {
		var resp *http.Response
		if resp, err = http.Get(url); err != nil {
			return false
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			err = fmt.Errorf("status %s: %s", resp.Status, b)
			return false
		}
		body = string(b)
		return true
	}, func() string { return fmt.Sprintf("GET %s: %v\nproc output:\n%s", url, err, log) })
	return body
}

// assertNothingLeft checks that nothing of the proc is left: its folder, its containers
// (the backend's view), mounts and processes mentioning it.
func (e *env) assertNothingLeft(p *runner.Proc) {
	e.t.Helper()
	l := runner.LayoutOf(e.root, p.Name)
	if _, err := os.Stat(l.ProcDir()); !errors.Is(err, os.ErrNotExist) {
		e.t.Errorf("proc dir left: %s (%v)", l.ProcDir(), err)
	}
	cname := runner.ContainerName(p.Name)
	if left, err := e.b.Leftovers(context.Background(), cname); err != nil || len(left) > 0 {
		e.t.Errorf("Leftovers(%s) = %q, %v", cname, left, err)
	}
	mountinfo, _ := os.ReadFile("/proc/self/mountinfo")
	for _, line := range strings.Split(string(mountinfo), "\n") {
		if strings.Contains(line, l.ProcDir()) || strings.Contains(line, cname) {
			e.t.Errorf("mount left: %s", line)
		}
	}
	if defs, _ := os.ReadDir(runner.LXCPath(e.root)); len(defs) > 0 {
		for _, d := range defs {
			if strings.HasPrefix(d.Name(), cname) {
				e.t.Errorf("container definition left: %s", d.Name())
			}
		}
	}
	cgroups, _ := filepath.Glob("/sys/fs/cgroup/*/vr.*" + cname + "*")
	for _, c := range cgroups {
		e.t.Errorf("cgroup left: %s", c)
	}
	for _, ps := range processesMentioning(cname) {
		e.t.Errorf("process left: %s", ps)
	}
}

// processesMentioning lists live processes whose command line contains s.
func processesMentioning(s string) []string {
	var out []string
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		cmd, err := os.ReadFile(filepath.Join(d, "cmdline"))
		if err != nil || len(cmd) == 0 || filepath.Base(d) == fmt.Sprint(os.Getpid()) {
			continue
		}
		line := string(bytes.ReplaceAll(cmd, []byte{0}, []byte{' '}))
		if strings.Contains(line, s) {
			out = append(out, filepath.Base(d)+": "+line)
		}
	}
	return out
}

func md5hex(b []byte) string { s := md5.Sum(b); return hex.EncodeToString(s[:]) }

// helperMain is the test binary acting as a runner that is then killed: it runs the proc
// named by VR_RUNNER_HELPER_PROC (a proc.yaml) and never returns on its own.
func helperMain() int {
	root := os.Getenv("VR_RUNNER_HELPER_ROOT")
	b, err := lxc.New(lxc.Options{LXCPath: runner.LXCPath(root)})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 3
	}
	v := runner.Image
	if os.Getenv("VR_RUNNER_HELPER") == "precise" {
		v = runner.Precise
	}
	p, err := runner.Load(os.Getenv("VR_RUNNER_HELPER_PROC"), v)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 3
	}
	r := &runner.Runner{Root: root, Variant: v, Backend: b}
	code, err := r.Run(context.Background(), p, container.Streams{Out: os.Stdout, Err: os.Stderr})
	fmt.Fprintln(os.Stderr, "helper: Run returned", code, err)
	return 4
}
