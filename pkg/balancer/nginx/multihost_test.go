package nginx_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vr-paas/vr/pkg/balancer"
	"github.com/vr-paas/vr/pkg/balancer/balancertest"
	"github.com/vr-paas/vr/pkg/balancer/nginx"
	"github.com/vr-paas/vr/pkg/transport"
	"github.com/vr-paas/vr/pkg/transport/local"
	"github.com/vr-paas/vr/pkg/transport/ssh"
	"github.com/vr-paas/vr/pkg/transport/ssh/sshtest"
)

// farm is n nginx "hosts" on one machine: each a directory standing for a host's "/" with its
// own nginx and port, reached through local.NewRooted.
type farm struct {
	hosts   []string
	servers map[string]*server
	warns   []string
	mu      sync.Mutex
}

func startFarm(t testing.TB, n int) *farm {
	f := &farm{servers: map[string]*server{}}
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("lb%d", i+1)
		f.hosts = append(f.hosts, name)
		f.servers[name] = startNginxIn(t, t.TempDir(), true)
	}
	return f
}

func (f *farm) open() (balancer.Balancer, error) {
	opts := f.servers[f.hosts[0]].opts
	opts.Hosts = f.hosts
	opts.CheckCmd = "nginx -c nginx.conf -p . -t -q"
	opts.ReloadCmd = "nginx -c nginx.conf -p . -s reload"
	return nginx.New(nginx.Config{Options: opts, PIDFile: "nginx.pid"}, balancer.Env{
		Dial: func(_ context.Context, host string) (transport.Transport, error) {
			return local.NewRooted(host, f.servers[host].dir), nil
		},
		Warn: func(m string) { f.mu.Lock(); f.warns = append(f.warns, m); f.mu.Unlock() },
	})
}

func (f *farm) url(host string) string {
	return fmt.Sprintf("http://127.0.0.1:%d/", f.servers[host].port)
}

func TestSeveralHosts(t *testing.T) {
	f := startFarm(t, 3)
	ctx := context.Background()
	be := balancertest.Backends(t, 2)
	b, err := f.open()
	if err != nil {
		t.Fatal(err)
	}
	if err := b.AddNodes(ctx, "web", []string{be[0].Node}); err != nil {
		t.Fatal(err)
	}
	for _, h := range f.hosts {
		balancertest.Converge(t, f.url(h), []string{be[0].Node}, 10, 5*time.Second)
	}

	// lb2 has a broken file: it keeps its old configuration and is named in the error; the
	// other hosts are updated all the same.
	broken := filepath.Join(f.servers["lb2"].dir, "pools", "broken.conf")
	if err := os.WriteFile(broken, []byte("this is not nginx;\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err = b.AddNodes(ctx, "web", []string{be[1].Node})
	if err == nil || !strings.Contains(err.Error(), "host lb2:") || strings.Contains(err.Error(), "host lb1") || strings.Contains(err.Error(), "host lb3") || !strings.Contains(err.Error(), `unknown directive "this"`) {
		t.Fatalf("one host failing: %v", err)
	}
	t.Logf("one of three hosts failing: %v", err)
	balancertest.Converge(t, f.url("lb1"), []string{be[0].Node, be[1].Node}, 20, 5*time.Second)
	balancertest.Converge(t, f.url("lb3"), []string{be[0].Node, be[1].Node}, 20, 5*time.Second)
	balancertest.Converge(t, f.url("lb2"), []string{be[0].Node}, 10, 5*time.Second)
	// Nodes is the union, with a warning naming the host that differs.
	balancertest.Expect(t, ctx, b, "web", be[0].Node, be[1].Node)
	if len(f.warns) != 1 || !strings.Contains(f.warns[0], "host lb2 has nodes ["+be[0].Node+"] for pool web") {
		t.Fatalf("warnings: %q", f.warns)
	}

	// Repaired, the same call finishes the job.
	if err := os.Remove(broken); err != nil {
		t.Fatal(err)
	}
	if err := b.AddNodes(ctx, "web", []string{be[1].Node}); err != nil {
		t.Fatal(err)
	}
	balancertest.Converge(t, f.url("lb2"), []string{be[0].Node, be[1].Node}, 20, 5*time.Second)
}

func TestConformanceSeveralHosts(t *testing.T) {
	balancertest.Run(t, func(t *testing.T) balancertest.Opener { return startFarm(t, 3).open })
}

// TestOverSSH drives nginx through a real sshd (known_hosts checked), as on remote balancers.
func TestOverSSH(t *testing.T) {
	sshd := sshtest.Start(t)
	balancertest.Run(t, func(t *testing.T) balancertest.Opener {
		s := startNginx(t)
		return func() (balancer.Balancer, error) {
			opts := s.opts
			opts.Hosts = []string{sshd.Addr}
			return nginx.New(nginx.Config{Options: opts, PIDFile: s.pidFile}, balancer.Env{Dial: ssh.Dialer(sshd.Config())})
		}
	}, balancertest.Options{Concurrent: 6}) // 20 concurrent updates run locally in TestConformance
}

// BenchmarkUpdate measures one pool update (add or delete + nginx -t + reload with the wait
// for the old workers + read back) on one host, and the same fanned out to 4 hosts.
func BenchmarkUpdate(b *testing.B) {
	for _, n := range []int{1, 4} {
		b.Run(fmt.Sprintf("hosts=%d", n), func(b *testing.B) {
			f := startFarm(b, n)
			bal, err := f.open()
			if err != nil {
				b.Fatal(err)
			}
			balancertest.BenchUpdates(b, bal)
		})
	}
}
