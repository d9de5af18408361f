//go:build linux && cgo

package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vr-paas/vr/pkg/cli"
	"github.com/vr-paas/vr/pkg/cli/clitest"
	"github.com/vr-paas/vr/pkg/container/lxc"
	"github.com/vr-paas/vr/pkg/fetch"
	"github.com/vr-paas/vr/pkg/runner"
	"github.com/vr-paas/vr/pkg/schema"
	"github.com/vr-paas/vr/pkg/supervisor"
	"github.com/vr-paas/vr/pkg/testutil"
)

// asVruntime makes the test binary act as vruntime when supervisord starts it.
const asVruntime = "VR_TEST_AS_VRUNTIME"

func TestMain(m *testing.M) {
	if os.Getenv(asVruntime) != "" {
		os.Exit(cli.Main(newRootCmd, os.Args[1:], cli.StdStreams()))
	}
	os.Exit(m.Run())
}

// TestProcUnderSupervisord deploys procs as the original server did (proc.yaml, vruntime
// setup, proc.conf included by supervisord), lets supervisord start them, and stops them with
// supervisorctl: the runner exits cleanly, passing the proc's exit code on, within
// supervisord's stopwaitsecs, and leaves no process, container or mount behind.
func TestProcUnderSupervisord(t *testing.T) {
	testutil.RequireLXC(t)
	testutil.RequireBinary(t, "busybox", "supervisord", "supervisorctl")
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// Short paths: supervisord's unix socket lives here too.
	root, err := os.MkdirTemp("", "vrsup")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(root) })
	t.Setenv("VR_ROOT", root)
	image, imageMD5 := busyboxImage(t)
	build := filepath.Join(t.TempDir(), "busybox_web.tar.gz")
	if _, err := fetch.CreateTarGz(context.Background(), build, "../../testdata/apps/busybox_web", fetch.TarOptions{}); err != nil {
		t.Fatal(err)
	}

	type proc struct {
		cfg    *schema.ProcConfig
		name   string
		yaml   string
		exit   int // the proc's exit code when stopped
		stopIn time.Duration
	}
	newProc := func(app, cmd string, want int) *proc {
		c := &schema.ProcConfig{AppName: app, Version: "v1", ConfigName: "test", ReleaseHash: "abcd1234", ProcName: "web",
			Port: testutil.FreePort(t), User: "nobody", Group: "nogroup", BuildURL: build, Cmd: cmd,
			ImageURL: image, ImageName: "busybox", ImageMD5: imageMD5}
		n, err := c.Name()
		if err != nil {
			t.Fatal(err)
		}
		l := runner.LayoutOf(root, n)
		if err := os.MkdirAll(l.ProcDir(), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := c.WriteFile(l.ProcYAML()); err != nil {
			t.Fatal(err)
		}
		if r := clitest.Run(t, newRootCmd, "setup", l.ProcYAML()); r.Code != 0 {
			t.Fatalf("setup: %d\n%s%s", r.Code, r.Stdout, r.Stderr)
		}
		prog := supervisor.ProcProgram(n.String(), self, l.ProcYAML(), l.ProcDir(), time.Second)
		prog.Environment = map[string]string{asVruntime: "1", "VR_ROOT": root, "VR_STOP_TIMEOUT": "1s"}
		if err := prog.WriteFile(l.ProcConf()); err != nil {
			t.Fatal(err)
		}
		return &proc{cfg: c, name: n.String(), yaml: l.ProcYAML(), exit: want}
	}
	web := newProc("supweb", "", 143)                                                                     // busybox httpd dies of SIGTERM
	stubborn := newProc("supstub", `sh -c 'trap "" TERM; echo ready; while :; do sleep 0.05; done'`, 137) // killed after the 1 s grace

	sd := startSupervisord(t, root)
	body := waitHTTP(t, web.cfg.Port, sd)
	if !strings.Contains(body, "hello from vr") {
		t.Errorf("GET / = %q", body)
	}
	sd.waitState(t, stubborn.name, "RUNNING")
	// Uptests against the supervised proc, through the CLI.
	if r := clitest.Run(t, newRootCmd, "uptest", web.yaml); r.Code != 0 || !strings.Contains(r.Stdout, `"Passed":true`) {
		t.Errorf("uptest: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}

	b, err := lxc.New(lxc.Options{LXCPath: runner.LXCPath(root)})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []*proc{web, stubborn} {
		start := time.Now()
		out := sd.ctl(t, "stop", p.name)
		if !strings.Contains(out, "stopped") {
			t.Errorf("supervisorctl stop %s: %s", p.name, out)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("stopping %s took %v", p.name, d)
		}
		log, _ := os.ReadFile(filepath.Join(root, "procs", p.name, "log"))
		if want := fmt.Sprintf("stopped by a signal; it exited with code %d", p.exit); !bytes.Contains(log, []byte(want)) {
			t.Errorf("%s log lacks %q:\n%s", p.name, want, log)
		}
		if sdLog, _ := os.ReadFile(filepath.Join(sd.dir, "supervisord.log")); bytes.Contains(sdLog, []byte("with SIGKILL")) {
			t.Errorf("supervisord had to SIGKILL a runner:\n%s", sdLog)
		}
		// No orphans: nothing of the container is left on the host.
		cname := runner.ContainerName(mustName(t, p.cfg))
		if left, err := b.Leftovers(context.Background(), cname); err != nil || len(left) > 0 {
			t.Errorf("after stop, Leftovers(%s) = %q, %v", cname, left, err)
		}
		if ps := processesMentioning(cname); len(ps) > 0 {
			t.Errorf("processes left: %q", ps)
		}
		mountinfo, _ := os.ReadFile("/proc/self/mountinfo")
		if bytes.Contains(mountinfo, []byte(filepath.Join(root, "procs", p.name))) {
			t.Errorf("mounts left under the proc folder")
		}
		// Teardown through the CLI, as the original's delete_proc did after stop+remove.
		sd.ctl(t, "remove", p.name)
		if r := clitest.Run(t, newRootCmd, "teardown", p.yaml); r.Code != 0 {
			t.Errorf("teardown: %d %s", r.Code, r.Stderr)
		}
		if _, err := os.Stat(filepath.Join(root, "procs", p.name)); err == nil {
			t.Errorf("proc folder left")
		}
	}
}

func mustName(t *testing.T, c *schema.ProcConfig) schema.ProcName {
	n, err := c.Name()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// busyboxImage packs a busybox root filesystem into an image tarball.
func busyboxImage(t *testing.T) (string, string) {
	t.Helper()
	rootfs := testutil.BusyboxRootfs(t)
	path := filepath.Join(t.TempDir(), "busybox.tar.gz")
	sums, err := fetch.CreateTarGz(context.Background(), path, rootfs, fetch.TarOptions{Level: 1})
	if err != nil {
		t.Fatal(err)
	}
	return path, sums.MD5
}

// supervisord is a test's supervisord, configured as a vr host's: it includes
// $VR_ROOT/procs/*/proc.conf.
type supervisord struct {
	dir  string
	conf string
}

func startSupervisord(t *testing.T, root string) *supervisord {
	t.Helper()
	dir := filepath.Join(root, "sv")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	sd := &supervisord{dir: dir, conf: filepath.Join(dir, "supervisord.conf")}
	sock := filepath.Join(dir, "s.sock")
	conf := "[unix_http_server]\nfile=" + sock + "\nchmod=0700\n\n" +
		"[supervisord]\nnodaemon=true\nlogfile=" + dir + "/supervisord.log\npidfile=" + dir + "/supervisord.pid\nchildlogdir=" + dir + "\n\n" +
		"[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n" +
		"[supervisorctl]\nserverurl=unix://" + sock + "\n\n" +
		"[include]\nfiles = " + root + "/procs/*/proc.conf\n"
	if err := os.WriteFile(sd.conf, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(filepath.Join(dir, "supervisord.out"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("supervisord", "-n", "-c", sd.conf)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); out.Close(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	})
	return sd
}

func (sd *supervisord) ctl(t *testing.T, args ...string) string {
	t.Helper()
	out, _ := exec.Command("supervisorctl", append([]string{"-c", sd.conf}, args...)...).CombinedOutput()
	return string(out)
}

func (sd *supervisord) waitState(t *testing.T, name, state string) {
	t.Helper()
	var out string
	testutil.Eventually(t, 20*time.Second, func() bool {
		out = sd.ctl(t, "status", name)
		return strings.Contains(out, state)
	}, func() string { return fmt.Sprintf("%s not %s: %s\n%s", name, state, out, sd.logs()) })
}

func (sd *supervisord) logs() string {
	var b strings.Builder
	for _, f := range []string{"supervisord.out", "supervisord.log"} {
		data, _ := os.ReadFile(filepath.Join(sd.dir, f))
		b.WriteString("--- " + f + "\n" + string(data))
	}
	return b.String()
}

func waitHTTP(t *testing.T, port int, sd *supervisord) string {
	t.Helper()
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	var body []byte
	var err error
	testutil.Eventually(t, 20*time.Second, func() bool {
		var resp *http.Response
		if resp, err = http.Get(url); err != nil {
			return false
		}
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		return true
	}, func() string { return fmt.Sprintf("GET %s: %v\n%s", url, err, sd.logs()) })
	return string(body)
}

func processesMentioning(s string) []string {
	var out []string
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		cmd, err := os.ReadFile(filepath.Join(d, "cmdline"))
		if err != nil || len(cmd) == 0 || filepath.Base(d) == fmt.Sprint(os.Getpid()) {
			continue
		}
		if line := string(bytes.ReplaceAll(cmd, []byte{0}, []byte{' '})); strings.Contains(line, s) {
			out = append(out, filepath.Base(d)+": "+line)
		}
	}
	return out
}
