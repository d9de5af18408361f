package supervisor_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vr-paas/vr/pkg/supervisor"
	"github.com/vr-paas/vr/pkg/supervisor/supervisortest"
)

func TestNewURLs(t *testing.T) {
	for _, u := range []string{"unix:///run/supervisor.sock", "http://127.0.0.1:9001", "http://u:p@host:9001/RPC2", "https://host"} {
		c, err := supervisor.New(u, supervisor.Options{})
		if err != nil {
			t.Errorf("%s: %v", u, err)
			continue
		}
		if strings.Contains(c.URL(), ":p@") {
			t.Errorf("%s: URL() shows the password: %s", u, c.URL())
		}
	}
	for _, u := range []string{"", "unix://", "localhost:9001", "ftp://x", "http://"} {
		_, err := supervisor.New(u, supervisor.Options{})
		var ue *supervisor.URLError
		if !errors.As(err, &ue) || !ue.BadInput() {
			t.Errorf("%q: got %v, want a *URLError", u, err)
		}
	}
}

// fakeServer answers every call with the body and records the last request.
type fakeServer struct {
	status int
	body   string
	req    *http.Request
	sent   string
}

func (f *fakeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	f.req, f.sent = r, string(b)
	if f.status != 0 {
		w.WriteHeader(f.status)
	}
	_, _ = io.WriteString(w, f.body)
}

func TestClientHTTP(t *testing.T) {
	fake := &fakeServer{body: string(response("<int>4242</int>"))}
	srv := httptest.NewServer(fake)
	defer srv.Close()

	u := strings.Replace(srv.URL, "http://", "http://admin:pw@", 1)
	c, err := supervisor.New(u, supervisor.Options{})
	if err != nil {
		t.Fatal(err)
	}
	pid, err := c.GetPID(context.Background())
	if err != nil || pid != 4242 {
		t.Fatalf("GetPID = %d, %v", pid, err)
	}
	user, pass, ok := fake.req.BasicAuth()
	if !ok || user != "admin" || pass != "pw" {
		t.Fatalf("basic auth %q %q %v", user, pass, ok)
	}
	if fake.req.URL.Path != "/RPC2" || fake.req.Method != http.MethodPost || fake.req.Header.Get("Content-Type") != "text/xml" {
		t.Fatalf("request %s %s %v", fake.req.Method, fake.req.URL, fake.req.Header)
	}
	if !strings.Contains(fake.sent, "<methodName>supervisor.getPID</methodName>") {
		t.Fatalf("sent %s", fake.sent)
	}

	// Options win over the URL's credentials.
	c2, _ := supervisor.New(u, supervisor.Options{Username: "other", Password: "x"})
	_, _ = c2.GetPID(context.Background())
	if user, _, _ := fake.req.BasicAuth(); user != "other" {
		t.Fatalf("user %q", user)
	}

	fake.status, fake.body = http.StatusUnauthorized, "no"
	_, err = c.GetPID(context.Background())
	if err == nil || !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), "SUPERVISOR_USERNAME") ||
		!strings.Contains(err.Error(), "supervisor.getPID") || strings.Contains(err.Error(), "pw") {
		t.Fatalf("401: %v", err)
	}
	fake.status = http.StatusInternalServerError
	if _, err := c.GetPID(context.Background()); err == nil || !strings.Contains(err.Error(), "500") {
		t.Fatalf("500: %v", err)
	}
	fake.status, fake.body = 0, "<html>not xml-rpc</html>"
	if _, err := c.GetPID(context.Background()); err == nil {
		t.Fatal("html accepted")
	}
}

func TestClientUnixSocketAndTimeout(t *testing.T) {
	dir, err := os.MkdirTemp("", "vrsock")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	sock := filepath.Join(dir, "s.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.Header.Get("X-Slow"), "1") {
			<-release
		}
		b, _ := io.ReadAll(r.Body)
		if strings.Contains(string(b), "supervisor.getState") {
			_, _ = w.Write(response("<struct><member><name>statecode</name><value><int>1</int></value></member><member><name>statename</name><value><string>RUNNING</string></value></member></struct>"))
			return
		}
		<-release
	})}
	go func() { _ = srv.Serve(l) }()
	defer srv.Close()
	defer close(release)

	c, err := supervisor.New("unix://"+sock, supervisor.Options{Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if st, err := c.GetState(context.Background()); err != nil || st != "RUNNING" {
		t.Fatalf("GetState = %q, %v", st, err)
	}
	start := time.Now()
	_, err = c.GetAllProcessInfo(context.Background())
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Fatalf("hung call: %v after %v", err, time.Since(start))
	}
	if !strings.Contains(err.Error(), "unix://"+sock) {
		t.Fatalf("error does not name the server: %v", err)
	}

	c2, _ := supervisor.New("unix://"+filepath.Join(dir, "missing.sock"), supervisor.Options{})
	if _, err := c2.GetState(context.Background()); !errors.Is(err, syscall.ENOENT) {
		t.Fatalf("missing socket: %v", err)
	}
}

// TestAgainstSupervisord drives a real supervisord through both kinds of server URL.
func TestAgainstSupervisord(t *testing.T) {
	for _, inet := range []bool{false, true} {
		name := "unix"
		if inet {
			name = "inet"
		}
		t.Run(name, func(t *testing.T) {
			s := supervisortest.Start(t, supervisortest.Config{Inet: inet, Programs: []supervisortest.Program{{Name: "web"}, {Name: "naïve"}}})
			ctx := context.Background()
			c := s.Client

			procs, err := c.GetAllProcessInfo(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(procs) != 2 || procs[0].StateName != "STOPPED" {
				t.Fatalf("%+v", procs)
			}

			if err := c.StartProcess(ctx, "web", true); err != nil {
				t.Fatal(err)
			}
			info, err := c.GetProcessInfo(ctx, "web")
			if err != nil || info.StateName != "RUNNING" || info.State != supervisor.StateRunning || info.PID <= 0 || info.Start == 0 || info.FullName() != "web" {
				t.Fatalf("%+v %v", info, err)
			}
			if err := c.StartProcess(ctx, "web", true); !errors.Is(err, supervisor.ErrAlreadyStarted) {
				t.Fatalf("second start: %v", err)
			}
			if err := c.SignalProcess(ctx, "web", "KILL"); err != nil {
				t.Fatal(err)
			}
			s.WaitState(t, "web", 5*time.Second, "EXITED")
			if err := c.StopProcess(ctx, "web", true); !errors.Is(err, supervisor.ErrNotRunning) {
				t.Fatalf("stop of a stopped process: %v", err)
			}

			_, err = c.GetProcessInfo(ctx, "nope")
			var f *supervisor.Fault
			if !errors.Is(err, supervisor.ErrNoSuchProcess) || !errors.As(err, &f) || f.String != "BAD_NAME: nope" {
				t.Fatalf("unknown name: %v", err)
			}

			if info, err := c.GetProcessInfo(ctx, "naïve"); err != nil || info.Name != "naïve" {
				t.Fatalf("non-ASCII name: %+v %v", info, err)
			}

			s.AddProgram(t, supervisortest.Program{Name: "added"})
			if err := c.RemoveProcessGroup(ctx, "added"); err != nil {
				t.Fatal(err)
			}
			if _, err := c.GetProcessInfo(ctx, "added"); !errors.Is(err, supervisor.ErrNoSuchProcess) {
				t.Fatalf("removed group still there: %v", err)
			}
			if pid, err := c.GetPID(ctx); err != nil || pid <= 0 {
				t.Fatalf("GetPID %d %v", pid, err)
			}
		})
	}
}

func TestWrongPassword(t *testing.T) {
	s := supervisortest.Start(t, supervisortest.Config{Inet: true})
	c, err := supervisor.New(s.URL, supervisor.Options{Username: s.Username, Password: "wrong"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetState(context.Background())
	if err == nil || !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), s.URL) {
		t.Fatalf("got %v", err)
	}
}
