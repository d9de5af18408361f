// Package supervisortest starts a real supervisord for tests: its own configuration, socket,
// logs and child log directory under a temporary directory, in the foreground (nodaemon), stopped
// when the test ends. Tests that use it are skipped, or failed under VR_TEST_REQUIRE=all, when
// supervisord is not installed (scripts/deps.sh installs it).
package supervisortest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vr-paas/vr/pkg/supervisor"
	"github.com/vr-paas/vr/pkg/testutil"
)

// DefaultCommand is the command of a Program that has none; its argv[0] is DefaultArgv0.
const (
	DefaultCommand = "/bin/sleep 3600"
	DefaultArgv0   = "/bin/sleep"
)

// Program is a [program:Name] section. Programs do not start by themselves, never restart, and
// are RUNNING as soon as they are spawned (startsecs=0), so tests control every transition.
type Program struct {
	Name    string
	Command string   // default DefaultCommand
	Extra   []string // more "key=value" lines for the section
}

// Listener is an [eventlistener:Name] section.
type Listener struct {
	Name        string
	Command     string
	Events      string            // default "PROCESS_STATE,PROCESS_GROUP,TICK_60"
	Environment map[string]string // the environment= line
	BufferSize  int               // default 100 (supervisord's own default is 10)
}

// Config describes the supervisord to start.
type Config struct {
	// Inet serves XML-RPC on 127.0.0.1 at a free port with basic auth (Username/Password,
	// default "vrtest"/"secret") instead of on a unix socket.
	Inet      bool
	Username  string
	Password  string
	Programs  []Program
	Listeners []Listener
}

// Supervisord is a running supervisord.
type Supervisord struct {
	Dir      string // temporary directory holding everything
	ConfPath string
	LogDir   string             // child logs: <name>.out and <name>.err
	URL      string             // unix:///... or http://127.0.0.1:port
	Username string             // "" for the unix socket
	Password string             //
	Client   *supervisor.Client // authenticated client
	cmd      *exec.Cmd
	done     chan struct{}
}

// Start writes the configuration, starts supervisord, waits until its XML-RPC answers RUNNING
// and registers its shutdown with t.Cleanup.
func Start(t testing.TB, cfg Config) *Supervisord {
	t.Helper()
	testutil.RequireBinary(t, "supervisord")
	// Unix socket paths are limited to 108 bytes: keep the directory short, not t.TempDir().
	dir, err := os.MkdirTemp("", "vrsv")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	s := &Supervisord{Dir: dir, ConfPath: filepath.Join(dir, "supervisord.conf"), LogDir: filepath.Join(dir, "logs")}
	if err := os.MkdirAll(s.LogDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "conf.d"), 0o755); err != nil {
		t.Fatal(err)
	}

	var conf strings.Builder
	if cfg.Inet {
		s.Username, s.Password = cfg.Username, cfg.Password
		if s.Username == "" {
			s.Username, s.Password = "vrtest", "secret"
		}
		port := testutil.FreePort(t)
		s.URL = fmt.Sprintf("http://127.0.0.1:%d", port)
		fmt.Fprintf(&conf, "[inet_http_server]\nport=127.0.0.1:%d\nusername=%s\npassword=%s\n\n", port, s.Username, s.Password)
	} else {
		sock := filepath.Join(dir, "supervisor.sock")
		s.URL = "unix://" + sock
		fmt.Fprintf(&conf, "[unix_http_server]\nfile=%s\nchmod=0700\n\n", sock)
	}
	fmt.Fprintf(&conf, `[supervisord]
nodaemon=true
logfile=%[1]s/supervisord.log
loglevel=info
pidfile=%[1]s/supervisord.pid
childlogdir=%[2]s
directory=%[1]s
minfds=16
minprocs=16

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[include]
files = %[1]s/conf.d/*.conf

`, dir, s.LogDir)
	for _, p := range cfg.Programs {
		conf.WriteString(s.programSection(p))
	}
	for _, l := range cfg.Listeners {
		conf.WriteString(s.listenerSection(l))
	}
	if err := os.WriteFile(s.ConfPath, []byte(conf.String()), 0o600); err != nil {
		t.Fatal(err)
	}

	s.Client, err = supervisor.New(s.URL, supervisor.Options{Username: s.Username, Password: s.Password, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(filepath.Join(dir, "supervisord.out"))
	if err != nil {
		t.Fatal(err)
	}
	s.cmd = exec.Command("supervisord", "-n", "-c", s.ConfPath)
	s.cmd.Stdout, s.cmd.Stderr = out, out
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		out.Close()
		t.Fatalf("start supervisord: %v", err)
	}
	s.done = make(chan struct{})
	go func() { _ = s.cmd.Wait(); out.Close(); close(s.done) }()
	t.Cleanup(s.stop)

	deadline := time.Now().Add(15 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		state, err := s.Client.GetState(ctx)
		cancel()
		if err == nil && state == "RUNNING" {
			return s
		}
		select {
		case <-s.done:
			t.Fatalf("supervisord exited during start-up:\n%s", s.Logs())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("supervisord not RUNNING after 15s (state %q, err %v):\n%s", state, err, s.Logs())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *Supervisord) programSection(p Program) string {
	cmd := p.Command
	if cmd == "" {
		cmd = DefaultCommand
	}
	var b strings.Builder
	fmt.Fprintf(&b, `[program:%[1]s]
command=%[2]s
autostart=false
autorestart=false
startsecs=0
startretries=0
stopwaitsecs=2
stdout_logfile=%[3]s/%[1]s.out
stderr_logfile=%[3]s/%[1]s.err
`, p.Name, cmd, s.LogDir)
	for _, l := range p.Extra {
		b.WriteString(l + "\n")
	}
	b.WriteString("\n")
	return b.String()
}

func (s *Supervisord) listenerSection(l Listener) string {
	events := l.Events
	if events == "" {
		events = "PROCESS_STATE,PROCESS_GROUP,TICK_60"
	}
	buf := l.BufferSize
	if buf == 0 {
		buf = 100
	}
	var b strings.Builder
	fmt.Fprintf(&b, `[eventlistener:%[1]s]
command=%[2]s
events=%[3]s
buffer_size=%[4]d
autostart=true
autorestart=true
startsecs=0
stopwaitsecs=5
stderr_logfile=%[5]s/%[1]s.err
`, l.Name, l.Command, events, buf, s.LogDir)
	if len(l.Environment) > 0 {
		keys := make([]string, 0, len(l.Environment))
		for k := range l.Environment {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var env []string
		for _, k := range keys {
			v := strings.ReplaceAll(l.Environment[k], "%", "%%")
			env = append(env, fmt.Sprintf("%s=%q", k, v))
		}
		b.WriteString("environment=" + strings.Join(env, ",") + "\n")
	}
	b.WriteString("\n")
	return b.String()
}

// AddProgram writes the program's section into conf.d, has supervisord re-read its
// configuration and adds the new group (which emits PROCESS_GROUP_ADDED).
func (s *Supervisord) AddProgram(t testing.TB, p Program) {
	t.Helper()
	path := filepath.Join(s.Dir, "conf.d", p.Name+".conf")
	if err := os.WriteFile(path, []byte(s.programSection(p)), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, _, _, err := s.Client.ReloadConfig(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Client.AddProcessGroup(ctx, p.Name); err != nil {
		t.Fatal(err)
	}
}

// WaitState polls until the process is in one of the given states (statenames) and returns
// its info; it fails the test after timeout.
func (s *Supervisord) WaitState(t testing.TB, name string, timeout time.Duration, states ...string) supervisor.ProcessInfo {
	t.Helper()
	var info supervisor.ProcessInfo
	var err error
	testutil.Eventually(t, timeout, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		info, err = s.Client.GetProcessInfo(ctx, name)
		return err == nil && slices.Contains(states, info.StateName)
	}, func() string {
		return fmt.Sprintf("%s not in %v (info %+v, err %v)\n%s", name, states, info, err, s.Logs())
	})
	return info
}

// WaitExec waits until the running process has exec'd its command (its argv[0] in
// /proc/<pid>/cmdline is argv0), and returns its pid. With startsecs=0 supervisord reports
// RUNNING as soon as it has forked; a SIGTERM that arrives before the exec is caught by the
// child's copy of supervisord's handler and lost, and stopping then takes stopwaitsecs.
func (s *Supervisord) WaitExec(t testing.TB, name, argv0 string) int {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		info := s.WaitState(t, name, 5*time.Second, "RUNNING")
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", info.PID))
		if first, _, _ := strings.Cut(string(b), "\x00"); first == argv0 {
			return info.PID
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s (pid %d) has not exec'd %s after 5s: cmdline %q", name, info.PID, argv0, b)
		}
		time.Sleep(time.Millisecond)
	}
}

// ChildLog returns what a program or listener wrote to stderr so far.
func (s *Supervisord) ChildLog(name string) string {
	b, _ := os.ReadFile(filepath.Join(s.LogDir, name+".err"))
	return string(b)
}

// Logs returns supervisord's own log and output, and every child's stderr log, for failure
// messages.
func (s *Supervisord) Logs() string {
	var b strings.Builder
	for _, f := range []string{filepath.Join(s.Dir, "supervisord.out"), filepath.Join(s.Dir, "supervisord.log")} {
		data, _ := os.ReadFile(f)
		fmt.Fprintf(&b, "--- %s\n%s", filepath.Base(f), tail(string(data), 4000))
	}
	errs, _ := filepath.Glob(filepath.Join(s.LogDir, "*.err"))
	for _, f := range errs {
		data, _ := os.ReadFile(f)
		if len(data) > 0 {
			fmt.Fprintf(&b, "--- %s\n%s", filepath.Base(f), tail(string(data), 4000))
		}
	}
	return b.String()
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// stop sends SIGTERM (supervisord stops its children) and, if it has not exited after 10 s,
// kills its whole process group.
func (s *Supervisord) stop() {
	s.Client.Close()
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.done
	}
}
