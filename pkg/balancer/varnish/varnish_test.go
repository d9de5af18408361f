package varnish_test

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
	"github.com/vr-paas/vr/pkg/balancer/poolfile"
	"github.com/vr-paas/vr/pkg/balancer/varnish"
	"github.com/vr-paas/vr/pkg/testutil"
)

const reloadScript = "/usr/share/varnish/varnishreload"

// server is a varnishd started by a test in its own directory, on its own ports.
type server struct {
	dir  string
	port int
	cfg  varnish.Config
}

func startVarnish(t testing.TB) *server {
	t.Helper()
	testutil.RequireRoot(t)
	testutil.RequireBinary(t, "varnishd", "varnishadm")
	if _, err := os.Stat(reloadScript); err != nil {
		testutil.Missing(t, "bin", "needs %s (Debian's varnish package); run: scripts/deps.sh", reloadScript)
	}
	dir := t.TempDir()
	s := &server{dir: dir, port: testutil.FreePort(t)}
	inc := filepath.Join(dir, "vcl") + "/"
	work := filepath.Join(dir, "work")
	if err := os.MkdirAll(inc, 0o755); err != nil {
		t.Fatal(err)
	}
	main := filepath.Join(inc, "main.vcl")
	vcl := fmt.Sprintf(`vcl 4.1;
import directors;
backend default none;
include "%spools.vcl";
sub vcl_recv {
  set req.backend_hint = web.backend();
  return (pass);
}
`, inc)
	must(t, os.WriteFile(main, []byte(vcl), 0o644))
	// The operator's VCL routes to pool "web": create it empty first, as an operator would.
	must(t, os.WriteFile(filepath.Join(inc, "pool-web.vcl"), varnish.Render("web", nil), 0o644))
	must(t, os.WriteFile(filepath.Join(inc, "pools.vcl"), []byte(varnish.IncludeLine(inc+"pool-web.vcl")+"\n"), 0o644))
	s.cfg = varnish.Config{Options: poolfile.Options{
		IncludeDir:  inc,
		CheckCmd:    fmt.Sprintf("varnishd -C -j none -f %s -n %s/check", main, dir),
		ReloadCmd:   reloadCmd(work, main),
		LockTimeout: 120,
	}}
	cmd := exec.Command("varnishd", "-j", "none", "-a", fmt.Sprintf("127.0.0.1:%d", s.port), "-T", "127.0.0.1:0",
		"-f", main, "-n", work, "-s", "malloc,32m", "-P", filepath.Join(dir, "varnishd.pid"),
		"-p", "vcl_cooldown=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("start varnishd: %v: %s", err, out)
	}
	t.Cleanup(func() {
		b, err := os.ReadFile(filepath.Join(dir, "varnishd.pid"))
		if err == nil {
			_ = exec.Command("kill", strings.TrimSpace(string(b))).Run()
		}
	})
	for i := 0; ; i++ {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", s.port))
		if err == nil {
			c.Close()
			break
		}
		if i > 250 {
			t.Fatalf("varnishd does not listen on %d", s.port)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return s
}

// reloadCmd loads and switches to the VCL as Debian's varnishreload does, in fewer varnishadm
// calls (varnishreload takes about a second): vcl.load, vcl.use, discard the others.
func reloadCmd(work, main string) string {
	adm := "varnishadm -n " + work
	return fmt.Sprintf(`n=vr_$(date +%%s%%N) && %[1]s vcl.load $n %[2]s && %[1]s vcl.use $n && `+
		`for o in $(%[1]s vcl.list | awk '$1=="available" {print $NF}'); do %[1]s vcl.discard $o >/dev/null; done`, adm, main)
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (s *server) open() (balancer.Balancer, error) { return varnish.New(s.cfg, balancer.Env{}) }

func TestConformance(t *testing.T) {
	balancertest.Run(t, func(t *testing.T) balancertest.Opener { return startVarnish(t).open },
		balancertest.Options{Timeout: 4 * time.Minute})
}

func TestLive(t *testing.T) {
	s := startVarnish(t)
	balancertest.Live(t, balancertest.LiveOptions{
		Open: s.open,
		URL:  fmt.Sprintf("http://127.0.0.1:%d/", s.port),
		Host: "localhost",
		Break: func(t *testing.T) (string, func()) {
			// A broken pool file left by someone else, already included.
			p := filepath.Join(s.cfg.IncludeDir, "pools.vcl")
			old, err := os.ReadFile(p)
			must(t, err)
			must(t, os.WriteFile(p, append(old, "this is not VCL;\n"...), 0o644))
			return "Expected one of", func() {
				// The failed update put back pools.vcl as it found it (broken): repair it.
				must(t, os.WriteFile(p, old, 0o644))
			}
		},
	})
}

func TestRenderParse(t *testing.T) {
	got := string(varnish.Render("web", []string{"10.0.0.1:5000", "app.example.com:5001"}))
	want := `
// This pool was written by Velociraptor.  You probably shouldn't edit it.
backend vr_web_1 {.host="10.0.0.1"; .port="5000";}
backend vr_web_2 {.host="app.example.com"; .port="5001";}
sub vcl_init {
  new web = directors.round_robin();
  web.add_backend(vr_web_1);
  web.add_backend(vr_web_2);
}
`
	if got != want {
		t.Fatalf("Render:\n%s\nwant:\n%s", got, want)
	}
	// The original's Varnish 3 files are read too, and its empty pool file is an empty pool.
	orig := "\n" + varnish.Header + "\ndirector web round-robin {\n  {.backend={.host=\"h1\"; .port=\"5000\";}}\n  {.backend={.host=\"h2\"; .port=\"5001\";}}\n}\n"
	for data, want := range map[string]string{got: "10.0.0.1:5000,app.example.com:5001", orig: "h1:5000,h2:5001", "": ""} {
		nodes, err := varnish.Parse("web", []byte(data))
		if err != nil || strings.Join(nodes, ",") != want {
			t.Errorf("Parse(%q) = %v, %v; want %s", data, nodes, err, want)
		}
	}
}

func TestPoolNameMustBeVCL(t *testing.T) {
	b, err := varnish.New(varnish.Config{Options: poolfile.Options{IncludeDir: t.TempDir(), ReloadCmd: "true"}}, balancer.Env{})
	must(t, err)
	if err := b.AddNodes(t.Context(), "my.app", []string{"10.0.0.1:5000"}); err == nil || !strings.Contains(err.Error(), "VCL name") {
		t.Fatalf("pool my.app: %v", err)
	}
}

// BenchmarkUpdate measures one pool update (add or delete, validate, reload, read back).
func BenchmarkUpdate(b *testing.B) {
	s := startVarnish(b)
	bal, err := s.open()
	must(b, err)
	balancertest.BenchUpdates(b, bal)
}
