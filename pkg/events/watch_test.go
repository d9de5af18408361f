package events_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/vr-paas/vr/pkg/events"
	"github.com/vr-paas/vr/pkg/events/eventstest"
	"github.com/vr-paas/vr/pkg/testutil"
)

var errEnough = errors.New("enough")

// collect watches from `from` until n entries arrived.
func collect(t *testing.T, r *eventstest.Redis, from string, n int) []events.Entry {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var got []events.Entry
	err := events.Watch(ctx, r.Client, events.WatchOptions{From: from, Block: 200 * time.Millisecond}, func(e events.Entry) error {
		got = append(got, e)
		if len(got) == n {
			return errEnough
		}
		return nil
	})
	if !errors.Is(err, errEnough) {
		t.Fatalf("Watch: %v after %d entries", err, len(got))
	}
	return got
}

func TestWatchCatchUp(t *testing.T) {
	r := eventstest.StartRedis(t)
	ctx := context.Background()
	p := events.NewPublisher(r.Client, "h", 0)
	for i := 1; i <= 3; i++ {
		if _, err := p.Publish(ctx, events.Update{Event: "E", Message: []byte(fmt.Sprintf(`{"i":%d}`, i))}); err != nil {
			t.Fatal(err)
		}
	}
	all := collect(t, r, "0", 3)
	for i, e := range all {
		if e.Seq != int64(i+1) || e.Host != "h" || string(e.Message) != fmt.Sprintf(`{"i":%d}`, i+1) {
			t.Fatalf("entry %d: %+v", i, e)
		}
	}
	rest := collect(t, r, all[1].ID, 1)
	if rest[0].ID != all[2].ID {
		t.Fatalf("resumed at %+v, want %s", rest[0], all[2].ID)
	}
}

func TestWatchLiveOnly(t *testing.T) {
	r := eventstest.StartRedis(t)
	ctx := context.Background()
	p := events.NewPublisher(r.Client, "h", 0)
	if _, err := p.Publish(ctx, events.Update{Event: "OLD", Message: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	var (
		mu  sync.Mutex
		got []events.Entry
	)
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- events.Watch(wctx, r.Client, events.WatchOptions{From: "$", Block: 100 * time.Millisecond}, func(e events.Entry) error {
			mu.Lock()
			got = append(got, e)
			mu.Unlock()
			return nil
		})
	}()
	// Publish until the watcher has seen something: it must be new, never the old entry.
	testutil.Eventually(t, 10*time.Second, func() bool {
		if _, err := p.Publish(ctx, events.Update{Event: "NEW", Message: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		defer mu.Unlock()
		return len(got) > 0
	}, func() string { return "watcher saw nothing" })
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Watch returned %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	for i, e := range got {
		if e.Event != "NEW" || (i > 0 && e.Seq != got[i-1].Seq+1) {
			t.Fatalf("entries %+v", got)
		}
	}
}

func TestWatchSurvivesRedisRestart(t *testing.T) {
	r := eventstest.StartRedis(t)
	ctx := context.Background()
	p := events.NewPublisher(r.Client, "h", 0)
	if _, err := p.Publish(ctx, events.Update{Event: "E", Message: []byte(`{"i":1}`)}); err != nil {
		t.Fatal(err)
	}
	r.Stop()
	var errs []error
	var got []events.Entry
	wctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	restarted := false
	err := events.Watch(wctx, r.Client, events.WatchOptions{From: "0", Block: 100 * time.Millisecond, OnError: func(err error) {
		errs = append(errs, err)
		if !restarted {
			restarted = true
			r.Restart()
			if _, err := p.Publish(ctx, events.Update{Event: "E", Message: []byte(`{"i":2}`)}); err != nil {
				t.Error(err)
			}
		}
	}}, func(e events.Entry) error {
		got = append(got, e)
		if len(got) == 2 {
			return errEnough
		}
		return nil
	})
	if !errors.Is(err, errEnough) || len(errs) == 0 || got[0].Seq != 1 || got[1].Seq != 2 {
		t.Fatalf("err %v, errors %v, entries %+v", err, errs, got)
	}
}

func TestWatchBadFrom(t *testing.T) {
	r := eventstest.StartRedis(t)
	for _, from := range []string{"yesterday", "1-2-3", "-5"} {
		err := events.Watch(context.Background(), r.Client, events.WatchOptions{From: from}, func(events.Entry) error { return nil })
		var fe *events.FromIDError
		if !errors.As(err, &fe) || !fe.BadInput() {
			t.Errorf("%q: %v", from, err)
		}
	}
}
