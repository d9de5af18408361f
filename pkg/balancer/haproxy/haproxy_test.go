package haproxy_test

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vr-paas/vr/pkg/balancer"
	"github.com/vr-paas/vr/pkg/balancer/balancertest"
	"github.com/vr-paas/vr/pkg/balancer/haproxy"
	"github.com/vr-paas/vr/pkg/balancer/poolfile"
	"github.com/vr-paas/vr/pkg/testutil"
)

// server is an HAProxy (master-worker) started by a test in its own directory and port.
type server struct {
	dir   string
	port  int
	cfg   haproxy.Config
	warns chan string
}

func startHAProxy(t testing.TB) *server {
	t.Helper()
	testutil.RequireBinary(t, "haproxy", "socat")
	dir := t.TempDir()
	s := &server{dir: dir, port: testutil.FreePort(t), warns: make(chan string, 100)}
	pools := filepath.Join(dir, "pools.d") + "/"
	must(t, os.MkdirAll(pools, 0o755))
	main := filepath.Join(dir, "haproxy.cfg")
	sock := filepath.Join(dir, "admin.sock")
	pid := filepath.Join(dir, "haproxy.pid")
	cfg := fmt.Sprintf(`global
  master-worker
  stats socket %s mode 600 level admin expose-fd listeners
defaults
  mode http
  timeout connect 2s
  timeout client 30s
  timeout server 30s
  retries 2
frontend fe
  bind 127.0.0.1:%d
  default_backend web
`, sock, s.port)
	must(t, os.WriteFile(main, []byte(cfg), 0o644))
	// The frontend routes to pool "web": create it empty first, as an operator would.
	must(t, os.WriteFile(filepath.Join(pools, "web.cfg"), haproxy.Render("web", nil), 0o644))
	files := fmt.Sprintf("-f %s -f %s", main, pools)
	s.cfg = haproxy.Config{
		Options: poolfile.Options{
			IncludeDir:  pools,
			CheckCmd:    "haproxy -c " + files,
			ReloadCmd:   "kill -USR2 $(cat " + pid + ")",
			LockTimeout: 60,
		},
		StatsSocket: sock,
	}
	if out, err := exec.Command("sh", "-c", "haproxy -W -D -p "+pid+" "+files).CombinedOutput(); err != nil {
		t.Fatalf("start haproxy: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("sh", "-c", "kill $(cat "+pid+")").Run() })
	for i := 0; ; i++ {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", s.port))
		if err == nil {
			c.Close()
			if _, err := os.Stat(sock); err == nil {
				break
			}
		}
		if i > 250 {
			t.Fatalf("haproxy does not listen on %d", s.port)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return s
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (s *server) open() (balancer.Balancer, error) {
	return haproxy.New(s.cfg, balancer.Env{Warn: func(m string) {
		select {
		case s.warns <- m:
		default:
		}
	}})
}

func TestConformance(t *testing.T) {
	balancertest.Run(t, func(t *testing.T) balancertest.Opener { return startHAProxy(t).open })
}

func TestLive(t *testing.T) {
	s := startHAProxy(t)
	balancertest.Live(t, balancertest.LiveOptions{
		Open: s.open,
		URL:  fmt.Sprintf("http://127.0.0.1:%d/", s.port),
		Host: "localhost",
		Break: func(t *testing.T) (string, func()) {
			p := filepath.Join(s.cfg.IncludeDir, "broken.cfg")
			must(t, os.WriteFile(p, []byte("backend broken\n  this is not haproxy\n"), 0o644))
			return "unknown keyword 'this'", func() { _ = os.Remove(p) }
		},
	})
	close(s.warns)
	for w := range s.warns {
		t.Logf("warning: %s", w)
	}
}

func TestRenderParse(t *testing.T) {
	got := string(haproxy.Render("web", []string{"10.0.0.1:5000", "[::1]:5001"}))
	want := haproxy.Header + "\nbackend web\n  balance roundrobin\n  server 10.0.0.1:5000 10.0.0.1:5000\n  server [::1]:5001 [::1]:5001\n"
	if got != want {
		t.Fatalf("Render:\n%s\nwant:\n%s", got, want)
	}
	nodes, err := haproxy.Parse("web", []byte(got))
	if err != nil || strings.Join(nodes, ",") != "10.0.0.1:5000,[::1]:5001" {
		t.Fatalf("Parse: %v %v", nodes, err)
	}
	if _, err := haproxy.Parse("api", []byte(got)); err == nil {
		t.Fatal("Parse accepted the file of another pool")
	}
}

// BenchmarkUpdate measures one pool update (add or delete, validate, reload, read back).
func BenchmarkUpdate(b *testing.B) {
	s := startHAProxy(b)
	bal, err := s.open()
	must(b, err)
	balancertest.BenchUpdates(b, bal)
}
