package events_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vr-paas/vr/pkg/events"
	"github.com/vr-paas/vr/pkg/events/eventstest"
	"github.com/vr-paas/vr/pkg/supervisor"
	"github.com/vr-paas/vr/pkg/testutil"
)

// fakeSupervisor answers getAllProcessInfo with procs, or err.
type fakeSupervisor struct {
	mu    sync.Mutex
	procs []supervisor.ProcessInfo
	err   error
	calls int
}

func (f *fakeSupervisor) GetAllProcessInfo(context.Context) ([]supervisor.ProcessInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	return f.procs, f.err
}

func (f *fakeSupervisor) Calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// session runs a Listener over pipes and plays supervisord's side.
type session struct {
	t      *testing.T
	in     *io.PipeWriter
	out    *bufio.Reader
	done   chan error
	cancel context.CancelFunc
	log    *testutil.SyncBuffer
	serial int64
}

func startListener(t *testing.T, l *events.Listener) *session {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	s := &session{t: t, in: inW, out: bufio.NewReader(outR), done: make(chan error, 1), log: &testutil.SyncBuffer{}}
	l.Log = log.New(s.log, "", 0)
	var ctx context.Context
	ctx, s.cancel = context.WithCancel(context.Background())
	go func() {
		err := l.Serve(ctx, inR, outW)
		_ = outW.Close()
		s.done <- err
	}()
	t.Cleanup(func() {
		s.cancel()
		_ = inW.Close()
	})
	s.expect("READY\n")
	return s
}

// expect reads exactly want from the listener's stdout.
func (s *session) expect(want string) {
	s.t.Helper()
	got := make([]byte, len(want))
	errc := make(chan error, 1)
	go func() { _, err := io.ReadFull(s.out, got); errc <- err }()
	select {
	case err := <-errc:
		if err != nil || string(got) != want {
			s.t.Fatalf("listener wrote %q (%v), want %q\nlog:\n%s", got, err, want, s.log.String())
		}
	case <-time.After(10 * time.Second):
		s.t.Fatalf("listener wrote nothing for 10s, want %q\nlog:\n%s", want, s.log.String())
	}
}

// send writes an event with the next serial and returns that serial.
func (s *session) send(event, payload string) int64 {
	s.t.Helper()
	s.serial++
	s.resend(s.serial, event, payload)
	return s.serial
}

// resend writes an event with a given serial, as supervisord does after a FAIL.
func (s *session) resend(serial int64, event, payload string) {
	s.t.Helper()
	env := supervisor.Envelope(supervisor.Header{Serial: serial, Pool: "proc_publisher", PoolSerial: serial, EventName: event}, payload)
	if _, err := s.in.Write(env); err != nil {
		s.t.Fatal(err)
	}
}

func (s *session) ok()   { s.t.Helper(); s.expect("RESULT 2\nOKREADY\n") }
func (s *session) fail() { s.t.Helper(); s.expect("RESULT 4\nFAILREADY\n") }

func newListener(sv events.ProcessLister, sink events.Sink) *events.Listener {
	return &events.Listener{Host: "somewhere", Supervisor: sv, Sink: sink, MinBackoff: 10 * time.Millisecond, MaxBackoff: 40 * time.Millisecond, RPCRetryDelay: 10 * time.Millisecond}
}

func TestListenerTick(t *testing.T) {
	r := eventstest.StartRedis(t)
	sv := &fakeSupervisor{procs: []supervisor.ProcessInfo{dummyInfo("dummyproc"), dummyInfo("other")}}
	s := startListener(t, newListener(sv, events.NewPublisher(r.Client, "somewhere", 0)))

	s.send("TICK_60", "when:1356028501")
	s.ok()
	if sv.Calls() != 1 {
		t.Fatalf("%d getAllProcessInfo calls for a TICK, want 1", sv.Calls())
	}
	cache, err := events.ReadCache(context.Background(), r.Client, "somewhere")
	if err != nil || len(cache) != 2 || cache["dummyproc"]["name"] != "dummyproc" {
		t.Fatalf("cache %v %v", cache, err)
	}
	if n := r.Client.XLen(context.Background(), events.StreamKey).Val(); n != 0 {
		t.Fatalf("a TICK added %d stream entries", n)
	}
	if err := s.in.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-s.done; err != nil {
		t.Fatalf("Serve after stdin closed: %v", err)
	}
}

func TestListenerPublishes(t *testing.T) {
	r := eventstest.StartRedis(t)
	ctx := context.Background()
	sub := subscribe(t, r.Client)
	info := dummyInfo("dummyproc")
	sv := &fakeSupervisor{procs: []supervisor.ProcessInfo{info}}
	s := startListener(t, newListener(sv, events.NewPublisher(r.Client, "somewhere", 0)))

	s.send("PROCESS_STATE_RUNNING", "processname:dummyproc groupname:dummyproc from_state:STARTING pid:1234")
	s.ok()
	want, _ := json.Marshal(events.NewProcMessage("somewhere", "PROCESS_STATE_RUNNING", info))
	if got := receive(t, sub); got != string(want) {
		t.Fatalf("published %s\nwant %s", got, want)
	}

	s.send("PROCESS_GROUP_REMOVED", "groupname:node_example-v2-local-f96054b7-web-5003\n")
	s.ok()
	var removed map[string]any
	if err := json.Unmarshal([]byte(receive(t, sub)), &removed); err != nil {
		t.Fatal(err)
	}
	if removed["name"] != "node_example-v2-local-f96054b7-web-5003" || removed["event"] != "PROCESS_GROUP_REMOVED" ||
		removed["id"] != "somewhere-node_example-v2-local-f96054b7-web-5003" || removed["time"] == "" ||
		removed["app_name"] != "node_example" || removed["port"] != 5003.0 {
		t.Fatalf("removal message %v", removed)
	}

	// A process supervisord does not list any more: the message says what the event says.
	s.send("PROCESS_STATE_STOPPED", "processname:gone groupname:gone from_state:STOPPING pid:77")
	s.ok()
	var gone events.ProcMessage
	if err := json.Unmarshal([]byte(receive(t, sub)), &gone); err != nil {
		t.Fatal(err)
	}
	if gone.Name != "gone" || gone.PID != 77 || gone.StateName != "STOPPED" || gone.State != 0 || gone.Now == nil {
		t.Fatalf("%+v", gone)
	}

	// Other events publish nothing.
	s.send("PROCESS_GROUP_ADDED", "groupname:x\n")
	s.ok()
	entries, err := events.ReadStream(ctx, r.Client, "0", 10)
	if err != nil || len(entries) != 3 || entries[0].Seq != 1 || entries[2].Seq != 3 || entries[1].Event != "PROCESS_GROUP_REMOVED" {
		t.Fatalf("stream %+v %v", entries, err)
	}
}

func TestListenerMalformedInput(t *testing.T) {
	r := eventstest.StartRedis(t)
	sv := &fakeSupervisor{procs: []supervisor.ProcessInfo{dummyInfo("a")}}
	s := startListener(t, newListener(sv, events.NewPublisher(r.Client, "somewhere", 0)))

	// Garbage headers are answered FAIL, and the listener reads on.
	for _, garbage := range []string{"hello\n", "eventname:X len:oops\n", "\n", "\x00\xff\n", strings.Repeat("z", 100000) + "\n"} {
		if _, err := io.WriteString(s.in, garbage); err != nil {
			t.Fatal(err)
		}
		s.fail()
	}
	// A state event without a process name cannot be published, now or later: answered OK.
	s.send("PROCESS_STATE_RUNNING", "nothing useful")
	s.ok()
	s.send("PROCESS_STATE_RUNNING", "processname:a groupname:a from_state:STARTING pid:1")
	s.ok()
	if n := r.Client.XLen(context.Background(), events.StreamKey).Val(); n != 1 {
		t.Fatalf("%d stream entries, want 1", n)
	}
	if !strings.Contains(s.log.String(), `malformed event header "hello"`) {
		t.Fatalf("garbage not logged:\n%s", s.log.String())
	}
}

func TestListenerRedisDownThenBack(t *testing.T) {
	r := eventstest.StartRedis(t)
	ctx := context.Background()
	sv := &fakeSupervisor{procs: []supervisor.ProcessInfo{dummyInfo("a")}}
	s := startListener(t, newListener(sv, events.NewPublisher(r.Client, "somewhere", 0)))

	s.send("PROCESS_STATE_RUNNING", "processname:a groupname:a from_state:STARTING pid:1")
	s.ok()
	r.Stop()
	serial := s.send("PROCESS_STATE_STOPPING", "processname:a groupname:a from_state:RUNNING pid:1")
	s.fail()
	s.resend(serial, "PROCESS_STATE_STOPPING", "processname:a groupname:a from_state:RUNNING pid:1")
	s.fail()
	r.Restart()
	s.resend(serial, "PROCESS_STATE_STOPPING", "processname:a groupname:a from_state:RUNNING pid:1")
	s.ok()
	s.send("PROCESS_STATE_STOPPED", "processname:a groupname:a from_state:STOPPING pid:1")
	s.ok()

	entries, err := events.ReadStream(ctx, r.Client, "0", 10)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, fmt.Sprintf("%d %s", e.Seq, e.Event))
	}
	if want := "1 PROCESS_STATE_RUNNING,2 PROCESS_STATE_STOPPING,3 PROCESS_STATE_STOPPED"; strings.Join(got, ",") != want {
		t.Fatalf("stream %v, want %s", got, want)
	}
	if !strings.Contains(s.log.String(), "answered FAIL") || !strings.Contains(s.log.String(), "redis is back") {
		t.Fatalf("log:\n%s", s.log.String())
	}
}

// lossySink applies an update but reports failure once, as when Redis applied the script and
// the reply was lost.
type lossySink struct {
	events.Sink
	once sync.Once
}

func (l *lossySink) Publish(ctx context.Context, u events.Update) (events.Published, error) {
	p, err := l.Sink.Publish(ctx, u)
	lost := false
	l.once.Do(func() { lost = true })
	if lost {
		return events.Published{}, errors.New("i/o timeout (reply lost)")
	}
	return p, err
}

func TestListenerNoDuplicateAfterLostReply(t *testing.T) {
	r := eventstest.StartRedis(t)
	sv := &fakeSupervisor{procs: []supervisor.ProcessInfo{dummyInfo("a")}}
	s := startListener(t, newListener(sv, &lossySink{Sink: events.NewPublisher(r.Client, "somewhere", 0)}))

	serial := s.send("PROCESS_STATE_RUNNING", "processname:a groupname:a from_state:STARTING pid:1")
	s.fail()
	s.resend(serial, "PROCESS_STATE_RUNNING", "processname:a groupname:a from_state:STARTING pid:1")
	s.ok()
	if n := r.Client.XLen(context.Background(), events.StreamKey).Val(); n != 1 {
		t.Fatalf("%d stream entries after a re-send, want 1\n%s", n, s.log.String())
	}
	if !strings.Contains(s.log.String(), "already published as seq 1") {
		t.Fatalf("log:\n%s", s.log.String())
	}
}

func TestListenerSupervisorDown(t *testing.T) {
	r := eventstest.StartRedis(t)
	ctx := context.Background()
	pub := events.NewPublisher(r.Client, "somewhere", 0)
	if _, err := pub.Publish(ctx, events.Update{Event: "TICK_60", Procs: []supervisor.ProcessInfo{dummyInfo("cached")}, RefreshCache: true}); err != nil {
		t.Fatal(err)
	}
	sv := &fakeSupervisor{err: errors.New("connection refused")}
	s := startListener(t, newListener(sv, pub))

	s.send("PROCESS_STATE_EXITED", "processname:a groupname:a from_state:RUNNING expected:0 pid:9")
	s.ok()
	if sv.Calls() != 2 {
		t.Fatalf("%d getAllProcessInfo attempts, want 2", sv.Calls())
	}
	entries, _ := events.ReadStream(ctx, r.Client, "0", 10)
	var m events.ProcMessage
	if len(entries) != 1 || json.Unmarshal(entries[0].Message, &m) != nil || m.Name != "a" || m.StateName != "EXITED" || m.PID != 9 {
		t.Fatalf("stream %+v", entries)
	}
	if cache, _ := events.ReadCache(ctx, r.Client, "somewhere"); len(cache) != 1 || cache["cached"] == nil {
		t.Fatalf("cache changed although supervisord could not be asked: %v", cache)
	}
}

func TestListenerCancelled(t *testing.T) {
	sv := &fakeSupervisor{}
	s := startListener(t, newListener(sv, nil))
	s.cancel()
	select {
	case err := <-s.done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Serve returned %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after cancellation")
	}
}
