package balancertest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vr-paas/vr/pkg/balancer"
)

// Backend is a small HTTP server on loopback that answers every request with its node name
// ("127.0.0.1:port") and counts the requests it served.
type Backend struct {
	Node string
	hits atomic.Int64
	srv  *http.Server
}

// Hits returns how many requests the backend served.
func (b *Backend) Hits() int64 { return b.hits.Load() }

// Backends starts n backends, stopped when the test ends.
func Backends(t testing.TB, n int) []*Backend {
	t.Helper()
	var out []*Backend
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		b := &Backend{Node: l.Addr().String()}
		b.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			b.hits.Add(1)
			w.Header().Set("X-Node", b.Node)
			_, _ = io.WriteString(w, b.Node)
		}), ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = b.srv.Serve(l) }()
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = b.srv.Shutdown(ctx)
		})
		out = append(out, b)
	}
	return out
}

// Client returns an HTTP client for the load balancer under test (keep-alive on, as real
// clients have it).
func Client() *http.Client {
	return &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 32, IdleConnTimeout: 30 * time.Second},
	}
}

// Get fetches url once and returns the node that answered.
func Get(c *http.Client, url string) (string, error) {
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(body)))
	}
	return string(body), nil
}

// Converge polls url until the set of nodes answering is exactly want: every node of want
// answers, and then n consecutive requests reach only nodes of want. It fails the test after
// deadline, saying what answered.
func Converge(t testing.TB, url string, want []string, n int, deadline time.Duration) time.Duration {
	t.Helper()
	c := Client()
	defer c.CloseIdleConnections()
	start := time.Now()
	ok := map[string]bool{}
	for _, w := range want {
		ok[w] = true
	}
	var last string
	for time.Since(start) < deadline {
		seen := map[string]bool{}
		clean := true
		for i := 0; i < n; i++ {
			node, err := Get(c, url)
			if err != nil {
				last, clean = err.Error(), false
				break
			}
			if !ok[node] {
				last, clean = "reached removed or unknown node "+node, false
				break
			}
			seen[node] = true
		}
		if clean && len(seen) == len(want) {
			return time.Since(start)
		}
		if clean {
			last = fmt.Sprintf("only %d of %d nodes answered in %d requests", len(seen), len(want), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s did not converge on %v within %s: %s", url, want, deadline, last)
	return 0
}

// LoadResult is what a Load run saw.
type LoadResult struct {
	Requests int
	Failed   int
	Errors   []string // the first few failures
	ByNode   map[string]int
	Max      time.Duration // slowest request
}

// Load sends rate requests per second to url for d (bounded: rate*d requests in all, from up
// to 16 concurrent clients) and reports failures: transport errors and non-200 answers.
func Load(ctx context.Context, url string, rate int, d time.Duration) LoadResult {
	total := int(float64(rate) * d.Seconds())
	c := Client()
	defer c.CloseIdleConnections()
	var mu sync.Mutex
	res := LoadResult{ByNode: map[string]int{}}
	jobs := make(chan struct{}, total)
	var wg sync.WaitGroup
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range jobs {
				start := time.Now()
				node, err := Get(c, url)
				el := time.Since(start)
				mu.Lock()
				res.Requests++
				if el > res.Max {
					res.Max = el
				}
				if err != nil {
					res.Failed++
					if len(res.Errors) < 5 {
						res.Errors = append(res.Errors, err.Error())
					}
				} else {
					res.ByNode[node]++
				}
				mu.Unlock()
			}
		}()
	}
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	for i := 0; i < total; i++ {
		select {
		case <-ctx.Done():
			i = total
			continue
		case <-tick.C:
		}
		jobs <- struct{}{}
	}
	close(jobs)
	wg.Wait()
	return res
}

// LiveOptions describe a load balancer under test.
type LiveOptions struct {
	Open Opener // balancer whose pool "web" the load balancer serves at URL
	URL  string
	// Break, if set, makes the service's configuration invalid (as a broken file left by
	// someone else would) and returns the text the validator's message must contain and how
	// to repair it.
	Break func(t *testing.T) (want string, repair func())
	// Host is the balancer host the errors must name.
	Host string
	// LoadFor is how long the load runs (default 10s) at Rate requests/s (default 200).
	LoadFor time.Duration
	Rate    int
}

// Live runs the end-to-end checks against a real load balancer: nodes added are reached,
// nodes removed are not, an invalid configuration is refused while the old one keeps serving,
// and nodes come and go under load with zero failed requests.
func Live(t *testing.T, o LiveOptions) {
	if o.LoadFor == 0 {
		o.LoadFor = 10 * time.Second
	}
	if o.Rate == 0 {
		o.Rate = 200
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	be := Backends(t, 4)
	open := func() balancer.Balancer {
		b, err := o.Open()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	const pool = "web"
	b := open()

	t.Run("AddReachesNewNodes", func(t *testing.T) {
		add(t, ctx, b, pool, be[0].Node, be[1].Node)
		el := Converge(t, o.URL, []string{be[0].Node, be[1].Node}, 20, 10*time.Second)
		t.Logf("2 nodes serving %s after %s", o.URL, el.Round(time.Millisecond))
		add(t, ctx, b, pool, be[2].Node)
		el = Converge(t, o.URL, []string{be[0].Node, be[1].Node, be[2].Node}, 30, 10*time.Second)
		t.Logf("added node serving after %s", el.Round(time.Millisecond))
	})
	t.Run("RemovedNodesGetNothing", func(t *testing.T) {
		del(t, ctx, b, pool, be[0].Node)
		el := Converge(t, o.URL, []string{be[1].Node, be[2].Node}, 30, 10*time.Second)
		t.Logf("removed node out of rotation after %s", el.Round(time.Millisecond))
		before := be[0].Hits()
		c := Client()
		for i := 0; i < 50; i++ {
			if _, err := Get(c, o.URL); err != nil {
				t.Fatalf("request %d: %v", i, err)
			}
		}
		c.CloseIdleConnections()
		if n := be[0].Hits() - before; n != 0 {
			t.Fatalf("removed node %s got %d of 50 requests", be[0].Node, n)
		}
	})
	if o.Break != nil {
		t.Run("InvalidConfigKeepsOldServing", func(t *testing.T) {
			want, repair := o.Break(t)
			err := b.AddNodes(ctx, pool, []string{be[3].Node})
			repair()
			if err == nil {
				t.Fatal("AddNodes succeeded with an invalid configuration")
			}
			msg := err.Error()
			if !strings.Contains(msg, want) || (o.Host != "" && !strings.Contains(msg, "host "+o.Host)) {
				t.Fatalf("error %q should name host %s and contain the validator's %q", msg, o.Host, want)
			}
			t.Logf("refused: %s", msg)
			Expect(t, ctx, b, pool, be[1].Node, be[2].Node)
			Converge(t, o.URL, []string{be[1].Node, be[2].Node}, 30, 5*time.Second)
		})
	}
	t.Run("ChurnUnderLoadZeroFailures", func(t *testing.T) {
		lctx, lcancel := context.WithCancel(ctx)
		defer lcancel()
		done := make(chan LoadResult)
		go func() { done <- Load(lctx, o.URL, o.Rate, o.LoadFor) }()
		// Nodes come and go while be[2] always stays.
		steps := []struct {
			add  bool
			node string
		}{{true, be[3].Node}, {false, be[1].Node}, {true, be[0].Node}, {false, be[3].Node}, {true, be[1].Node}, {false, be[0].Node}}
		ops, errs := 0, []error{}
		end := time.Now().Add(o.LoadFor - 500*time.Millisecond)
		for i := 0; time.Now().Before(end); i++ {
			s := steps[i%len(steps)]
			var err error
			if s.add {
				err = open().AddNodes(ctx, pool, []string{s.node})
			} else {
				err = open().DeleteNodes(ctx, pool, []string{s.node})
			}
			if err != nil {
				errs = append(errs, err)
			}
			ops++
			time.Sleep(250 * time.Millisecond)
		}
		res := <-done
		t.Logf("%d requests in %s at %d/s with %d pool changes: %d failed, slowest %s, per node %v",
			res.Requests, o.LoadFor, o.Rate, ops, res.Failed, res.Max.Round(time.Millisecond), res.ByNode)
		if err := errors.Join(errs...); err != nil {
			t.Errorf("pool changes failed: %v", err)
		}
		if res.Failed != 0 {
			t.Errorf("%d of %d requests failed: %v", res.Failed, res.Requests, res.Errors)
		}
		if res.Requests < int(float64(o.Rate)*o.LoadFor.Seconds())*9/10 {
			t.Errorf("only %d requests sent", res.Requests)
		}
	})
}
