package container_test

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vr-paas/vr/pkg/container"
)

var update = flag.Bool("update", false, "update golden files in testdata/")

var hostV1 = container.HostInfo{
	Cgroup: container.CgroupV1, Memory: true, MemorySwap: true, CPU: true, Pids: true, Devices: true,
	InitPath: "/usr/sbin/init.lxc.static", BusyboxPath: "/bin/busybox",
}

var hostV2 = container.HostInfo{
	Cgroup: container.CgroupV2, Memory: true, MemorySwap: true, CPU: true, Pids: true, Devices: true,
	InitPath: "/usr/sbin/init.lxc.static", BusyboxPath: "/bin/busybox",
}

func TestRenderLXCConfigGolden(t *testing.T) {
	proc := container.Spec{
		Name: "app-v1-prod-abcd1234-web-5000",
		Rootfs: container.Rootfs{Overlay: &container.Overlay{
			Lower: "/apps/images/base/contents",
			Upper: "/apps/procs/app-v1-prod-abcd1234-web-5000/rootfs",
		}},
		Mounts: []container.Mount{
			{Source: "/etc/resolv.conf", Target: "/etc/resolv.conf", ReadOnly: true, File: true},
			{Source: "/srv/uploads", Target: "/app/uploads"},
		},
		Process: container.Process{Argv: []string{"/proc.sh", "run"}, UID: 1000, GID: 1000},
		Limits:  container.Limits{Memory: 256 << 20, MemorySwap: 1 << 30, CPUShares: 512, Pids: 200},
		Network: container.NetworkHost,
	}
	build := container.Spec{
		Name:     "build-app-1",
		Hostname: "builder",
		Rootfs:   container.Rootfs{Dir: "/apps/builder/rootfs/"},
		Process:  container.Process{Argv: []string{"/builder.sh"}},
	}
	for _, tc := range []struct {
		golden string
		spec   container.Spec
		host   container.HostInfo
	}{
		{"proc_v1.lxc", proc, hostV1},
		{"proc_v2.lxc", proc, hostV2},
		{"build_dir_nonet.lxc", build, hostV1},
	} {
		got, err := container.RenderLXCConfig(tc.spec, tc.host)
		if err != nil {
			t.Fatalf("%s: %v", tc.golden, err)
		}
		path := filepath.Join("testdata", tc.golden)
		if *update {
			if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test ./pkg/container -update to create it)", err)
		}
		if got != string(want) {
			t.Errorf("%s: rendered config differs from the golden file (run with -update after checking):\n--- got\n%s\n--- want\n%s", tc.golden, got, want)
		}
	}
}

// TestRenderLXCConfigKeys checks the lines that matter one by one, so that a golden file
// regenerated without care cannot hide a regression.
func TestRenderLXCConfigKeys(t *testing.T) {
	s := validSpec()
	s.Limits = container.Limits{Memory: 64 << 20, MemorySwap: 96 << 20, CPUShares: 1024, Pids: 10}
	s.Mounts = []container.Mount{{Source: "/data", Target: "/srv/data/", ReadOnly: true}}
	for _, tc := range []struct {
		host    container.HostInfo
		network container.Network
		want    []string
		notWant []string
	}{
		{hostV1, container.NetworkHost, []string{
			"lxc.net.0.type = none\n",
			"lxc.cgroup.memory.limit_in_bytes = 67108864\n",
			"lxc.cgroup.memory.memsw.limit_in_bytes = 100663296\n",
			"lxc.cgroup.cpu.shares = 1024\n",
			"lxc.cgroup.pids.max = 10\n",
			"lxc.cgroup.devices.deny = a\n",
			"lxc.mount.entry = /data srv/data none bind,ro,create=dir 0 0\n",
			"lxc.rootfs.path = dir:/apps/procs/x/rootfs\n",
			"lxc.uts.name = " + s.Name + "\n",
			"lxc.init.cmd = /dev/.vr/init -n " + s.Name + " -q -- /dev/.vr/busybox sleep 2147483647\n",
			"lxc.cgroup.dir.container = vr.payload." + s.Name + "\n",
			"lxc.cgroup.dir.monitor = vr.monitor." + s.Name + "\n",
		}, []string{"cgroup2", "lxc.net.0.flags"}},
		{hostV2, container.NetworkNone, []string{
			"lxc.net.0.type = empty\nlxc.net.0.flags = up\n",
			"lxc.cgroup2.memory.max = 67108864\n",
			"lxc.cgroup2.memory.swap.max = 33554432\n",
			"lxc.cgroup2.cpu.weight = 39\n",
			"lxc.cgroup2.pids.max = 10\n",
			"lxc.cgroup2.devices.deny = a\n",
		}, []string{"lxc.cgroup.memory", "lxc.cgroup.pids", "lxc.cgroup.devices"}},
	} {
		s.Network = tc.network
		got, err := container.RenderLXCConfig(s, tc.host)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("cgroup v%d: config lacks %q:\n%s", tc.host.Cgroup, w, got)
			}
		}
		for _, nw := range tc.notWant {
			if strings.Contains(got, nw) {
				t.Errorf("cgroup v%d: config contains %q:\n%s", tc.host.Cgroup, nw, got)
			}
		}
	}
}

func TestRenderLXCConfigUnsupported(t *testing.T) {
	for _, tc := range []struct {
		name   string
		limits container.Limits
		host   func(*container.HostInfo)
		want   string
	}{
		{"no swap accounting", container.Limits{Memory: 1 << 20, MemorySwap: 2 << 20},
			func(h *container.HostInfo) { h.MemorySwap = false }, "limits.memory_swap: the kernel does not account swap"},
		{"no memory controller", container.Limits{Memory: 1 << 20},
			func(h *container.HostInfo) { h.Memory = false }, "limits.memory"},
		{"no cpu controller", container.Limits{CPUShares: 100},
			func(h *container.HostInfo) { h.CPU = false }, "limits.cpu_shares"},
		{"no pids controller", container.Limits{Pids: 100},
			func(h *container.HostInfo) { h.Pids = false }, "limits.pids"},
		{"no holder binaries", container.Limits{},
			func(h *container.HostInfo) { h.BusyboxPath = "" }, "busybox-static"},
	} {
		s := validSpec()
		s.Limits = tc.limits
		h := hostV1
		tc.host(&h)
		_, err := container.RenderLXCConfig(s, h)
		if !errors.Is(err, container.ErrUnsupported) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want ErrUnsupported mentioning %q", tc.name, err, tc.want)
		}
	}
	// Without the limit, the missing controller does not matter.
	h := hostV1
	h.MemorySwap = false
	if _, err := container.RenderLXCConfig(validSpec(), h); err != nil {
		t.Errorf("no limits, no swap accounting: %v", err)
	}
}

func TestRenderLXCConfigValidates(t *testing.T) {
	s := validSpec()
	s.Argv = nil
	if _, err := container.RenderLXCConfig(s, hostV1); !errors.Is(err, container.ErrInvalidSpec) {
		t.Errorf("RenderLXCConfig of an invalid spec = %v, want ErrInvalidSpec", err)
	}
}

func TestCPUWeight(t *testing.T) {
	for _, tc := range []struct{ shares, weight int64 }{
		{0, 0}, {2, 1}, {1024, 39}, {262144, 10000}, {512, 20}, {1, 1}, {300000, 10000},
	} {
		if got := container.CPUWeight(tc.shares); got != tc.weight {
			t.Errorf("CPUWeight(%d) = %d, want %d", tc.shares, got, tc.weight)
		}
	}
}
