package apache_test

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
	"github.com/vr-paas/vr/pkg/balancer/apache"
	"github.com/vr-paas/vr/pkg/balancer/balancertest"
	"github.com/vr-paas/vr/pkg/balancer/poolfile"
	"github.com/vr-paas/vr/pkg/testutil"
)

const modules = "/usr/lib/apache2/modules"

// server is an Apache httpd started by a test with its own configuration and port.
type server struct {
	dir  string
	port int
	cfg  apache.Config
}

func startApache(t testing.TB) *server {
	t.Helper()
	testutil.RequireRoot(t)
	testutil.RequireBinary(t, "apache2")
	dir := t.TempDir()
	s := &server{dir: dir, port: testutil.FreePort(t)}
	pools := filepath.Join(dir, "pools") + "/"
	must(t, os.MkdirAll(pools, 0o755))
	must(t, os.MkdirAll(filepath.Join(dir, "run"), 0o755))
	conf := filepath.Join(dir, "httpd.conf")
	pid := filepath.Join(dir, "run", "httpd.pid")
	var load []string
	for _, m := range []string{"mpm_event", "authz_core", "proxy", "proxy_http", "proxy_balancer", "slotmem_shm", "lbmethod_byrequests"} {
		load = append(load, fmt.Sprintf("LoadModule %s_module %s/mod_%s.so", m, modules, m))
	}
	text := fmt.Sprintf(`ServerRoot %[1]s
DefaultRuntimeDir %[1]s/run
PidFile %[2]s
ErrorLog %[1]s/error.log
LogLevel warn
Listen 127.0.0.1:%[3]d
ServerName localhost
User www-data
Group www-data
%[4]s
IncludeOptional %[5]s*.conf
ProxyPass "/" "balancer://web/"
`, dir, pid, s.port, strings.Join(load, "\n"), pools)
	must(t, os.WriteFile(conf, []byte(text), 0o644))
	// ProxyPass routes to pool "web": create it empty first, as an operator would.
	must(t, os.WriteFile(filepath.Join(pools, "vr-pool-web.conf"), apache.Render("web", nil), 0o644))
	base := "apache2 -f " + conf
	s.cfg = apache.Config{
		Options: poolfile.Options{
			IncludeDir:  pools,
			CheckCmd:    base + " -t",
			ReloadCmd:   base + " -k graceful",
			LockTimeout: 60,
		},
		PIDFile: pid,
	}
	if out, err := exec.Command("sh", "-c", base+" -k start").CombinedOutput(); err != nil {
		t.Fatalf("start apache: %v: %s", err, out)
	}
	t.Cleanup(func() {
		_ = exec.Command("sh", "-c", base+" -k stop").Run()
		for i := 0; i < 250; i++ {
			if _, err := os.Stat(pid); err != nil {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
	for i := 0; ; i++ {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", s.port))
		if err == nil {
			c.Close()
			if _, err := os.Stat(pid); err == nil {
				break
			}
		}
		if i > 250 {
			t.Fatalf("apache does not listen on %d", s.port)
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

func (s *server) open() (balancer.Balancer, error) { return apache.New(s.cfg, balancer.Env{}) }

func TestConformance(t *testing.T) {
	balancertest.Run(t, func(t *testing.T) balancertest.Opener { return startApache(t).open })
}

func TestLive(t *testing.T) {
	s := startApache(t)
	balancertest.Live(t, balancertest.LiveOptions{
		Open: s.open,
		URL:  fmt.Sprintf("http://127.0.0.1:%d/", s.port),
		Host: "localhost",
		Break: func(t *testing.T) (string, func()) {
			p := filepath.Join(s.cfg.IncludeDir, "broken.conf")
			must(t, os.WriteFile(p, []byte("ThisIsNotApache on\n"), 0o644))
			return "Invalid command 'ThisIsNotApache'", func() { _ = os.Remove(p) }
		},
	})
}

func TestRenderParse(t *testing.T) {
	got := string(apache.Render("web", []string{"10.0.0.1:5000", "app.example.com:5001"}))
	want := apache.Header + "\n<Proxy \"balancer://web\">\n  BalancerMember \"http://10.0.0.1:5000\"\n  BalancerMember \"http://app.example.com:5001\"\n</Proxy>\n"
	if got != want {
		t.Fatalf("Render:\n%s\nwant:\n%s", got, want)
	}
	nodes, err := apache.Parse("web", []byte(got))
	if err != nil || strings.Join(nodes, ",") != "10.0.0.1:5000,app.example.com:5001" {
		t.Fatalf("Parse: %v %v", nodes, err)
	}
	if _, err := apache.Parse("api", []byte(got)); err == nil {
		t.Fatal("Parse accepted the file of another pool")
	}
}

// BenchmarkUpdate measures one pool update (add or delete, validate, reload, read back).
func BenchmarkUpdate(b *testing.B) {
	s := startApache(b)
	bal, err := s.open()
	must(b, err)
	balancertest.BenchUpdates(b, bal)
}
