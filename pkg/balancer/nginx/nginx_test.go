package nginx_test

import (
	"context"
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
	"github.com/vr-paas/vr/pkg/balancer/nginx"
	"github.com/vr-paas/vr/pkg/balancer/poolfile"
	"github.com/vr-paas/vr/pkg/testutil"
)

// server is an nginx started by a test in its own directory, on its own port.
type server struct {
	dir, conf string
	port      int
	opts      poolfile.Options
	pidFile   string
}

func startNginx(t testing.TB) *server { return startNginxIn(t, t.TempDir(), false) }

// startNginxIn starts nginx with its files in dir. When rooted, the paths in the balancer's
// settings are those a local.NewRooted(name, dir) host sees (dir is its "/").
func startNginxIn(t testing.TB, dir string, rooted bool) *server {
	t.Helper()
	testutil.RequireBinary(t, "nginx")
	s := &server{dir: dir, conf: filepath.Join(dir, "nginx.conf"), port: testutil.FreePort(t)}
	pools := filepath.Join(dir, "pools")
	if err := os.MkdirAll(filepath.Join(dir, "tmp"), 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(pools, 0o755); err != nil {
		t.Fatal(err)
	}
	conf := fmt.Sprintf(`daemon on;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log;
worker_processes 1;
events { worker_connections 512; }
http {
  access_log off;
  client_body_temp_path %[1]s/tmp/body;
  proxy_temp_path %[1]s/tmp/proxy;
  fastcgi_temp_path %[1]s/tmp/fastcgi;
  uwsgi_temp_path %[1]s/tmp/uwsgi;
  scgi_temp_path %[1]s/tmp/scgi;
  include %[2]s/*.conf;
  server {
    listen 127.0.0.1:%[3]d;
    location / { proxy_pass http://web; }
  }
}
`, dir, pools, s.port)
	if err := os.WriteFile(s.conf, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	// The operator's server block needs the pool to exist: create it empty, as an operator would.
	if err := os.WriteFile(filepath.Join(pools, "web.conf"), nginx.Render("web", nil), 0o644); err != nil {
		t.Fatal(err)
	}
	base := fmt.Sprintf("nginx -c %s -p %s", s.conf, dir)
	s.opts = poolfile.Options{IncludeDir: pools, CheckCmd: base + " -t -q", ReloadCmd: base + " -s reload", LockTimeout: 60}
	s.pidFile = filepath.Join(dir, "nginx.pid")
	if rooted {
		s.opts.IncludeDir = "/pools"
		s.pidFile = "nginx.pid" // commands run in the host's root
	}
	if out, err := exec.Command("sh", "-c", base).CombinedOutput(); err != nil {
		t.Fatalf("start nginx: %v: %s", err, out)
	}
	t.Cleanup(func() {
		_ = exec.Command("sh", "-c", base+" -s stop").Run()
		for i := 0; i < 100; i++ {
			if _, err := os.Stat(filepath.Join(dir, "nginx.pid")); err != nil {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
	waitPort(t, s.port)
	return s
}

func waitPort(t testing.TB, port int) {
	t.Helper()
	for i := 0; i < 250; i++ {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("nothing listens on port %d", port)
}

func (s *server) open() (balancer.Balancer, error) {
	return nginx.New(nginx.Config{Options: s.opts, PIDFile: s.pidFile}, balancer.Env{})
}

func TestConformance(t *testing.T) {
	balancertest.Run(t, func(t *testing.T) balancertest.Opener { return startNginx(t).open })
}

func TestLive(t *testing.T) {
	s := startNginx(t)
	balancertest.Live(t, balancertest.LiveOptions{
		Open: s.open,
		URL:  fmt.Sprintf("http://127.0.0.1:%d/", s.port),
		Host: "localhost",
		Break: func(t *testing.T) (string, func()) {
			p := filepath.Join(s.opts.IncludeDir, "broken.conf")
			if err := os.WriteFile(p, []byte("this is not nginx;\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			return `unknown directive "this"`, func() { _ = os.Remove(p) }
		},
	})
}

func TestRenderParse(t *testing.T) {
	got := string(nginx.Render("my_app", []string{"host3.my-squad.somewhere.com:5010", "host7.my-squad.somewhere.com:5011"}))
	want := "\nupstream my_app {\n  server host3.my-squad.somewhere.com:5010;\n  server host7.my-squad.somewhere.com:5011;\n}\n"
	if got != want {
		t.Fatalf("Render:\n%s\nwant:\n%s", got, want)
	}
	nodes, err := nginx.Parse("my_app", []byte(got))
	if err != nil || strings.Join(nodes, ",") != "host3.my-squad.somewhere.com:5010,host7.my-squad.somewhere.com:5011" {
		t.Fatalf("Parse: %v %v", nodes, err)
	}
	empty, err := nginx.Parse("web", nginx.Render("web", nil))
	if err != nil || len(empty) != 0 || empty == nil {
		t.Fatalf("empty pool parsed as %#v, %v", empty, err)
	}
	// The original wrote an empty upstream block (invalid for nginx); it still reads as empty.
	if n, err := nginx.Parse("web", []byte("\nupstream web {\n\n}\n")); err != nil || len(n) != 0 {
		t.Fatalf("original empty file: %v %v", n, err)
	}
	if _, err := nginx.Parse("web", []byte("upstream api {\n}\n")); err == nil {
		t.Fatal("a file for another upstream was accepted")
	}
}

func TestEmptyPoolIsValidConfig(t *testing.T) {
	s := startNginx(t)
	b, _ := s.open()
	ctx := context.Background()
	if err := b.AddNodes(ctx, "api", nil); err != nil {
		t.Fatalf("create empty pool: %v", err)
	}
	balancertest.Expect(t, ctx, b, "api")
}

func TestDeletePoolInUseIsRefused(t *testing.T) {
	s := startNginx(t)
	b, _ := s.open()
	ctx := context.Background()
	if err := b.AddNodes(ctx, "web", []string{"127.0.0.1:5000"}); err != nil {
		t.Fatal(err)
	}
	err := b.(balancer.PoolDeleter).DeletePool(ctx, "web")
	if err == nil || !strings.Contains(err.Error(), `host not found in upstream "web"`) || !strings.Contains(err.Error(), "put back") {
		t.Fatalf("DeletePool of a pool nginx.conf uses: %v", err)
	}
	balancertest.Expect(t, ctx, b, "web", "127.0.0.1:5000")
}
