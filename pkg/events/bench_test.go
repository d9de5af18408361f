package events_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/vr-paas/vr/pkg/events"
	"github.com/vr-paas/vr/pkg/events/eventstest"
	"github.com/vr-paas/vr/pkg/supervisor"
	"github.com/vr-paas/vr/pkg/supervisor/supervisortest"
	"github.com/vr-paas/vr/pkg/testutil"
)

// BenchmarkStateChangeToSubscriber measures, under a real supervisord running the built
// proc-publisher, the time from the XML-RPC call that changes a program's state to the message
// reaching a Redis subscriber (STARTING, RUNNING, STOPPING, STOPPED: four per start/stop
// cycle). One op is 10 cycles; p50-ms, p99-ms and max-ms are over every message of the run.
func BenchmarkStateChangeToSubscriber(b *testing.B) {
	testutil.RequireBinary(b, "supervisord", "redis-server")
	bin := testutil.BuildBinary(b, "github.com/vr-paas/vr/cmd/proc-publisher")
	r := eventstest.StartRedis(b)
	ctx := context.Background()

	ps := r.Client.Subscribe(ctx, events.Channel)
	if _, err := ps.Receive(ctx); err != nil {
		b.Fatal(err)
	}
	defer ps.Close()
	type arrival struct {
		event string
		at    time.Time
	}
	arrivals := make(chan arrival, 1024)
	go func() {
		for m := range ps.Channel() {
			var v struct{ Name, Event string }
			if json.Unmarshal([]byte(m.Payload), &v) == nil && v.Name == "web" {
				arrivals <- arrival{v.Event, time.Now()}
			}
		}
	}()

	sv := supervisortest.Start(b, supervisortest.Config{
		Programs:  []supervisortest.Program{{Name: "web"}},
		Listeners: []supervisortest.Listener{{Name: "proc_publisher", Command: bin, Environment: map[string]string{"REDIS_URL": r.URL, "HOSTNAME": "bench"}}},
	})
	sv.WaitState(b, "proc_publisher", 10*time.Second, "RUNNING")
	c := sv.Client

	var lat []time.Duration
	await := func(since time.Time, want ...string) {
		for _, w := range want {
			select {
			case a := <-arrivals:
				if a.event != w {
					b.Fatalf("got %s, want %s", a.event, w)
				}
				lat = append(lat, a.at.Sub(since))
			case <-time.After(10 * time.Second):
				b.Fatalf("no %s message after 10s\n%s", w, sv.Logs())
			}
		}
	}
	cycle := func() {
		t0 := time.Now()
		if err := c.StartProcess(ctx, "web", true); err != nil {
			b.Fatal(err)
		}
		await(t0, "PROCESS_STATE_STARTING", "PROCESS_STATE_RUNNING")
		sv.WaitExec(b, "web", supervisortest.DefaultArgv0) // not measured: see WaitExec
		t0 = time.Now()
		if err := c.StopProcess(ctx, "web", true); err != nil {
			b.Fatal(err)
		}
		await(t0, "PROCESS_STATE_STOPPING", "PROCESS_STATE_STOPPED")
	}
	cycle() // warm up: connections, script cache
	lat = lat[:0]

	b.ResetTimer() // ns/op includes the unmeasured waits for exec
	for i := 0; i < b.N; i++ {
		for j := 0; j < 10; j++ {
			cycle()
		}
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(percentile(lat, 50)), "p50-ms")
	b.ReportMetric(ms(percentile(lat, 99)), "p99-ms")
	b.ReportMetric(ms(lat[len(lat)-1]), "max-ms")
	b.ReportMetric(float64(len(lat)), "samples")
}

func percentile(sorted []time.Duration, p int) time.Duration {
	i := (len(sorted)*p + 99) / 100
	if i > 0 {
		i--
	}
	return sorted[i]
}

// BenchmarkListenerThroughput measures how many events per second the listener handles, one at
// a time as supervisord sends them (READY, event, RESULT), each a PROCESS_STATE_RUNNING
// published with a refresh of a 20-proc host cache:
//
//   - binary: the built proc-publisher over pipes, asking a real supervisord (XML-RPC over its
//     unix socket) for getAllProcessInfo on every event, as in production;
//   - fake-rpc: events.Listener in-process with a canned process list, to show the listener's and
//     Redis's share without supervisord's.
//
// One op is 100 events.
func BenchmarkListenerThroughput(b *testing.B) {
	const perOp = 100
	testutil.RequireBinary(b, "supervisord", "redis-server")
	var programs []supervisortest.Program
	var procs []supervisor.ProcessInfo
	for i := 0; i < 20; i++ {
		name := fmt.Sprintf("app-v1-prod-abcdef12-web-%d", 5000+i)
		programs = append(programs, supervisortest.Program{Name: name})
		procs = append(procs, dummyInfo(name))
	}
	payload := "processname:app-v1-prod-abcdef12-web-5000 groupname:app-v1-prod-abcdef12-web-5000 from_state:STARTING pid:1"

	run := func(b *testing.B, in io.Writer, out *bufio.Reader) {
		expect := func(want string) {
			got := make([]byte, len(want))
			if _, err := io.ReadFull(out, got); err != nil || string(got) != want {
				b.Fatalf("listener wrote %q (%v), want %q", got, err, want)
			}
		}
		expect("READY\n")
		serial := int64(0)
		send := func() {
			serial++
			env := supervisor.Envelope(supervisor.Header{Serial: serial, Pool: "proc_publisher", PoolSerial: serial, EventName: "PROCESS_STATE_RUNNING"}, payload)
			if _, err := in.Write(env); err != nil {
				b.Fatal(err)
			}
			expect("RESULT 2\nOKREADY\n")
		}
		for i := 0; i < 10; i++ { // warm up
			send()
		}
		b.ResetTimer()
		start := time.Now()
		for i := 0; i < b.N*perOp; i++ {
			send()
		}
		elapsed := time.Since(start)
		b.StopTimer()
		b.ReportMetric(float64(b.N*perOp)/elapsed.Seconds(), "events/s")
		b.ReportMetric(float64(elapsed.Microseconds())/float64(b.N*perOp), "µs/event")
	}

	b.Run("binary", func(b *testing.B) {
		bin := testutil.BuildBinary(b, "github.com/vr-paas/vr/cmd/proc-publisher")
		r := eventstest.StartRedis(b)
		sv := supervisortest.Start(b, supervisortest.Config{Programs: programs})
		cmd := exec.Command(bin)
		cmd.Env = append(os.Environ(), "SUPERVISOR_SERVER_URL="+sv.URL, "REDIS_URL="+r.URL, "HOSTNAME=bench")
		in, err := cmd.StdinPipe()
		if err != nil {
			b.Fatal(err)
		}
		out, err := cmd.StdoutPipe()
		if err != nil {
			b.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		defer func() { _ = in.Close(); _ = cmd.Wait() }()
		run(b, in, bufio.NewReader(out))
	})

	b.Run("fake-rpc", func(b *testing.B) {
		r := eventstest.StartRedis(b)
		inR, inW := io.Pipe()
		outR, outW := io.Pipe()
		l := &events.Listener{Host: "bench", Supervisor: &fakeSupervisor{procs: procs}, Sink: events.NewPublisher(r.Client, "bench", 0)}
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { defer wg.Done(); _ = l.Serve(context.Background(), inR, outW); _ = outW.Close() }()
		defer func() { _ = inW.Close(); wg.Wait() }()
		run(b, inW, bufio.NewReader(outR))
	})
}
