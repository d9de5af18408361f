//go:build linux && cgo

package runner_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/vr-paas/vr/pkg/container"
	"github.com/vr-paas/vr/pkg/fetch"
	"github.com/vr-paas/vr/pkg/flock"
	"github.com/vr-paas/vr/pkg/runner"
	"github.com/vr-paas/vr/pkg/schema"
	"github.com/vr-paas/vr/pkg/testutil"
	"github.com/vr-paas/vr/pkg/uptest"
)

var variants = []runner.Variant{runner.Image, runner.Precise}

// TestWebApp is the whole contract on both variants: setup, run an app that listens on
// PORT, call it over HTTP (a page and a CGI script showing its environment), its uptests in
// a separate container, a shell, SIGTERM, teardown, nothing left.
func TestWebApp(t *testing.T) {
	for _, v := range variants {
		t.Run(v.String(), func(t *testing.T) {
			e := newEnv(t)
			c := e.proc(v)
			c.Env = map[string]string{"DEMO_MESSAGE": `it's "$5"`}
			c.Settings = map[string]any{"greeting": "@How's it going?", "workers": 4}
			r, p := e.setUp(c, v)
			l := runner.LayoutOf(e.root, p.Name)

			// The on-disk layout.
			for _, f := range []string{"container.json", "proc.lxc", "rootfs/proc.sh", "rootfs/env.sh", "rootfs/settings.yaml", "rootfs/app/Procfile"} {
				if _, err := os.Stat(filepath.Join(l.ProcDir(), f)); err != nil {
					t.Errorf("after setup: %v", err)
				}
			}
			if v == runner.Image {
				lxcConf, _ := os.ReadFile(l.ProcLXC())
				// The lower dir is the image version's own directory (contents is a symlink to
				// it), so a refreshed image never changes under a running proc.
				lower, _ := filepath.EvalSymlinks(filepath.Join(e.root, "images/busybox/contents"))
				if !strings.Contains(string(lxcConf), "lxc.rootfs.path = overlay:"+lower+":"+l.Rootfs()) || !strings.Contains(string(lxcConf), "lxc.net.0.type = none") {
					t.Errorf("proc.lxc:\n%s", lxcConf)
				}
			}
			// /app and its files belong to the proc's user (nobody:nogroup in both the image
			// and on this host).
			for _, f := range []string{"", "Procfile", "public/cgi-bin/env"} {
				fi, err := os.Stat(filepath.Join(l.App(), f))
				if err != nil {
					t.Fatal(err)
				}
				st := fi.Sys().(*syscall.Stat_t)
				if st.Uid != 65534 || st.Gid != 65534 {
					t.Errorf("/app/%s owned by %d:%d, want 65534:65534", f, st.Uid, st.Gid)
				}
			}

			var out testutil.SyncBuffer
			stop := background(t, r, p, &out)
			page := waitHTTP(t, c.Port, "/", &out)
			if !strings.Contains(page, "hello from vr") {
				t.Errorf("GET / = %q", page)
			}
			envPage := waitHTTP(t, c.Port, "/cgi-bin/env", &out)
			for _, want := range []string{
				"user=65534:65534\n", fmt.Sprintf("PORT=%d\n", c.Port), "HOME=/app\n", "TMPDIR=/tmp\n",
				"GREETING=hello from .profile.d\n", "APP_SETTINGS_YAML=/settings.yaml\n",
				"DEMO_MESSAGE=it's \"$5\"\n", "greeting: '@How''s it going?'\n", "workers: 4\n",
			} {
				if !strings.Contains(envPage, want) {
					t.Errorf("GET /cgi-bin/env lacks %q:\n%s", want, envPage)
				}
			}

			// A second run of the running proc is refused by the lock, and so are setup and
			// teardown.
			want := p.Path + " is locked by another process"
			if _, err := r.Run(context.Background(), p, container.Streams{}); err == nil || err.Error() != want || !errors.Is(err, flock.ErrLocked) {
				t.Errorf("second Run: %v; want %q", err, want)
			}
			if err := r.Setup(context.Background(), p); err == nil || err.Error() != want {
				t.Errorf("Setup of a running proc: %v", err)
			}
			if err := r.Teardown(context.Background(), p.Path); err == nil || err.Error() != want {
				t.Errorf("Teardown of a running proc: %v", err)
			}

			// Uptests run against it, in their own container, while it runs.
			results, err := r.Uptest(context.Background(), p)
			if err != nil {
				t.Fatal(err)
			}
			if len(results) != 2 || !uptest.Passed(results) {
				t.Errorf("uptests: %+v", results)
			}

			// A shell in a container like the proc's, fed from stdin.
			var shOut testutil.SyncBuffer
			script := "echo \"port=$PORT user=$(id -u) pwd=$(pwd) greeting=$GREETING\"; echo x > /tmp/shell-was-here; touch /app/written-by-shell; exit 3\n"
			code, err := r.Shell(context.Background(), p, container.Streams{In: strings.NewReader(script), Out: &shOut, Err: &shOut}, false)
			wantSh := fmt.Sprintf("port=%d user=65534 pwd=/app greeting=hello from .profile.d\n", c.Port)
			if err != nil || code != 3 || shOut.String() != wantSh {
				t.Errorf("Shell: code %d, err %v, output %q; want 3 and %q", code, err, shOut.String(), wantSh)
			}
			if _, err := os.Stat(filepath.Join(l.Rootfs(), "tmp/shell-was-here")); err == nil {
				t.Error("the shell's /tmp is the proc's")
			}
			if _, err := os.Stat(filepath.Join(l.App(), "written-by-shell")); err != nil {
				t.Errorf("the shell's /app should be the proc's: %v", err)
			}
			if ents, _ := os.ReadDir(l.Tmp()); len(ents) != 0 {
				t.Errorf("shell and uptest containers left in %s: %v", l.Tmp(), ents)
			}

			// SIGTERM (context cancel) stops it; busybox httpd dies of SIGTERM.
			code, err = stop()
			if !errors.Is(err, container.ErrStopped) || code != 143 {
				t.Errorf("stopped Run: code %d, err %v; want 143 and ErrStopped\n%s", code, err, out.String())
			}

			var progress bytes.Buffer
			r.Progress = &progress
			if err := r.Teardown(context.Background(), p.Path); err != nil {
				t.Fatal(err)
			}
			e.assertNothingLeft(p)
			// Builds and images stay.
			if _, err := os.Stat(filepath.Join(e.root, "builds", filepath.Base(shared.build))); err != nil {
				t.Errorf("build cache: %v", err)
			}
			// Teardown of what is gone is success.
			if err := r.Teardown(context.Background(), p.Path); err != nil {
				t.Errorf("second Teardown: %v", err)
			}
		})
	}
}

// TestEnvSettingsVolumesInside checks what the proc sees, with cmd instead of the Procfile.
func TestEnvSettingsVolumesInside(t *testing.T) {
	for _, v := range variants {
		t.Run(v.String(), func(t *testing.T) {
			e := newEnv(t)
			vol := t.TempDir()
			if err := os.WriteFile(filepath.Join(vol, "from-host"), []byte("host data\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(vol, 0o777); err != nil {
				t.Fatal(err)
			}
			c := e.proc(v)
			c.Cmd = `sh -c 'echo "quotes=$QUOTES"; echo "dollar=$DOLLAR"; echo "host=$FROMHOST"; cat /data/from-host; echo written > /data/from-proc; cat "$APP_SETTINGS_YAML"; ls -d /app/log; echo "args=$#"'`
			c.Env = map[string]string{"QUOTES": `a "b" 'c'`, "DOLLAR": "$x ${y} `z`", "FROMHOST": "$VR_TEST_RUNNER_HOST_VAR"}
			c.Settings = map[string]any{"db": map[string]any{"host": "db1"}}
			c.Volumes = []schema.Volume{{Host: vol, Container: "/data"}, {Host: vol, Container: "/app/log"}}
			t.Setenv("VR_TEST_RUNNER_HOST_VAR", "value from the host")
			r, p := e.setUp(c, v)
			code, out := runOut(t, r, p)
			want := "quotes=a \"b\" 'c'\ndollar=$x ${y} `z`\nhost=value from the host\nhost data\ndb:\n  host: db1\n/app/log\nargs=0\n"
			if code != 0 || out != want {
				t.Errorf("exit %d, output:\n%s\nwant:\n%s", code, out, want)
			}
			if data, err := os.ReadFile(filepath.Join(vol, "from-proc")); err != nil || string(data) != "written\n" {
				t.Errorf("the volume is not writable from the proc: %q %v", data, err)
			}
			if err := r.Teardown(context.Background(), p.Path); err != nil {
				t.Fatal(err)
			}
			e.assertNothingLeft(p)
			if _, err := os.Stat(filepath.Join(vol, "from-host")); err != nil {
				t.Errorf("teardown touched the volume: %v", err)
			}
		})
	}
}

func TestMemoryLimitKills(t *testing.T) {
	e := newEnv(t)
	// awk doubles a string until it holds 256 MiB; a 32 MiB limit stops it.
	prog := `awk 'BEGIN { s = "x"; while (length(s) < 268435456) s = s s; print "survived", length(s) }'`
	c := e.proc(runner.Image)
	c.Cmd = prog
	c.MemLimit = "32M"
	if e.b.HostInfo().MemorySwap {
		c.MemswLimit = "32M"
	}
	r, p := e.setUp(c, runner.Image)
	if code, out := runOut(t, r, p); code != 137 || strings.Contains(out, "survived") {
		t.Errorf("with mem_limit 32M: exit %d, output %q; want 137 (killed by the OOM killer)", code, out)
	}
	if err := r.Teardown(context.Background(), p.Path); err != nil {
		t.Fatal(err)
	}

	c2 := e.proc(runner.Image)
	c2.Cmd = prog
	r, p = e.setUp(c2, runner.Image)
	if code, out := runOut(t, r, p); code != 0 || !strings.HasPrefix(out, "survived") {
		t.Errorf("without a limit: exit %d, output %q", code, out)
	}
	if err := r.Teardown(context.Background(), p.Path); err != nil {
		t.Fatal(err)
	}
}

func TestSIGTERMGraceThenSIGKILL(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		name, cmd string
		code      int
		maxTime   time.Duration
	}{
		// Handles SIGTERM: exits 0 at once, well within the grace period.
		{"graceful", `sh -c 'trap "echo got-term; exit 0" TERM; echo ready; while :; do sleep 0.05; done'`, 0, 1500 * time.Millisecond},
		// Ignores it: SIGKILL after the grace period.
		{"stubborn", `sh -c 'trap "" TERM; echo ready; while :; do sleep 0.05; done'`, 137, 5 * time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := e.proc(runner.Precise)
			c.Cmd = tc.cmd
			r, p := e.setUp(c, runner.Precise)
			r.StopTimeout = 700 * time.Millisecond
			out := &readyWriter{ready: make(chan struct{})}
			stop := background(t, r, p, out)
			select {
			case <-out.ready:
			case <-time.After(15 * time.Second):
				t.Fatalf("never ready: %q", out.String())
			}
			start := time.Now()
			code, err := stop()
			d := time.Since(start)
			if code != tc.code || !errors.Is(err, container.ErrStopped) {
				t.Errorf("exit %d, err %v; want %d (output %q)", code, err, tc.code, out.String())
			}
			if d > tc.maxTime || (tc.code == 137 && d < 700*time.Millisecond) {
				t.Errorf("stopping took %v", d)
			}
			if tc.code == 0 && !strings.Contains(out.String(), "got-term") {
				t.Errorf("output %q", out.String())
			}
			if err := r.Teardown(context.Background(), p.Path); err != nil {
				t.Fatal(err)
			}
			e.assertNothingLeft(p)
		})
	}
}

// readyWriter closes ready when "ready" has been written.
type readyWriter struct {
	testutil.SyncBuffer
	ready chan struct{}
	once  sync.Once
}

func (w *readyWriter) Write(p []byte) (int, error) {
	n, err := w.SyncBuffer.Write(p)
	if strings.Contains(w.String(), "ready") {
		w.once.Do(func() { close(w.ready) })
	}
	return n, err
}

// TestUptestsInContainer: passing, failing, hanging (killed) tests and awkward output, in
// the proc's environment.
func TestUptestsInContainer(t *testing.T) {
	e := newEnv(t)
	app := t.TempDir()
	files := map[string]string{
		"Procfile":              "web: sleep 1000\n",
		"uptests/web/01_pass":   "#!/bin/sh\necho \"args=$1 $2 port=$PORT user=$(id -u)\"\n",
		"uptests/web/02_fail":   "#!/bin/sh\necho failing >&2\nexit 7\n",
		"uptests/web/03_hang":   "#!/bin/sh\ntrap '' TERM\necho hanging\nwhile :; do sleep 0.05; done\n",
		"uptests/web/04_output": "#!/bin/sh\nprintf '100%% %%s \"q\" \\x27s\\n\\001\\377\\376<&>'\n",
		"uptests/web/05_write":  "#!/bin/sh\ntouch /app/x 2>&1 || echo app-read-only\necho ok > /tmp/t && cat /tmp/t\n",
		"uptests/web/.hidden":   "#!/bin/sh\nexit 1\n",
	}
	for name, content := range files {
		f := filepath.Join(app, name)
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, []byte(content), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	build := filepath.Join(t.TempDir(), "uptests-build.tar.gz")
	if _, err := fetch.CreateTarGz(context.Background(), build, app, fetch.TarOptions{}); err != nil {
		t.Fatal(err)
	}
	c := e.proc(runner.Image)
	c.BuildURL, c.BuildMD5 = build, ""
	c.Host = "example.invalid"
	r, p := e.setUp(c, runner.Image)
	r.UptestTimeout = 500 * time.Millisecond
	start := time.Now()
	results, err := r.Uptest(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("uptests took %v", d)
	}
	if len(results) != 5 {
		t.Fatalf("%d results: %+v", len(results), results)
	}
	byName := map[string]uptest.Result{}
	for _, res := range results {
		byName[res.Name] = res
	}
	if r := byName["01_pass"]; !r.Passed || r.Output != fmt.Sprintf("args=example.invalid %d port=%d user=65534\n", c.Port, c.Port) {
		t.Errorf("pass: %+v", r)
	}
	if r := byName["02_fail"]; r.Passed || r.ExitCode != 7 || r.Output != "failing\n" {
		t.Errorf("fail: %+v", r)
	}
	if r := byName["03_hang"]; r.Passed || !r.TimedOut || r.ExitCode != 137 || !strings.HasPrefix(r.Output, "hanging\n") {
		t.Errorf("hang: %+v", r)
	}
	if r := byName["05_write"]; !r.Passed || !strings.Contains(r.Output, "app-read-only") || !strings.HasSuffix(r.Output, "ok\n") {
		t.Errorf("write: %+v", r)
	}
	var b bytes.Buffer
	if err := uptest.Encode(&b, results); err != nil {
		t.Fatal(err)
	}
	var back []map[string]any
	if err := json.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatalf("invalid JSON: %v\n%s", err, b.String())
	}
	if got := back[3]["Output"]; got != "100% %s \"q\" 's\n\x01\uFFFD<&>" {
		t.Errorf("awkward output = %q", got)
	}

	// No uptests folder for the proc → [].
	c2 := e.proc(runner.Image)
	c2.ProcName = "worker"
	c2.Cmd = "true"
	r2, p2 := e.setUp(c2, runner.Image)
	if res, err := r2.Uptest(context.Background(), p2); err != nil || res == nil || len(res) != 0 {
		t.Errorf("no uptests: %v, %v", res, err)
	}
	for _, pp := range []*runner.Proc{p, p2} {
		if err := r.Teardown(context.Background(), pp.Path); err != nil {
			t.Fatal(err)
		}
		e.assertNothingLeft(pp)
	}
}

// TestSetupAgainAndFailures: setup is repeatable; a failed setup leaves nothing behind.
func TestSetupAgainAndFailures(t *testing.T) {
	e := newEnv(t)
	c := e.proc(runner.Image)
	c.Cmd = "cat /app/Procfile"
	r, p := e.setUp(c, runner.Image)
	l := runner.LayoutOf(e.root, p.Name)
	if err := os.WriteFile(filepath.Join(l.Rootfs(), "kept"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := r.Setup(context.Background(), p); err != nil {
		t.Fatalf("second setup: %v", err)
	}
	if _, err := os.Stat(filepath.Join(l.Rootfs(), "kept")); err != nil {
		t.Errorf("setup again lost the proc's files: %v", err)
	}
	if code, out := runOut(t, r, p); code != 0 || !strings.Contains(out, "web: busybox httpd") {
		t.Errorf("run after two setups: %d %q", code, out)
	}
	if err := r.Teardown(context.Background(), p.Path); err != nil {
		t.Fatal(err)
	}

	failures := []struct {
		name   string
		change func(c *schema.ProcConfig)
		want   string
	}{
		{"missing procfile entry", func(c *schema.ProcConfig) { c.ProcName = "nosuch" }, `key "proc_name": no cmd, and "nosuch" is not in the build's Procfile (it has web, env)`},
		{"missing build", func(c *schema.ProcConfig) { c.BuildURL, c.BuildMD5 = "/no/such/build.tar.gz", "" }, "no such file or directory"},
		{"wrong build md5", func(c *schema.ProcConfig) { c.BuildMD5 = strings.Repeat("0", 32) }, "checksum mismatch"},
		{"unknown user", func(c *schema.ProcConfig) { c.User = "nosuchuser" }, `key "user": "nosuchuser": no such user in ` + filepath.Join(e.root, "images/busybox/contents-")},
		{"missing volume", func(c *schema.ProcConfig) { c.Volumes = []schema.Volume{{Host: "/no/such/dir", Container: "/data"}} }, `key "volumes": item 1: host dir`},
	}
	for _, f := range failures {
		t.Run(f.name, func(t *testing.T) {
			for _, fresh := range []bool{true, false} {
				c := e.proc(runner.Image)
				f.change(c)
				name, _ := c.Name()
				l := runner.LayoutOf(e.root, name)
				path := l.ProcYAML()
				if fresh {
					// proc.yaml outside the proc folder: setup creates the folder.
					path = filepath.Join(t.TempDir(), "myproc.yaml")
				} else if err := os.MkdirAll(l.ProcDir(), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := c.WriteFile(path); err != nil {
					t.Fatal(err)
				}
				p, err := runner.Load(path, runner.Image)
				if err != nil {
					t.Fatal(err)
				}
				err = e.runner(runner.Image).Setup(context.Background(), p)
				if err == nil || !strings.Contains(err.Error(), f.want) {
					t.Fatalf("Setup error %v, want %q", err, f.want)
				}
				if fresh {
					if _, err := os.Stat(l.ProcDir()); !errors.Is(err, fs.ErrNotExist) {
						t.Errorf("failed setup left %s", l.ProcDir())
					}
				} else {
					ents, _ := os.ReadDir(l.ProcDir())
					if len(ents) != 1 || ents[0].Name() != "proc.yaml" {
						var names []string
						for _, e := range ents {
							names = append(names, e.Name())
						}
						t.Errorf("failed setup left %v in %s; want only proc.yaml", names, l.ProcDir())
					}
					_ = os.RemoveAll(l.ProcDir())
				}
			}
		})
	}
}

// TestDownloadsAreCheckedAndRefreshed: build and image come over HTTP; a cached copy whose
// md5 no longer matches is downloaded again, and a download that does not match is refused.
func TestDownloadsAreCheckedAndRefreshed(t *testing.T) {
	e := newEnv(t)
	imageData, _ := os.ReadFile(shared.image)
	buildData, _ := os.ReadFile(shared.build)
	var hits sync.Map
	var corrupt atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		n, _ := hits.LoadOrStore(req.URL.Path, new(atomic.Int32))
		n.(*atomic.Int32).Add(1)
		data := buildData
		if strings.HasPrefix(req.URL.Path, "/images/") {
			data = imageData
		}
		if corrupt.Load() {
			data = append(append([]byte(nil), data...), 0)
		}
		_, _ = w.Write(data)
	}))
	defer srv.Close()
	count := func(p string) int32 {
		n, ok := hits.Load(p)
		if !ok {
			return 0
		}
		return n.(*atomic.Int32).Load()
	}

	c := e.proc(runner.Image)
	c.Cmd = "true"
	c.BuildURL, c.BuildMD5 = srv.URL+"/builds/app-v1.tar.gz", md5hex(buildData)
	c.ImageURL, c.ImageMD5 = srv.URL+"/images/busybox.tar.gz", md5hex(imageData)
	r, p := e.setUp(c, runner.Image)
	if err := r.Setup(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if count("/builds/app-v1.tar.gz") != 1 || count("/images/busybox.tar.gz") != 1 {
		t.Errorf("two setups downloaded the build %d times and the image %d times; want once each", count("/builds/app-v1.tar.gz"), count("/images/busybox.tar.gz"))
	}

	// The cached build is damaged: the next setup downloads it again.
	cached := filepath.Join(e.root, "builds", "app-v1.tar.gz")
	if err := os.WriteFile(cached, []byte("damaged"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := r.Setup(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if count("/builds/app-v1.tar.gz") != 2 {
		t.Errorf("damaged cache: %d downloads, want 2", count("/builds/app-v1.tar.gz"))
	}

	// The server now serves something else: refused, and the proc stays as it was.
	corrupt.Store(true)
	if err := os.WriteFile(cached, []byte("damaged"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := r.Setup(context.Background(), p)
	if err == nil || !errors.Is(err, fetch.ErrChecksum) {
		t.Errorf("setup with a build that does not match build_md5: %v", err)
	}
	l := runner.LayoutOf(e.root, p.Name)
	if _, err := os.Stat(l.State()); err != nil {
		t.Errorf("a failed setup again broke the set-up proc: %v", err)
	}
	// And an image whose md5 changed but does not match is refused too.
	c.ImageMD5 = strings.Repeat("1", 32)
	p2 := e.write(c, runner.Image)
	if err := r.Setup(context.Background(), p2); err == nil || !errors.Is(err, fetch.ErrChecksum) {
		t.Errorf("setup with an image that does not match image_md5: %v", err)
	}
	corrupt.Store(false)
	if err := r.Teardown(context.Background(), p.Path); err != nil {
		t.Fatal(err)
	}
}

// TestParallelProcs: 20 procs set up, run and torn down at the same time, sharing the image
// and the build, do not interfere.
func TestParallelProcs(t *testing.T) {
	e := newEnv(t)
	const n = 20
	procs := make([]*runner.Proc, n)
	for i := range procs {
		v := variants[i%2]
		c := e.proc(v)
		c.Cmd = `sh -c 'echo "$PORT $(cat /app/Procfile | wc -l)"'`
		procs[i] = e.write(c, v)
	}
	each := func(f func(i int, r *runner.Runner, p *runner.Proc) error) {
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i, p := range procs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = f(i, e.runner(variants[i%2]), p)
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
	}
	each(func(i int, r *runner.Runner, p *runner.Proc) error { return r.Setup(context.Background(), p) })
	each(func(i int, r *runner.Runner, p *runner.Proc) error {
		var out testutil.SyncBuffer
		code, err := r.Run(context.Background(), p, container.Streams{Out: &out, Err: &out})
		if want := fmt.Sprintf("%d 4\n", p.Config.Port); err != nil || code != 0 || out.String() != want {
			return fmt.Errorf("proc %d: exit %d, err %v, output %q, want %q", i, code, err, out.String(), want)
		}
		return nil
	})
	each(func(i int, r *runner.Runner, p *runner.Proc) error { return r.Teardown(context.Background(), p.Path) })
	for _, p := range procs {
		e.assertNothingLeft(p)
	}
}

// TestKilledRunnerIsCleanedUp: a runner killed with SIGKILL leaves its container running;
// the next run removes it, and so does teardown.
func TestKilledRunnerIsCleanedUp(t *testing.T) {
	e := newEnv(t)
	c := e.proc(runner.Image)
	c.Cmd = `sh -c 'echo ready; exec sleep 1000'`
	r, p := e.setUp(c, runner.Image)
	start := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), "VR_RUNNER_HELPER=image", "VR_RUNNER_HELPER_ROOT="+e.root, "VR_RUNNER_HELPER_PROC="+p.Path)
		out := &readyWriter{ready: make(chan struct{})}
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		select {
		case <-out.ready:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			t.Fatalf("helper runner not ready: %s", out.String())
		}
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return cmd
	}
	start()
	cname := runner.ContainerName(p.Name)
	if left, _ := e.b.Leftovers(context.Background(), cname); !strings.Contains(strings.Join(left, "\n"), "running") {
		t.Fatalf("after SIGKILL of the runner: %q; want the container still running", left)
	}
	// The lock died with the runner; a new run removes the remains and runs.
	out := &readyWriter{ready: make(chan struct{})}
	stop := background(t, r, p, out)
	select {
	case <-out.ready:
	case <-time.After(20 * time.Second):
		t.Fatalf("second run not ready: %s", out.String())
	}
	if code, err := stop(); code != 137 && code != 143 {
		t.Errorf("second run: %d %v", code, err)
	}

	start()
	if err := r.Teardown(context.Background(), p.Path); err != nil {
		t.Fatal(err)
	}
	e.assertNothingLeft(p)
}
