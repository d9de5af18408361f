// Package eventstest starts a real redis-server for tests (on a free loopback port, with its own
// temporary directory, no persistence unless asked, stopped when the test ends), and builds the
// proc-publisher binary for tests that run it under supervisord.
package eventstest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/vr-paas/vr/pkg/events"
	"github.com/vr-paas/vr/pkg/testutil"
)

// Redis is a redis-server started by a test.
type Redis struct {
	Port     int
	Addr     string        // 127.0.0.1:port
	URL      string        // redis://[:password@]127.0.0.1:port/0
	Password string        // requirepass, if any
	Dir      string        // its working directory (dump.rdb, redis.log)
	Client   *redis.Client // a client from events.Dial
	t        testing.TB
	cmd      *exec.Cmd
	done     chan struct{}
}

// StartRedis starts redis-server on a free port of 127.0.0.1 and waits until it answers PING.
// It is stopped (killed) when the test ends.
func StartRedis(t testing.TB) *Redis {
	t.Helper()
	return StartRedisWithPassword(t, "")
}

// StartRedisWithPassword is StartRedis with requirepass set (when password is not empty).
func StartRedisWithPassword(t testing.TB, password string) *Redis {
	t.Helper()
	testutil.RequireBinary(t, "redis-server")
	r := &Redis{t: t, Dir: t.TempDir(), Password: password}
	for attempt := 0; ; attempt++ {
		r.Port = testutil.FreePort(t)
		r.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(r.Port))
		r.URL = "redis://" + r.Addr + "/0"
		if password != "" {
			r.URL = "redis://:" + password + "@" + r.Addr + "/0"
		}
		err := r.start()
		if err == nil {
			break
		}
		if attempt == 2 {
			t.Fatal(err)
		}
	}
	c, err := events.Dial(r.URL)
	if err != nil {
		t.Fatal(err)
	}
	r.Client = c
	t.Cleanup(func() {
		_ = r.Client.Close()
		r.kill()
	})
	return r
}

func (r *Redis) start() error {
	args := []string{
		"--port", strconv.Itoa(r.Port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no",
		"--dir", r.Dir, "--dbfilename", "dump.rdb",
		"--logfile", filepath.Join(r.Dir, "redis.log"),
		"--daemonize", "no",
	}
	if r.Password != "" {
		args = append(args, "--requirepass", r.Password)
	}
	r.cmd = exec.Command("redis-server", args...)
	if err := r.cmd.Start(); err != nil {
		return fmt.Errorf("start redis-server: %w", err)
	}
	r.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { _ = cmd.Wait(); close(done) }(r.cmd, r.done)

	c := redis.NewClient(&redis.Options{Addr: r.Addr, Password: r.Password, DialTimeout: 200 * time.Millisecond, MaxRetries: -1, DisableIdentity: true})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-r.done:
			return fmt.Errorf("redis-server on port %d exited during start-up: %s", r.Port, r.Log())
		default:
		}
		if time.Now().After(deadline) {
			r.kill()
			return fmt.Errorf("redis-server on port %d not answering after 10s (%v): %s", r.Port, err, r.Log())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Stop shuts Redis down saving its data (SHUTDOWN SAVE), as an operator's restart would, and
// waits until the process is gone.
func (r *Redis) Stop() {
	r.t.Helper()
	c := redis.NewClient(&redis.Options{Addr: r.Addr, Password: r.Password, MaxRetries: -1, DisableIdentity: true})
	defer c.Close()
	_ = c.ShutdownSave(context.Background()).Err() // the connection drops: an error is expected
	select {
	case <-r.done:
	case <-time.After(10 * time.Second):
		r.t.Fatalf("redis-server did not exit after SHUTDOWN SAVE: %s", r.Log())
	}
}

// Restart starts Redis again on the same port and directory (so it loads what Stop saved).
func (r *Redis) Restart() {
	r.t.Helper()
	if err := r.start(); err != nil {
		r.t.Fatal(err)
	}
}

func (r *Redis) kill() {
	select {
	case <-r.done:
		return
	default:
	}
	_ = r.cmd.Process.Signal(syscall.SIGKILL)
	<-r.done
}

// Log returns the end of redis-server's log.
func (r *Redis) Log() string {
	b, _ := os.ReadFile(filepath.Join(r.Dir, "redis.log"))
	s := string(b)
	if len(s) > 2000 {
		s = "…" + s[len(s)-2000:]
	}
	return s
}
