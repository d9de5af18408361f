package events_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/vr-paas/vr/pkg/events"
	"github.com/vr-paas/vr/pkg/events/eventstest"
	"github.com/vr-paas/vr/pkg/supervisor"
	"github.com/vr-paas/vr/pkg/testutil"
)

// TestMain removes the binaries the tests built (testutil.BuildBinary).
func TestMain(m *testing.M) {
	code := m.Run()
	testutil.RemoveBinaries()
	os.Exit(code)
}

func subscribe(t *testing.T, rdb *redis.Client) <-chan *redis.Message {
	t.Helper()
	ps := rdb.Subscribe(context.Background(), events.Channel)
	if _, err := ps.Receive(context.Background()); err != nil { // the subscription confirmation
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ps.Close() })
	return ps.Channel()
}

func receive(t *testing.T, ch <-chan *redis.Message) string {
	t.Helper()
	select {
	case m := <-ch:
		return m.Payload
	case <-time.After(5 * time.Second):
		t.Fatal("no message on proc_events")
		return ""
	}
}

func TestPublish(t *testing.T) {
	r := eventstest.StartRedis(t)
	ctx := context.Background()
	sub := subscribe(t, r.Client)
	p := events.NewPublisher(r.Client, "h1", 0)

	procs := []supervisor.ProcessInfo{dummyInfo("a"), dummyInfo("b")}
	res, err := p.Publish(ctx, events.Update{Event: "PROCESS_STATE_RUNNING", Message: []byte(`{"n":1}`), Procs: procs, RefreshCache: true, Token: "x:1"})
	if err != nil || res.Seq != 1 || res.ID == "" || res.Duplicate {
		t.Fatalf("%+v %v", res, err)
	}
	if got := receive(t, sub); got != `{"n":1}` {
		t.Fatalf("published %q", got)
	}
	cache, err := events.ReadCache(ctx, r.Client, "h1")
	if err != nil || len(cache) != 2 || cache["a"]["statename"] != "RUNNING" || cache["b"]["pid"] != 1234.0 {
		t.Fatalf("cache %v %v", cache, err)
	}
	if ttl := r.Client.TTL(ctx, events.CacheKey("h1")).Val(); ttl < 590*time.Second || ttl > 600*time.Second {
		t.Fatalf("cache TTL %v", ttl)
	}

	// The same token again is a duplicate: nothing new published or appended.
	res2, err := p.Publish(ctx, events.Update{Event: "PROCESS_STATE_RUNNING", Message: []byte(`{"n":1}`), Token: "x:1"})
	if err != nil || !res2.Duplicate || res2.Seq != 1 || res2.ID != res.ID {
		t.Fatalf("%+v %v", res2, err)
	}

	// A refresh replaces the whole cache; RefreshCache false leaves it alone.
	if _, err := p.Publish(ctx, events.Update{Event: "TICK_60", Procs: procs[:1], RefreshCache: true, Token: "x:2"}); err != nil {
		t.Fatal(err)
	}
	if cache, _ := events.ReadCache(ctx, r.Client, "h1"); len(cache) != 1 || cache["a"] == nil {
		t.Fatalf("cache after refresh %v", cache)
	}
	res3, err := p.Publish(ctx, events.Update{Event: "PROCESS_GROUP_REMOVED", Message: []byte(`{"n":3}`), Token: "x:3"})
	if err != nil || res3.Seq != 2 {
		t.Fatalf("%+v %v", res3, err)
	}
	if got := receive(t, sub); got != `{"n":3}` {
		t.Fatalf("published %q", got)
	}
	if cache, _ := events.ReadCache(ctx, r.Client, "h1"); len(cache) != 1 {
		t.Fatalf("cache touched: %v", cache)
	}
	// An empty process list leaves an empty cache (the original crashed on HMSET of nothing).
	if _, err := p.Publish(ctx, events.Update{Event: "TICK_60", RefreshCache: true}); err != nil {
		t.Fatal(err)
	}
	if n := r.Client.Exists(ctx, events.CacheKey("h1")).Val(); n != 0 {
		t.Fatalf("cache exists after an empty refresh")
	}

	// Another host has its own sequence.
	if res, err := events.NewPublisher(r.Client, "h2", 0).Publish(ctx, events.Update{Event: "E", Message: []byte(`{}`)}); err != nil || res.Seq != 1 {
		t.Fatalf("%+v %v", res, err)
	}

	entries, err := events.ReadStream(ctx, r.Client, "0", 100)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Host+"#"+itoa(e.Seq)+" "+e.Event+" "+string(e.Message))
	}
	want := []string{`h1#1 PROCESS_STATE_RUNNING {"n":1}`, `h1#2 PROCESS_GROUP_REMOVED {"n":3}`, `h2#1 E {}`}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("stream:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if seq, err := events.LastSeq(ctx, r.Client, "h1"); err != nil || seq != 2 {
		t.Fatalf("LastSeq %d %v", seq, err)
	}
	if after, _ := events.ReadStream(ctx, r.Client, entries[0].ID, 100); len(after) != 2 || after[0].ID != entries[1].ID {
		t.Fatalf("ReadStream after %s: %+v", entries[0].ID, after)
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestPublishCapsStream(t *testing.T) {
	r := eventstest.StartRedis(t)
	ctx := context.Background()
	p := events.NewPublisher(r.Client, "h", 10)
	for i := 0; i < 500; i++ {
		if _, err := p.Publish(ctx, events.Update{Event: "E", Message: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	// MAXLEN ~ trims whole macro nodes (100 entries by default), so the length is near the cap,
	// not at it.
	if n := r.Client.XLen(ctx, events.StreamKey).Val(); n >= 500 || n < 10 {
		t.Fatalf("stream length %d after 500 entries capped at ~10", n)
	}
	if seq, _ := events.LastSeq(ctx, r.Client, "h"); seq != 500 {
		t.Fatalf("seq %d", seq)
	}
}

func TestPublishRedisDown(t *testing.T) {
	r := eventstest.StartRedis(t)
	r.Stop()
	p := events.NewPublisher(r.Client, "h", 0)
	_, err := p.Publish(context.Background(), events.Update{Event: "PROCESS_STATE_RUNNING", Message: []byte(`{}`)})
	if err == nil || !strings.Contains(err.Error(), r.Addr) || !strings.Contains(err.Error(), "PROCESS_STATE_RUNNING") {
		t.Fatalf("got %v", err)
	}
}

func TestDialBadURL(t *testing.T) {
	_, err := events.Dial("http://user:hunter2@x")
	var ue *events.URLError
	if err == nil || !strings.Contains(err.Error(), "http://user:xxxxx@x") || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("got %v", err)
	}
	if !errors.As(err, &ue) || !ue.BadInput() {
		t.Fatalf("not a *URLError: %v", err)
	}
	if _, err := events.Dial("redis://:pw@127.0.0.1:6379/3"); err != nil {
		t.Fatal(err)
	}
}

func TestPasswordAndDB(t *testing.T) {
	r := eventstest.StartRedisWithPassword(t, "s3cret")
	ctx := context.Background()
	rdb, err := events.Dial("redis://:s3cret@" + r.Addr + "/3")
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	if _, err := events.NewPublisher(rdb, "h", 0).Publish(ctx, events.Update{Event: "E", Message: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	if n := rdb.XLen(ctx, events.StreamKey).Val(); n != 1 {
		t.Fatalf("db 3 stream length %d", n)
	}
	if n := r.Client.XLen(ctx, events.StreamKey).Val(); n != 0 {
		t.Fatalf("db 0 stream length %d: the db of the URL was ignored", n)
	}

	wrong, _ := events.Dial("redis://:nope@" + r.Addr + "/3")
	defer wrong.Close()
	_, err = events.NewPublisher(wrong, "h", 0).Publish(ctx, events.Update{Event: "E", Message: []byte(`{}`)})
	if err == nil || !strings.Contains(err.Error(), r.Addr) || strings.Contains(err.Error(), "nope") {
		t.Fatalf("wrong password: %v", err)
	}
}
