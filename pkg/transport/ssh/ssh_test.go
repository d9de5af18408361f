package ssh_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vr-paas/vr/pkg/flock"
	"github.com/vr-paas/vr/pkg/transport"
	"github.com/vr-paas/vr/pkg/transport/ssh"
	"github.com/vr-paas/vr/pkg/transport/ssh/sshtest"
)

func dial(t *testing.T, s *sshtest.Server, cfg ssh.Config) *ssh.Host {
	t.Helper()
	h, err := ssh.Dial(context.Background(), s.Addr, cfg)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

func TestTransport(t *testing.T) {
	s := sshtest.Start(t)
	for _, sudo := range []bool{false, true} {
		name := "sftp"
		if sudo {
			name = "sudo"
		}
		t.Run(name, func(t *testing.T) {
			cfg := s.Config()
			cfg.Sudo = sudo
			h := dial(t, s, cfg)
			testHost(t, h)
		})
	}
}

func testHost(t *testing.T, h transport.Transport) {
	ctx := context.Background()
	dir := t.TempDir()

	res, err := h.Run(ctx, transport.Cmd{Argv: []string{"sh", "-c", "cat; echo \"$0\"; pwd", "it's"}, Stdin: strings.NewReader("in\n"), Dir: dir})
	if err != nil || string(res.Stdout) != "in\nit's\n"+dir+"\n" {
		t.Fatalf("Run: %q %v", res.Stdout, err)
	}
	_, err = h.Run(ctx, transport.Cmd{Argv: []string{"sh", "-c", "echo bad config >&2; exit 3"}})
	var re *transport.RunError
	if !errors.As(err, &re) || re.ExitCode != 3 || re.Output() != "bad config" || !strings.Contains(err.Error(), h.Host()) {
		t.Fatalf("failing command: %v", err)
	}

	p := filepath.Join(dir, "pool.conf")
	if _, err := h.ReadFile(ctx, p); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("read missing file: %v", err)
	}
	for _, data := range []string{"one\n", "two\n"} {
		if err := h.WriteFile(ctx, p, []byte(data), 0o640); err != nil {
			t.Fatalf("write: %v", err)
		}
		got, err := h.ReadFile(ctx, p)
		if err != nil || string(got) != data {
			t.Fatalf("read back %q %v", got, err)
		}
	}
	if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o640 {
		t.Fatalf("mode: %v %v", fi.Mode(), err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*")); len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}
	if err := h.Remove(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := h.Remove(ctx, p); err != nil {
		t.Fatalf("remove missing: %v", err)
	}
	if err := h.WriteFile(ctx, filepath.Join(dir, "no", "such", "dir"), nil, 0o644); err == nil {
		t.Fatal("write into a missing directory succeeded")
	}

	// The lock is a real flock on the host: a local flock(2) on the same file sees it.
	lp := filepath.Join(dir, ".pool.lock")
	u, err := h.Lock(ctx, lp)
	if err != nil {
		t.Fatalf("lock: %v", err)
	}
	if _, err := flock.TryLock(lp); !errors.Is(err, flock.ErrLocked) {
		t.Fatalf("local TryLock while held over SSH: %v", err)
	}
	tctx, cancel := context.WithTimeout(ctx, 1500*time.Millisecond)
	_, err = h.Lock(tctx, lp)
	cancel()
	if err == nil {
		t.Fatal("second Lock succeeded while the first is held")
	}
	if err := u.Unlock(); err != nil {
		t.Fatalf("unlock: %v", err)
	}
	l, err := flock.TryLock(lp)
	if err != nil {
		t.Fatalf("lock not released: %v", err)
	}
	l.Unlock()

	// Concurrent holders are serialised.
	var mu sync.Mutex
	inside, maxInside := 0, 0
	var wg sync.WaitGroup
	for i := 0; i < 5; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			u, err := h.Lock(ctx, lp)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			inside++
			maxInside = max(maxInside, inside)
			mu.Unlock()
			time.Sleep(20 * time.Millisecond)
			mu.Lock()
			inside--
			mu.Unlock()
			_ = u.Unlock()
		}()
	}
	wg.Wait()
	if maxInside != 1 {
		t.Fatalf("%d holders at once", maxInside)
	}
}

func TestCommandTimeout(t *testing.T) {
	s := sshtest.Start(t)
	cfg := s.Config()
	cfg.CommandTimeout = 300 * time.Millisecond
	h := dial(t, s, cfg)
	start := time.Now()
	_, err := h.Run(context.Background(), transport.Cmd{Argv: []string{"sleep", "5"}})
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 3*time.Second {
		t.Fatalf("timeout: %v after %s", err, time.Since(start))
	}
}

func TestHostKeyChecked(t *testing.T) {
	s := sshtest.Start(t)
	ctx := context.Background()

	wrong := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(wrong, []byte(sshtest.KnownHostsLine(s.Addr, sshtest.NewKey(t))), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := s.Config()
	cfg.KnownHosts = []string{wrong}
	_, err := ssh.Dial(ctx, s.Addr, cfg)
	if !errors.Is(err, transport.ErrHostKey) || !strings.Contains(err.Error(), "does not match") || !strings.Contains(err.Error(), s.Addr) {
		t.Fatalf("wrong host key: %v", err)
	}
	t.Logf("wrong key: %v", err)

	empty := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg.KnownHosts = []string{empty}
	_, err = ssh.Dial(ctx, s.Addr, cfg)
	if !errors.Is(err, transport.ErrHostKey) || !strings.Contains(err.Error(), "is not in") {
		t.Fatalf("unknown host: %v", err)
	}
	t.Logf("unknown host: %v", err)

	cfg.InsecureIgnoreHostKey = true
	h, err := ssh.Dial(ctx, s.Addr, cfg)
	if err != nil {
		t.Fatalf("insecure opt-out: %v", err)
	}
	h.Close()
}

func TestAuthAndConnectErrors(t *testing.T) {
	s := sshtest.Start(t)
	ctx := context.Background()
	cfg := s.Config()
	cfg.KeyFiles = []string{filepath.Join(t.TempDir(), "nokey")}
	if _, err := ssh.Dial(ctx, s.Addr, cfg); err == nil || !strings.Contains(err.Error(), "read key") {
		t.Fatalf("missing key file: %v", err)
	}
	cfg = s.Config()
	cfg.Password = "nope"
	cfg.KeyFiles = nil
	t.Setenv("HOME", t.TempDir())
	t.Setenv("SSH_AUTH_SOCK", "")
	if _, err := ssh.Dial(ctx, s.Addr, cfg); err == nil || !strings.Contains(err.Error(), "unable to authenticate") {
		t.Fatalf("bad password: %v", err)
	}
	cfg = s.Config()
	cfg.ConnectTimeout = time.Second
	if _, err := ssh.Dial(ctx, "127.0.0.1:1", cfg); err == nil || !strings.Contains(err.Error(), "ssh 127.0.0.1:1: connect") {
		t.Fatalf("closed port: %v", err)
	}
}

func TestCommandLine(t *testing.T) {
	cases := []struct {
		cmd  transport.Cmd
		sudo bool
		want string
	}{
		{transport.Cmd{Argv: []string{"nginx", "-t"}}, false, "nginx -t"},
		{transport.Cmd{Argv: []string{"sh", "-c", "a && b"}}, false, "sh -c 'a && b'"},
		{transport.Cmd{Argv: []string{"echo", "it's"}, Dir: "/etc/my dir"}, false, `cd '/etc/my dir' && echo 'it'\''s'`},
		{transport.Cmd{Argv: []string{"mv", "a", ""}}, true, "sudo -n -- mv a ''"},
	}
	for _, c := range cases {
		if got := ssh.CommandLineFor(c.cmd, c.sudo); got != c.want {
			t.Errorf("%v sudo=%t: %s, want %s", c.cmd.Argv, c.sudo, got, c.want)
		}
	}
	if got := strings.Join(ssh.LockArgv("/x/.web.lock", 2500*time.Millisecond), " "); got != "flock -w 2 /x/.web.lock sh -c echo locked; exec cat >/dev/null" {
		t.Errorf("LockArgv: %s", got)
	}
}
