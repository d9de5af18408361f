package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vr-paas/vr/pkg/cli/clitest"
	"github.com/vr-paas/vr/pkg/events"
	"github.com/vr-paas/vr/pkg/events/eventstest"
	"github.com/vr-paas/vr/pkg/supervisor"
	"github.com/vr-paas/vr/pkg/supervisor/supervisortest"
	"github.com/vr-paas/vr/pkg/testutil"
)

// TestMain removes the binaries the tests built (testutil.BuildBinary).
func TestMain(m *testing.M) {
	code := m.Run()
	testutil.RemoveBinaries()
	os.Exit(code)
}

func TestCommandLine(t *testing.T) {
	t.Setenv("SUPERVISOR_SERVER_URL", "")
	t.Setenv("REDIS_URL", "")
	clitest.RunTable(t, newRootCmd, append(clitest.StandardCases("proc-publisher"),
		clitest.Case{Args: nil, Code: 2, Stderr: "proc-publisher: must be run as a Supervisor event listener", StderrLine: true},
		clitest.Case{Args: []string{"extra"}, Code: 2, StderrLine: true},
	))

	t.Setenv("SUPERVISOR_SERVER_URL", "unix:///nonexistent/supervisor.sock")
	clitest.RunTable(t, newRootCmd, []clitest.Case{
		{Args: nil, Code: 2, Stderr: "proc-publisher: REDIS_URL is not set", StderrLine: true},
		{Args: []string{"--redis-url", "http://x"}, Code: 2, Stderr: `redis URL "http://x"`, StderrLine: true},
	})
	t.Setenv("SUPERVISOR_SERVER_URL", "localhost:9001")
	clitest.RunTable(t, newRootCmd, []clitest.Case{
		{Args: nil, Code: 2, Stderr: `supervisor server URL "localhost:9001"`, StderrLine: true},
	})
}

// world is a redis-server and a supervisord running the built proc-publisher as its listener,
// with a subscriber recording every message on proc_events.
type world struct {
	redis *eventstest.Redis
	sv    *supervisortest.Supervisord

	mu   sync.Mutex
	msgs []map[string]any
}

const testHost = "testhost"

func startWorld(t *testing.T, programs ...supervisortest.Program) *world {
	t.Helper()
	testutil.RequireBinary(t, "supervisord", "redis-server")
	bin := testutil.BuildBinary(t, "github.com/vr-paas/vr/cmd/proc-publisher")
	w := &world{redis: eventstest.StartRedis(t)}

	ps := w.redis.Client.Subscribe(context.Background(), events.Channel)
	if _, err := ps.Receive(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ps.Close() })
	go func() {
		for m := range ps.Channel() {
			var v map[string]any
			if err := json.Unmarshal([]byte(m.Payload), &v); err != nil {
				v = map[string]any{"unparsable": m.Payload}
			}
			w.mu.Lock()
			w.msgs = append(w.msgs, v)
			w.mu.Unlock()
		}
	}()

	w.sv = supervisortest.Start(t, supervisortest.Config{
		Programs: programs,
		Listeners: []supervisortest.Listener{{
			Name:        "proc_publisher",
			Command:     bin,
			Environment: map[string]string{"REDIS_URL": w.redis.URL, "HOSTNAME": testHost},
		}},
	})
	// The listener is up once it has refreshed the cache (after the start-up events).
	w.waitCache(t, 10*time.Second, func(c map[string]map[string]any) bool { return c["proc_publisher"] != nil })
	return w
}

// expect waits until the messages about name since index from are exactly the events want (in
// order), each within `within` of the previous step, and returns them with the new index.
func (w *world) expect(t *testing.T, from int, within time.Duration, name string, want ...string) ([]map[string]any, int) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		w.mu.Lock()
		var got []map[string]any
		var names []string
		next := from
		for i := from; i < len(w.msgs) && len(got) < len(want); i++ {
			if w.msgs[i]["name"] == name {
				got = append(got, w.msgs[i])
				names = append(names, fmt.Sprint(w.msgs[i]["event"]))
				next = i + 1
			}
		}
		w.mu.Unlock()
		for i := range names {
			if names[i] != want[i] {
				t.Fatalf("%s: events %v, want %v", name, names, want)
			}
		}
		if len(got) == len(want) {
			return got, next
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: after %v got events %v, want %v\n%s", name, within, names, want, w.sv.Logs())
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func (w *world) waitCache(t *testing.T, within time.Duration, ok func(map[string]map[string]any) bool) map[string]map[string]any {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		c, err := events.ReadCache(context.Background(), w.redis.Client, testHost)
		if err == nil && ok(c) {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("cache not as expected after %v: %v (%v)\n%s", within, c, err, w.sv.Logs())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func stateIs(name, state string) func(map[string]map[string]any) bool {
	return func(c map[string]map[string]any) bool { return c[name] != nil && c[name]["statename"] == state }
}

// within is the bound from an action to its message and cache update.
const within = time.Second

const vrName = "node_example-v2-local-f96054b7-web-5003"

func TestPublishesUnderSupervisord(t *testing.T) {
	w := startWorld(t,
		supervisortest.Program{Name: "web"},
		supervisortest.Program{Name: "crashy"},
		supervisortest.Program{Name: vrName},
		supervisortest.Program{Name: "café"},
	)
	ctx := context.Background()
	c := w.sv.Client
	w.mu.Lock()
	i := len(w.msgs)
	w.mu.Unlock()

	// Start and stop wait (wait=true) until supervisord has the new state: like a death
	// (see the crash below), the end of a stop is noticed in supervisord's reap(), and the
	// XML-RPC reply is what wakes its loop to dispatch the event.

	// Start.
	if err := c.StartProcess(ctx, "web", true); err != nil {
		t.Fatal(err)
	}
	msgs, i := w.expect(t, i, within, "web", "PROCESS_STATE_STARTING", "PROCESS_STATE_RUNNING")
	run := msgs[1]
	if run["statename"] != "RUNNING" || run["state"] != 20.0 || run["pid"].(float64) <= 0 || run["start_time"] == nil ||
		run["host"] != testHost || run["id"] != testHost+"-web" || run["app_name"] != "web" || run["version"] != "UNKNOWN" ||
		run["config_name"] != "UNKNOWN" || run["hash"] != "UNKNOWN" || run["proc_name"] != "web" || run["port"] != 0.0 {
		t.Fatalf("RUNNING message %v", run)
	}
	if msgs[0]["statename"] != "STARTING" {
		t.Fatalf("STARTING message %v", msgs[0])
	}
	cache := w.waitCache(t, within, stateIs("web", "RUNNING"))
	if cache["web"]["pid"] != run["pid"] {
		t.Fatalf("cache pid %v, message pid %v", cache["web"]["pid"], run["pid"])
	}
	if ttl := w.redis.Client.TTL(ctx, events.CacheKey(testHost)).Val(); ttl < 590*time.Second {
		t.Fatalf("cache TTL %v", ttl)
	}

	// Stop.
	w.sv.WaitExec(t, "web", supervisortest.DefaultArgv0)
	if err := c.StopProcess(ctx, "web", true); err != nil {
		t.Fatal(err)
	}
	msgs, i = w.expect(t, i, within, "web", "PROCESS_STATE_STOPPING", "PROCESS_STATE_STOPPED")
	if msgs[1]["statename"] != "STOPPED" || msgs[1]["stop_time"] == nil {
		t.Fatalf("STOPPED message %v", msgs[1])
	}
	w.waitCache(t, within, stateIs("web", "STOPPED"))

	// Crash: kill -9.
	if err := c.StartProcess(ctx, "crashy", true); err != nil {
		t.Fatal(err)
	}
	_, i = w.expect(t, i, within, "crashy", "PROCESS_STATE_STARTING", "PROCESS_STATE_RUNNING")
	info, err := c.GetProcessInfo(ctx, "crashy")
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(info.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// supervisord notices a death in reap(), which runs after it has dispatched events in its
	// loop; the EXITED event then waits for the next loop turn, up to its 1 s poll timeout
	// unless some I/O (such as an XML-RPC call) wakes it first. So the bound is taken from
	// when supervisord reports the process EXITED; kill-to-message is logged.
	killed := time.Now()
	w.sv.WaitState(t, "crashy", 2*time.Second, "EXITED")
	msgs, i = w.expect(t, i, within, "crashy", "PROCESS_STATE_EXITED")
	t.Logf("kill -9 to EXITED message: %v", time.Since(killed))
	if msgs[0]["statename"] != "EXITED" || msgs[0]["state"] != 100.0 {
		t.Fatalf("EXITED message %v", msgs[0])
	}
	w.waitCache(t, within, stateIs("crashy", "EXITED"))

	// A vr proc name is parsed into its fields.
	if err := c.StartProcess(ctx, vrName, true); err != nil {
		t.Fatal(err)
	}
	msgs, i = w.expect(t, i, within, vrName, "PROCESS_STATE_STARTING", "PROCESS_STATE_RUNNING")
	m := msgs[1]
	if m["app_name"] != "node_example" || m["version"] != "v2" || m["config_name"] != "local" || m["hash"] != "f96054b7" ||
		m["proc_name"] != "web" || m["port"] != 5003.0 || m["id"] != testHost+"-"+vrName || m["jsname"] != vrName {
		t.Fatalf("vr proc message %v", m)
	}

	// Remove: stop, then remove the group.
	w.sv.WaitExec(t, vrName, supervisortest.DefaultArgv0)
	if err := c.StopProcess(ctx, vrName, true); err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveProcessGroup(ctx, vrName); err != nil {
		t.Fatal(err)
	}
	msgs, i = w.expect(t, i, within, vrName, "PROCESS_STATE_STOPPING", "PROCESS_STATE_STOPPED", "PROCESS_GROUP_REMOVED")
	rm := msgs[2]
	if rm["app_name"] != "node_example" || rm["version"] != "v2" || rm["config_name"] != "local" || rm["hash"] != "f96054b7" ||
		rm["proc_name"] != "web" || rm["port"] != 5003.0 || rm["id"] != testHost+"-"+vrName || rm["host"] != testHost || rm["time"] == "" {
		t.Fatalf("removal message %v", rm)
	}
	w.waitCache(t, within, func(c map[string]map[string]any) bool { return c[vrName] == nil && c["web"] != nil })

	// supervisord counts len in characters: a non-ASCII name must not desynchronise the listener.
	if err := c.StartProcess(ctx, "café", true); err != nil {
		t.Fatal(err)
	}
	_, _ = w.expect(t, i, within, "café", "PROCESS_STATE_STARTING", "PROCESS_STATE_RUNNING")

	// Everything published is in the stream, in the same order, numbered 1, 2, 3, ...
	w.mu.Lock()
	published := append([]map[string]any(nil), w.msgs...)
	w.mu.Unlock()
	entries, err := events.ReadStream(ctx, w.redis.Client, "0", 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) < len(published) {
		t.Fatalf("%d stream entries, %d published", len(entries), len(published))
	}
	for k, e := range entries[:len(published)] {
		var v map[string]any
		_ = json.Unmarshal(e.Message, &v)
		if e.Host != testHost || e.Seq != int64(k+1) || fmt.Sprint(v) != fmt.Sprint(published[k]) {
			t.Fatalf("stream entry %d: %+v\npublished: %v", k, e, published[k])
		}
	}
	if strings.Contains(w.sv.Logs(), "answered FAIL") {
		t.Fatalf("an event was answered FAIL:\n%s", w.sv.Logs())
	}
}

// TestRedisRestart: events that happen while Redis is down reach the stream once it is back,
// none missing or repeated, and the listener stays up throughout.
func TestRedisRestart(t *testing.T) {
	w := startWorld(t, supervisortest.Program{Name: "web"})
	ctx := context.Background()
	c := w.sv.Client
	w.mu.Lock()
	i := len(w.msgs)
	w.mu.Unlock()
	if err := c.StartProcess(ctx, "web", true); err != nil {
		t.Fatal(err)
	}
	w.expect(t, i, 5*time.Second, "web", "PROCESS_STATE_STARTING", "PROCESS_STATE_RUNNING")
	before, err := events.LastSeq(ctx, w.redis.Client, testHost)
	if err != nil {
		t.Fatal(err)
	}
	listener, err := c.GetProcessInfo(ctx, "proc_publisher")
	if err != nil {
		t.Fatal(err)
	}

	w.sv.WaitExec(t, "web", supervisortest.DefaultArgv0)
	w.redis.Stop()
	if err := c.StopProcess(ctx, "web", true); err != nil {
		t.Fatal(err)
	}
	if err := c.StartProcess(ctx, "web", true); err != nil {
		t.Fatal(err)
	}
	// Let the listener answer FAIL, and get the event again, before Redis returns.
	testutil.Eventually(t, 10*time.Second, func() bool {
		return strings.Count(w.sv.ChildLog("proc_publisher"), "answered FAIL") >= 2
	}, func() string {
		return "the listener did not answer FAIL twice while Redis was down:\n" + w.sv.Logs()
	})
	w.redis.Restart()

	// Once Redis is back, one more change: when its messages are in the stream, everything
	// before them has been sent, so the list below is final (no fixed wait for stragglers).
	if _, err := w.redis.Client.Ping(ctx).Result(); err != nil {
		t.Fatal(err)
	}
	w.sv.WaitExec(t, "web", supervisortest.DefaultArgv0)
	if err := c.StopProcess(ctx, "web", true); err != nil {
		t.Fatal(err)
	}
	want := []string{"PROCESS_STATE_STOPPING", "PROCESS_STATE_STOPPED", "PROCESS_STATE_STARTING", "PROCESS_STATE_RUNNING",
		"PROCESS_STATE_STOPPING", "PROCESS_STATE_STOPPED"}
	deadline := time.Now().Add(15 * time.Second)
	var after []string
	for {
		all, err := events.ReadStream(ctx, w.redis.Client, "0", 1000)
		after = after[:0]
		for _, e := range all {
			if e.Seq <= before {
				continue
			}
			var m map[string]any
			_ = json.Unmarshal(e.Message, &m)
			if m["name"] != "web" || e.Seq != before+int64(len(after))+1 {
				t.Fatalf("sequence gap or foreign entry after seq %d: %+v", before, e)
			}
			after = append(after, e.Event)
		}
		if err == nil && len(after) >= len(want) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("stream after the restart: %v (%v)\n%s", after, err, w.sv.Logs())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if strings.Join(after, ",") != strings.Join(want, ",") {
		t.Fatalf("events after the restart %v, want %v\n%s", after, want, w.sv.Logs())
	}
	now, err := c.GetProcessInfo(ctx, "proc_publisher")
	if err != nil || now.PID != listener.PID || now.StateName != "RUNNING" {
		t.Fatalf("listener restarted or down: before pid %d, now %+v (%v)", listener.PID, now, err)
	}
}

// TestGarbageOnStdin runs the binary with pipes, as supervisord would, and sends it garbage.
func TestGarbageOnStdin(t *testing.T) {
	testutil.RequireBinary(t, "supervisord", "redis-server")
	bin := testutil.BuildBinary(t, "github.com/vr-paas/vr/cmd/proc-publisher")
	r := eventstest.StartRedisWithPassword(t, "pw")
	sv := supervisortest.Start(t, supervisortest.Config{Inet: true, Programs: []supervisortest.Program{{Name: "web"}}})
	// Redis with a password and a database other than 0; supervisord over http with basic auth.
	rdb, err := events.Dial("redis://:pw@" + r.Addr + "/2")
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()

	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "SUPERVISOR_SERVER_URL="+sv.URL, "SUPERVISOR_USERNAME="+sv.Username, "SUPERVISOR_PASSWORD="+sv.Password,
		"REDIS_URL=redis://:pw@"+r.Addr+"/2", "HOSTNAME=garbagehost")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdoutPipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	stdout := bufio.NewReader(stdoutPipe)
	expect := func(want string) {
		t.Helper()
		got := make([]byte, len(want))
		done := make(chan error, 1)
		go func() { _, err := io.ReadFull(stdout, got); done <- err }()
		select {
		case err := <-done:
			if err != nil || string(got) != want {
				t.Fatalf("stdout %q (%v), want %q; stderr:\n%s", got, err, want, stderr.String())
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("nothing on stdout for 10s, want %q", want)
		}
	}
	send := func(s string) {
		t.Helper()
		if _, err := io.WriteString(stdin, s); err != nil {
			t.Fatal(err)
		}
	}

	expect("READY\n")
	for _, garbage := range []string{"GET / HTTP/1.1\n", "eventname:X len:NaN\n", "\x00\x01\x02\n", "len:5\n", strings.Repeat("A", 50000) + "\n"} {
		send(garbage)
		expect("RESULT 4\nFAILREADY\n")
	}
	send(string(supervisor.Envelope(supervisor.Header{Serial: 1, EventName: "TICK_60"}, "when:1356028501")))
	expect("RESULT 2\nOKREADY\n")
	cache, err := events.ReadCache(context.Background(), rdb, "garbagehost")
	if err != nil || cache["web"] == nil {
		t.Fatalf("cache after TICK: %v %v", cache, err)
	}
	send(string(supervisor.Envelope(supervisor.Header{Serial: 2, EventName: "PROCESS_GROUP_REMOVED"}, "groupname:old\n")))
	expect("RESULT 2\nOKREADY\n")
	if seq, _ := events.LastSeq(context.Background(), rdb, "garbagehost"); seq != 1 {
		t.Fatalf("seq %d after one removal", seq)
	}

	// supervisord closing stdin ends the listener cleanly, with nothing else on stdout.
	_ = stdin.Close()
	rest, _ := io.ReadAll(stdout)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit: %v; stderr:\n%s", err, stderr.String())
	}
	if len(rest) != 0 {
		t.Fatalf("stdout after the protocol: %q", rest)
	}
	if !strings.Contains(stderr.String(), `malformed event header "GET / HTTP/1.1"`) || !strings.Contains(stderr.String(), "starting with hostname garbagehost") ||
		strings.Contains(stderr.String(), ":pw@") {
		t.Fatalf("stderr:\n%s", stderr.String())
	}
}

// TestNotAListener runs the binary as a person would, outside supervisord.
func TestNotAListener(t *testing.T) {
	bin := testutil.BuildBinary(t, "github.com/vr-paas/vr/cmd/proc-publisher")
	cmd := exec.Command(bin)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if cmd.ProcessState.ExitCode() != 2 || stdout.Len() != 0 ||
		stderr.String() != "proc-publisher: "+supervisor.ErrNotListener.Error()+"\n" {
		t.Fatalf("exit %v, stdout %q, stderr %q", err, stdout.String(), stderr.String())
	}
}
