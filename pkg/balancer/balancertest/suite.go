// Package balancertest is the conformance suite every balancer backend runs (Run), plus the
// pieces of the live tests that put a real load balancer in front of small HTTP backends
// (Backends, Load, Live).
package balancertest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/vr-paas/vr/pkg/balancer"
)

// Opener opens a Balancer over the state of one test. It is called several times per test (a
// new instance per operation, as the original server did) and from several goroutines: every
// instance must see the same pools.
type Opener func() (balancer.Balancer, error)

// Options tune the suite for one backend.
type Options struct {
	// Concurrent is the number of concurrent add/remove operations on one pool in the
	// concurrency test (default 20).
	Concurrent int
	// Timeout bounds each subtest (default 2 minutes).
	Timeout time.Duration
}

// Run runs the conformance suite. setup is called once per subtest for a fresh, empty state.
func Run(t *testing.T, setup func(t *testing.T) Opener, opts ...Options) {
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.Concurrent == 0 {
		o.Concurrent = 20
	}
	if o.Timeout == 0 {
		o.Timeout = 2 * time.Minute
	}
	tests := []struct {
		name string
		fn   func(t *testing.T, ctx context.Context, open Opener)
	}{
		{"MissingPoolIsEmpty", testMissingPool},
		{"AddCreatesPool", testAddCreates},
		{"AddIsIdempotent", testAddIdempotent},
		{"DeleteNodes", testDelete},
		{"DeleteMissingIsNoError", testDeleteMissing},
		{"EmptiedPool", testEmptied},
		{"PoolsAreIndependent", testIndependent},
		{"InvalidInput", testInvalid},
		{"StateOutlivesInstance", testPersist},
		{"DeletePool", testDeletePool},
		{"ConcurrentUpdates", func(t *testing.T, ctx context.Context, open Opener) { testConcurrent(t, ctx, open, o.Concurrent) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			open := setup(t)
			ctx, cancel := context.WithTimeout(context.Background(), o.Timeout)
			defer cancel()
			tc.fn(t, ctx, open)
		})
	}
}

func mustOpen(t *testing.T, open Opener) balancer.Balancer {
	t.Helper()
	b, err := open()
	if err != nil {
		t.Fatalf("open balancer: %v", err)
	}
	return b
}

// Expect fails t unless pool holds exactly want (sorted).
func Expect(t *testing.T, ctx context.Context, b balancer.Balancer, pool string, want ...string) {
	t.Helper()
	got, err := b.Nodes(ctx, pool)
	if err != nil {
		t.Fatalf("Nodes(%s): %v", pool, err)
	}
	if got == nil {
		t.Errorf("Nodes(%s) = nil, want a non-nil (possibly empty) list", pool)
	}
	want = balancer.Sorted(want)
	if !slices.Equal(got, want) {
		t.Fatalf("Nodes(%s) = %v, want %v", pool, got, want)
	}
}

func add(t *testing.T, ctx context.Context, b balancer.Balancer, pool string, nodes ...string) {
	t.Helper()
	if err := b.AddNodes(ctx, pool, nodes); err != nil {
		t.Fatalf("AddNodes(%s, %v): %v", pool, nodes, err)
	}
}

func del(t *testing.T, ctx context.Context, b balancer.Balancer, pool string, nodes ...string) {
	t.Helper()
	if err := b.DeleteNodes(ctx, pool, nodes); err != nil {
		t.Fatalf("DeleteNodes(%s, %v): %v", pool, nodes, err)
	}
}

func testMissingPool(t *testing.T, ctx context.Context, open Opener) {
	Expect(t, ctx, mustOpen(t, open), "nosuchpool")
}

func testAddCreates(t *testing.T, ctx context.Context, open Opener) {
	b := mustOpen(t, open)
	add(t, ctx, b, "web", "10.0.0.2:5001", "10.0.0.1:5000", "localhost:5002")
	Expect(t, ctx, b, "web", "10.0.0.1:5000", "10.0.0.2:5001", "localhost:5002")
}

func testAddIdempotent(t *testing.T, ctx context.Context, open Opener) {
	b := mustOpen(t, open)
	add(t, ctx, b, "web", "10.0.0.1:5000", "10.0.0.1:5000")
	add(t, ctx, b, "web", "10.0.0.1:5000")
	add(t, ctx, b, "web", "10.0.0.1:5000", "10.0.0.1:5001")
	Expect(t, ctx, b, "web", "10.0.0.1:5000", "10.0.0.1:5001")
}

func testDelete(t *testing.T, ctx context.Context, open Opener) {
	b := mustOpen(t, open)
	add(t, ctx, b, "web", "10.0.0.1:5000", "10.0.0.1:5001", "10.0.0.1:5002")
	del(t, ctx, b, "web", "10.0.0.1:5001", "10.0.0.9:5009")
	Expect(t, ctx, b, "web", "10.0.0.1:5000", "10.0.0.1:5002")
}

func testDeleteMissing(t *testing.T, ctx context.Context, open Opener) {
	b := mustOpen(t, open)
	del(t, ctx, b, "nosuchpool", "10.0.0.1:5000")
	Expect(t, ctx, b, "nosuchpool")
}

func testEmptied(t *testing.T, ctx context.Context, open Opener) {
	b := mustOpen(t, open)
	add(t, ctx, b, "web", "10.0.0.1:5000")
	del(t, ctx, b, "web", "10.0.0.1:5000")
	Expect(t, ctx, b, "web")
	// An emptied pool must still take nodes (the original's Varnish crashed here).
	add(t, ctx, b, "web", "10.0.0.1:5001")
	Expect(t, ctx, b, "web", "10.0.0.1:5001")
}

func testIndependent(t *testing.T, ctx context.Context, open Opener) {
	b := mustOpen(t, open)
	add(t, ctx, b, "web", "10.0.0.1:5000")
	add(t, ctx, b, "api", "10.0.0.2:5000")
	del(t, ctx, b, "web", "10.0.0.2:5000")
	Expect(t, ctx, b, "web", "10.0.0.1:5000")
	Expect(t, ctx, b, "api", "10.0.0.2:5000")
}

type badInput interface{ BadInput() bool }

func testInvalid(t *testing.T, ctx context.Context, open Opener) {
	b := mustOpen(t, open)
	add(t, ctx, b, "web", "10.0.0.1:5000")
	cases := []struct {
		pool  string
		nodes []string
	}{
		{"web", []string{"10.0.0.1"}},
		{"web", []string{"10.0.0.1:0"}},
		{"web", []string{"10.0.0.1:70000"}},
		{"web", []string{"bad host:80"}},
		{"web", []string{"10.0.0.2:5000", "x;y:1"}},
		{"", []string{"10.0.0.1:5001"}},
		{"../etc/passwd", []string{"10.0.0.1:5001"}},
		{"we b", []string{"10.0.0.1:5001"}},
	}
	for _, c := range cases {
		for op, f := range map[string]func(context.Context, string, []string) error{"AddNodes": b.AddNodes, "DeleteNodes": b.DeleteNodes} {
			err := f(ctx, c.pool, c.nodes)
			var bi badInput
			if err == nil || !errors.As(err, &bi) || !bi.BadInput() {
				t.Errorf("%s(%q, %q) = %v, want a bad-input error", op, c.pool, c.nodes, err)
			}
		}
	}
	if _, err := b.Nodes(ctx, "../x"); err == nil {
		t.Errorf("Nodes(../x) accepted an invalid pool name")
	}
	Expect(t, ctx, b, "web", "10.0.0.1:5000")
}

func testPersist(t *testing.T, ctx context.Context, open Opener) {
	add(t, ctx, mustOpen(t, open), "web", "10.0.0.1:5000")
	add(t, ctx, mustOpen(t, open), "web", "10.0.0.1:5001")
	Expect(t, ctx, mustOpen(t, open), "web", "10.0.0.1:5000", "10.0.0.1:5001")
}

func testDeletePool(t *testing.T, ctx context.Context, open Opener) {
	b := mustOpen(t, open)
	pd, ok := b.(balancer.PoolDeleter)
	if !ok {
		t.Skip("backend does not implement PoolDeleter")
	}
	if err := pd.DeletePool(ctx, "nosuchpool"); err != nil {
		t.Fatalf("DeletePool(missing): %v", err)
	}
	add(t, ctx, b, "gone", "10.0.0.1:5000")
	add(t, ctx, b, "api", "10.0.0.1:5001")
	if err := pd.DeletePool(ctx, "gone"); err != nil {
		t.Fatalf("DeletePool(gone): %v", err)
	}
	Expect(t, ctx, b, "gone")
	Expect(t, ctx, b, "api", "10.0.0.1:5001")
	add(t, ctx, b, "gone", "10.0.0.1:5002")
	Expect(t, ctx, b, "gone", "10.0.0.1:5002")
}

// testConcurrent starts with n/2 nodes, then runs n operations at once, each from its own
// Balancer instance: n/2 add one new node each, n/2 remove one initial node each. Every
// update must survive: the final pool is exactly the new nodes.
func testConcurrent(t *testing.T, ctx context.Context, open Opener, n int) {
	half := n / 2
	var initial, added []string
	for i := 0; i < half; i++ {
		initial = append(initial, fmt.Sprintf("10.1.0.%d:5000", i+1))
		added = append(added, fmt.Sprintf("10.2.0.%d:6000", i+1))
	}
	add(t, ctx, mustOpen(t, open), "web", initial...)
	var wg sync.WaitGroup
	errs := make(chan error, 2*half)
	start := make(chan struct{})
	for i := 0; i < half; i++ {
		wg.Add(2)
		go func(node string) {
			defer wg.Done()
			<-start
			b, err := open()
			if err == nil {
				err = b.AddNodes(ctx, "web", []string{node})
			}
			errs <- err
		}(added[i])
		go func(node string) {
			defer wg.Done()
			<-start
			b, err := open()
			if err == nil {
				err = b.DeleteNodes(ctx, "web", []string{node})
			}
			errs <- err
		}(initial[i])
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent update: %v", err)
		}
	}
	Expect(t, ctx, mustOpen(t, open), "web", added...)
}
