package container_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/vr-paas/vr/pkg/container"
)

func validSpec() container.Spec {
	return container.Spec{
		Name:    "app-v1-prod-abcd1234-web-5000",
		Rootfs:  container.Rootfs{Dir: "/apps/procs/x/rootfs"},
		Process: container.Process{Argv: []string{"/bin/sh", "-c", "exec app"}},
	}
}

func TestValidateAcceptsValidSpecs(t *testing.T) {
	specs := map[string]func(*container.Spec){
		"minimal": func(*container.Spec) {},
		"everything": func(s *container.Spec) {
			s.Hostname = "web-1.example"
			s.Rootfs = container.Rootfs{Overlay: &container.Overlay{Lower: "/apps/images/base/contents", Upper: "/apps/procs/x/rootfs", Work: "/apps/procs/x/work"}}
			s.Mounts = []container.Mount{{Source: "/srv/data", Target: "/data", ReadOnly: true}, {Source: "/etc/resolv.conf", Target: "/etc/resolv.conf", File: true}}
			s.Env = []string{"PORT=5000", "EMPTY="}
			s.UID, s.GID = 1000, 1000
			s.Cwd = "/app"
			s.TTY = true
			s.Limits = container.Limits{Memory: 256 << 20, MemorySwap: 1 << 30, CPUShares: 512, Pids: 100}
			s.Network = container.NetworkHost
			s.StopTimeout = time.Second
		},
		"overlay without work": func(s *container.Spec) {
			s.Rootfs = container.Rootfs{Overlay: &container.Overlay{Lower: "/l", Upper: "/p/upper"}}
		},
		"memory swap equal to memory": func(s *container.Spec) {
			s.Limits = container.Limits{Memory: 1 << 20, MemorySwap: 1 << 20}
		},
		"network none": func(s *container.Spec) { s.Network = container.NetworkNone },
	}
	for name, mod := range specs {
		s := validSpec()
		mod(&s)
		if err := s.Validate(); err != nil {
			t.Errorf("%s: Validate() = %v", name, err)
		}
	}
}

func TestValidateRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*container.Spec)
		want string // in the error message
	}{
		{"no name", func(s *container.Spec) { s.Name = "" }, "name: must not be empty"},
		{"slash in name", func(s *container.Spec) { s.Name = "a/b" }, `name "a/b"`},
		{"dot name", func(s *container.Spec) { s.Name = ".." }, `name ".."`},
		{"long name", func(s *container.Spec) { s.Name = strings.Repeat("a", 201) }, "longer than 200"},
		{"bad hostname", func(s *container.Spec) { s.Hostname = "a b" }, "hostname"},
		{"no rootfs", func(s *container.Spec) { s.Rootfs = container.Rootfs{} }, "rootfs: set dir or overlay"},
		{"both rootfs", func(s *container.Spec) {
			s.Rootfs.Overlay = &container.Overlay{Lower: "/l", Upper: "/u"}
		}, "rootfs: set either dir or overlay, not both"},
		{"relative dir", func(s *container.Spec) { s.Rootfs.Dir = "rootfs" }, "rootfs.dir: \"rootfs\" is not an absolute path"},
		{"dotdot dir", func(s *container.Spec) { s.Rootfs.Dir = "/a/../b" }, "rootfs.dir"},
		{"space in dir", func(s *container.Spec) { s.Rootfs.Dir = "/a b" }, "whitespace"},
		{"overlay no lower", func(s *container.Spec) {
			s.Rootfs = container.Rootfs{Overlay: &container.Overlay{Upper: "/u"}}
		}, "rootfs.overlay.lower: must not be empty"},
		{"overlay colon", func(s *container.Spec) {
			s.Rootfs = container.Rootfs{Overlay: &container.Overlay{Lower: "/l:x", Upper: "/u"}}
		}, "rootfs.overlay.lower"},
		{"overlay same dirs", func(s *container.Spec) {
			s.Rootfs = container.Rootfs{Overlay: &container.Overlay{Lower: "/l", Upper: "/l/"}}
		}, "rootfs.overlay.upper: must differ"},
		{"overlay other work", func(s *container.Spec) {
			s.Rootfs = container.Rootfs{Overlay: &container.Overlay{Lower: "/l", Upper: "/p/rootfs", Work: "/elsewhere"}}
		}, `rootfs.overlay.work: "/elsewhere": liblxc always uses "/p/work"`},
		{"mount relative target", func(s *container.Spec) {
			s.Mounts = []container.Mount{{Source: "/a", Target: "data"}}
		}, "mounts[0].target"},
		{"mount over root", func(s *container.Spec) {
			s.Mounts = []container.Mount{{Source: "/a", Target: "/"}}
		}, "mounts[0].target: cannot mount over /"},
		{"mount no source", func(s *container.Spec) {
			s.Mounts = []container.Mount{{Target: "/x"}, {Source: "/a", Target: "/y"}}
		}, "mounts[0].source: must not be empty"},
		{"no argv", func(s *container.Spec) { s.Argv = nil }, "argv: must name a command"},
		{"empty argv0", func(s *container.Spec) { s.Argv = []string{""} }, "argv: must name a command"},
		{"bad env", func(s *container.Spec) { s.Env = []string{"PORT=1", "NOEQUALS"} }, `env[1]: "NOEQUALS" is not KEY=value`},
		{"empty env key", func(s *container.Spec) { s.Env = []string{"=x"} }, "env[0]"},
		{"negative uid", func(s *container.Spec) { s.UID = -1 }, "uid: -1 is out of range"},
		{"negative gid", func(s *container.Spec) { s.GID = -5 }, "gid"},
		{"relative cwd", func(s *container.Spec) { s.Cwd = "app" }, "cwd"},
		{"negative memory", func(s *container.Spec) { s.Limits.Memory = -1 }, "limits.memory: must not be negative"},
		{"swap without memory", func(s *container.Spec) { s.Limits.MemorySwap = 1 << 30 }, "limits.memory_swap: needs limits.memory"},
		{"swap below memory", func(s *container.Spec) {
			s.Limits = container.Limits{Memory: 1 << 30, MemorySwap: 256 << 20}
		}, "limits.memory_swap: 268435456 bytes is less than limits.memory 1073741824 bytes"},
		{"cpu shares", func(s *container.Spec) { s.Limits.CPUShares = 1 }, "limits.cpu_shares: 1 is outside 2..262144"},
		{"pids", func(s *container.Spec) { s.Limits.Pids = -2 }, "limits.pids"},
		{"network", func(s *container.Spec) { s.Network = "bridge" }, `network: "bridge"`},
		{"stop timeout", func(s *container.Spec) { s.StopTimeout = -time.Second }, "stop_timeout"},
	} {
		s := validSpec()
		tc.mod(&s)
		err := s.Validate()
		if err == nil {
			t.Errorf("%s: Validate() = nil, want an error containing %q", tc.name, tc.want)
			continue
		}
		if !errors.Is(err, container.ErrInvalidSpec) {
			t.Errorf("%s: %v does not wrap ErrInvalidSpec", tc.name, err)
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Validate() = %q, want it to contain %q", tc.name, err, tc.want)
		}
		if s.Name != "" && !strings.Contains(err.Error(), s.Name) {
			t.Errorf("%s: %q does not name the container", tc.name, err)
		}
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	s := container.Spec{Name: "x", Process: container.Process{UID: -1}}
	err := s.Validate()
	for _, want := range []string{"rootfs", "argv", "uid"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want it to mention %s", err, want)
		}
	}
}

func TestWithDefaults(t *testing.T) {
	s := validSpec()
	s.Env = []string{"A=1"}
	s.Rootfs = container.Rootfs{Overlay: &container.Overlay{Lower: "/l", Upper: "/apps/procs/p/rootfs"}}
	d := s.WithDefaults()
	if d.Hostname != s.Name || d.Network != container.NetworkNone || d.Cwd != "/" || d.StopTimeout != container.DefaultStopTimeout {
		t.Errorf("defaults not applied: %+v", d)
	}
	if got := strings.Join(d.Env, " "); got != "A=1 PATH="+container.DefaultPath {
		t.Errorf("Env = %q", got)
	}
	if d.Rootfs.Overlay.Work != "/apps/procs/p/work" {
		t.Errorf("overlay work = %q, want /apps/procs/p/work", d.Rootfs.Overlay.Work)
	}
	// The original is not modified.
	if len(s.Env) != 1 || s.Rootfs.Overlay.Work != "" {
		t.Errorf("WithDefaults modified its receiver: %+v", s)
	}
	// An explicit PATH is kept.
	p := container.Process{Argv: []string{"x"}, Env: []string{"PATH=/opt/bin"}}.WithDefaults()
	if strings.Join(p.Env, " ") != "PATH=/opt/bin" {
		t.Errorf("Env = %q, want the explicit PATH only", p.Env)
	}
}
