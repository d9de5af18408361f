package supervisor_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vr-paas/vr/pkg/supervisor"
	"github.com/vr-paas/vr/pkg/testutil"
)

func TestProcProgram(t *testing.T) {
	p := supervisor.ProcProgram("app-v1-prod-abcd1234-web-5000", "/usr/local/bin/vruntime", "/apps/procs/app-v1-prod-abcd1234-web-5000/proc.yaml", "/apps/procs/app-v1-prod-abcd1234-web-5000", 10*time.Second)
	got, err := p.Render()
	if err != nil {
		t.Fatal(err)
	}
	want := `[program:app-v1-prod-abcd1234-web-5000]
command=/usr/local/bin/vruntime run /apps/procs/app-v1-prod-abcd1234-web-5000/proc.yaml
directory=/apps/procs/app-v1-prod-abcd1234-web-5000/rootfs/app
user=root
autostart=true
autorestart=true
stopsignal=TERM
stopwaitsecs=15
redirect_stderr=true
stdout_logfile=/apps/procs/app-v1-prod-abcd1234-web-5000/log
stdout_logfile_maxbytes=10000000
stdout_logfile_backups=1
`
	if string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestProgramRenderErrors(t *testing.T) {
	cases := []struct {
		p    supervisor.ProgramConfig
		want string
	}{
		{supervisor.ProgramConfig{Name: "a:b", Command: []string{"x"}}, "program name"},
		{supervisor.ProgramConfig{Name: "", Command: []string{"x"}}, "must not be empty"},
		{supervisor.ProgramConfig{Name: "a"}, "command: must name a program"},
		{supervisor.ProgramConfig{Name: "a", Command: []string{"x", "a\nb"}}, "command: contains a line break"},
		{supervisor.ProgramConfig{Name: "a", Command: []string{"x", "a ;b"}}, "start of a comment"},
		{supervisor.ProgramConfig{Name: "a", Command: []string{"x"}, Environment: map[string]string{"1X": "y"}}, "not a variable name"},
		{supervisor.ProgramConfig{Name: "a", Command: []string{"x"}, Environment: map[string]string{"X": `'"`}}, "both"},
		{supervisor.ProgramConfig{Name: "a", Command: []string{"x"}, Environment: map[string]string{"X": "a #b"}}, "start of a comment"},
	}
	for _, tc := range cases {
		if _, err := tc.p.Render(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.p, err, tc.want)
		}
	}
}

// TestProgramUnderSupervisord has a real supervisord read a section with awkward command
// words and environment values, start the program, and stop it through supervisorctl.
func TestProgramUnderSupervisord(t *testing.T) {
	sd := startSupervisord(t)
	log := filepath.Join(sd.dir, "prog.log")
	p := supervisor.ProgramConfig{
		Name: "awkward",
		Command: []string{"/bin/sh", "-c", `printf '[%s]' "$@"; printf '{%s}' "$VR_A" "$VR_B"; echo; exec sleep 100`, "sh",
			"two words", `it's "quoted"`, "100%", `back\slash`, "$HOME"},
		Environment:  map[string]string{"VR_A": `say "hi" 50%`, "VR_B": `c:\dir, x=y#it's`},
		Directory:    sd.dir,
		AutoStart:    true,
		StopWaitSecs: 3,
		LogFile:      log,
	}
	if err := p.WriteFile(filepath.Join(sd.dir, "conf.d", "awkward.conf")); err != nil {
		t.Fatal(err)
	}
	sd.ctl(t, "update")
	want := `[two words][it's "quoted"][100%][back\slash][$HOME]{say "hi" 50%}{c:\dir, x=y#it's}` + "\n"
	deadline := time.Now().Add(10 * time.Second)
	for {
		data, _ := os.ReadFile(log)
		if string(data) == want {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("log %q, want %q\n%s", data, want, sd.logs())
		}
		time.Sleep(20 * time.Millisecond)
	}
	for out := sd.ctl(t, "status", "awkward"); !strings.Contains(out, "RUNNING"); out = sd.ctl(t, "status", "awkward") {
		if time.Now().After(deadline) {
			t.Fatalf("status: %s", out)
		}
		time.Sleep(50 * time.Millisecond)
	}
	sd.ctl(t, "stop", "awkward")
	if out := sd.ctl(t, "status", "awkward"); !strings.Contains(out, "STOPPED") {
		t.Errorf("status after stop: %s", out)
	}
}

// supervisord is a supervisord of a test: its own config, unix socket and logs in a
// temporary folder, in the foreground, stopped at the end of the test.
type supervisord struct {
	dir, sock string
	cmd       *exec.Cmd
}

func startSupervisord(t *testing.T) *supervisord {
	t.Helper()
	testutil.RequireBinary(t, "supervisord", "supervisorctl")
	// Unix socket paths are limited to 108 bytes: keep the folder name short.
	dir, err := os.MkdirTemp("", "vrsd")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	sd := &supervisord{dir: dir, sock: filepath.Join(dir, "s.sock")}
	if err := os.Mkdir(filepath.Join(dir, "conf.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	conf := "[unix_http_server]\nfile=" + sd.sock + "\nchmod=0700\n\n" +
		"[supervisord]\nnodaemon=true\nlogfile=" + dir + "/supervisord.log\npidfile=" + dir + "/supervisord.pid\nchildlogdir=" + dir + "\n\n" +
		"[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n" +
		"[supervisorctl]\nserverurl=unix://" + sd.sock + "\n\n" +
		"[include]\nfiles = " + dir + "/conf.d/*.conf\n"
	confPath := filepath.Join(dir, "supervisord.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(filepath.Join(dir, "supervisord.out"))
	if err != nil {
		t.Fatal(err)
	}
	sd.cmd = exec.Command("supervisord", "-n", "-c", confPath)
	sd.cmd.Stdout, sd.cmd.Stderr = out, out
	sd.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := sd.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = sd.cmd.Wait(); out.Close(); close(done) }()
	t.Cleanup(func() {
		_ = sd.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = syscall.Kill(-sd.cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	})
	testutil.Eventually(t, 15*time.Second, func() bool {
		o, err := exec.Command("supervisorctl", "-c", confPath, "pid").CombinedOutput()
		return err == nil && strings.TrimSpace(string(o)) != ""
	}, func() string { return "supervisord did not come up:\n" + sd.logs() })
	return sd
}

// ctl runs supervisorctl with args and returns its output; it fails the test when
// supervisorctl cannot talk to supervisord.
func (sd *supervisord) ctl(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("supervisorctl", append([]string{"-c", filepath.Join(sd.dir, "supervisord.conf")}, args...)...).CombinedOutput()
	if err != nil && (len(args) == 0 || args[0] != "status") {
		t.Fatalf("supervisorctl %v: %v\n%s\n%s", args, err, out, sd.logs())
	}
	return string(out)
}

func (sd *supervisord) logs() string {
	var b strings.Builder
	for _, f := range []string{"supervisord.out", "supervisord.log"} {
		data, _ := os.ReadFile(filepath.Join(sd.dir, f))
		b.WriteString("--- " + f + "\n" + string(data))
	}
	return b.String()
}
