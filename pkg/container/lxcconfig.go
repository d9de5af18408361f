package container

import (
	"fmt"
	"path"
	"strings"
)

// CgroupVersion says which cgroup API limits are written with.
type CgroupVersion int

const (
	// CgroupV1 is the legacy API (lxc.cgroup.*), used when the controllers are on v1
	// hierarchies, including "hybrid" hosts that also mount an empty cgroup2 tree.
	CgroupV1 CgroupVersion = 1
	// CgroupV2 is the unified API (lxc.cgroup2.*).
	CgroupV2 CgroupVersion = 2
)

// HolderDir is where, inside every container, the lxc backend bind-mounts the static
// binaries that keep an idle container alive (see HostInfo). It is on the /dev tmpfs that
// LXC creates (lxc.autodev), so nothing is created in the root filesystem for it.
const HolderDir = "/dev/.vr"

// HostInfo is what RenderLXCConfig needs to know about the host. The lxc backend probes it.
type HostInfo struct {
	// Cgroup is the API the controllers are driven with.
	Cgroup CgroupVersion
	// Memory, MemorySwap, CPU, Pids and Devices say which controllers (and, for
	// MemorySwap, swap accounting) the kernel provides. A limit whose controller is
	// missing makes RenderLXCConfig fail with ErrUnsupported.
	Memory, MemorySwap, CPU, Pids, Devices bool
	// InitPath is the host path of a statically linked lxc-init (Debian's
	// /usr/sbin/init.lxc.static), the container's PID 1: it reaps orphans and exits when
	// its child does.
	InitPath string
	// BusyboxPath is the host path of a statically linked busybox (busybox-static's
	// /bin/busybox); "busybox sleep" is lxc-init's child that keeps the container up.
	BusyboxPath string
}

// CgroupDirs returns the names of the cgroup directories (relative to the cgroup base, the
// host init's cgroup) of the container's LXC monitor and of its processes. They are fixed
// (lxc.cgroup.dir.monitor / lxc.cgroup.dir.container) rather than liblxc's default
// lxc.payload.NAME with a "-1", "-2"… suffix on collisions, so cleanup finds them by name.
func CgroupDirs(name string) (monitor, payload string) {
	return "vr.monitor." + name, "vr.payload." + name
}

// capDrop is the original Velociraptor's list of dropped capabilities (image.lxc).
const capDrop = "mac_admin mac_override mknod setpcap sys_admin sys_boot sys_module sys_nice sys_pacct sys_rawio sys_resource sys_time sys_tty_config"

// allowedDevices are the character devices a container may use: the original's list
// (null, zero, console, tty, tty0, tty1, urandom, random, pts, ptmx, net/tun) plus full.
var allowedDevices = []string{
	"c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 5:1 rwm", "c 5:0 rwm", "c 4:0 rwm", "c 4:1 rwm",
	"c 1:9 rwm", "c 1:8 rwm", "c 136:* rwm", "c 5:2 rwm", "c 10:200 rwm",
}

// holderSleep is how long the holder sleeps: 2^31-1 seconds (68 years), the largest value
// every sleep implementation accepts.
const holderSleep = "2147483647"

// RenderLXCConfig renders the LXC configuration of spec for a host. The container's init
// is the holder (lxc-init running "busybox sleep", both bind-mounted read-only from the
// host into HolderDir), not spec.Process: the backend attaches the process to the running
// container, because liblxc cannot run a container in the foreground of a multi-threaded
// (Go) process. The spec is validated first.
func RenderLXCConfig(spec Spec, host HostInfo) (string, error) {
	if err := spec.Validate(); err != nil {
		return "", err
	}
	s := spec.WithDefaults()
	fail := func(field, format string, args ...any) (string, error) {
		return "", fmt.Errorf("container %q: %s: %s: %w", s.Name, field, fmt.Sprintf(format, args...), ErrUnsupported)
	}
	if host.InitPath == "" || host.BusyboxPath == "" {
		return fail("holder", "no static lxc-init or busybox on the host (install lxc and busybox-static)")
	}
	if host.Cgroup != CgroupV1 && host.Cgroup != CgroupV2 {
		return fail("cgroup", "unknown cgroup version %d", host.Cgroup)
	}

	var b strings.Builder
	line := func(key, value string) { fmt.Fprintf(&b, "%s = %s\n", key, value) }
	comment := func(text string) { fmt.Fprintf(&b, "\n# %s\n", text) }

	fmt.Fprintf(&b, "# LXC configuration of container %q, rendered by vr (pkg/container). Do not edit.\n", s.Name)
	line("lxc.uts.name", s.Hostname)

	// Root filesystem.
	if o := s.Rootfs.Overlay; o != nil {
		comment(fmt.Sprintf("Overlay root, mounted by liblxc in the container's mount namespace; work dir %s.", o.Work))
		line("lxc.rootfs.path", "overlay:"+path.Clean(o.Lower)+":"+path.Clean(o.Upper))
	} else {
		line("lxc.rootfs.path", "dir:"+path.Clean(s.Rootfs.Dir))
	}

	// Network.
	if s.Network == NetworkHost {
		comment("Share the host's network: procs are reachable at host:port.")
		line("lxc.net.0.type", "none")
	} else {
		comment("No network: a new namespace with only the loopback interface, up.")
		line("lxc.net.0.type", "empty")
		line("lxc.net.0.flags", "up")
	}

	// Devices, /proc, /sys, terminals, security.
	comment("/dev is a tmpfs populated by LXC; /proc and /sys as in a privileged container.")
	line("lxc.autodev", "1")
	line("lxc.mount.auto", "proc:mixed sys:mixed")
	line("lxc.mount.entry", "tmpfs dev/shm tmpfs rw,nosuid,nodev,mode=1777,size=65536k,create=dir 0 0")
	line("lxc.pty.max", "1024")
	line("lxc.tty.max", "0")
	line("lxc.console.path", "none")
	line("lxc.apparmor.profile", "unconfined")
	line("lxc.cap.drop", capDrop)
	if spec.NoNewPrivs {
		line("lxc.no_new_privs", "1")
	}
	if host.Devices || host.Cgroup == CgroupV2 {
		prefix := "lxc.cgroup.devices."
		if host.Cgroup == CgroupV2 {
			prefix = "lxc.cgroup2.devices."
		}
		line(prefix+"deny", "a")
		for _, d := range allowedDevices {
			line(prefix+"allow", d)
		}
	}

	// Cgroups and limits.
	monitor, payload := CgroupDirs(s.Name)
	comment("Fixed cgroup names, so that cleanup finds them by container name.")
	line("lxc.cgroup.dir.monitor", monitor)
	line("lxc.cgroup.dir.container", payload)
	l := s.Limits
	if l.Memory > 0 && !host.Memory {
		return fail("limits.memory", "the kernel has no memory cgroup controller")
	}
	if l.MemorySwap > 0 && !host.MemorySwap {
		return fail("limits.memory_swap", "the kernel does not account swap (no memory.memsw.limit_in_bytes or memory.swap.max; boot with swapaccount=1)")
	}
	if l.CPUShares > 0 && !host.CPU {
		return fail("limits.cpu_shares", "the kernel has no cpu cgroup controller")
	}
	if l.Pids > 0 && !host.Pids {
		return fail("limits.pids", "the kernel has no pids cgroup controller")
	}
	if l != (Limits{}) {
		comment("Limits.")
	}
	if host.Cgroup == CgroupV1 {
		if l.Memory > 0 {
			line("lxc.cgroup.memory.limit_in_bytes", fmt.Sprint(l.Memory))
		}
		if l.MemorySwap > 0 {
			line("lxc.cgroup.memory.memsw.limit_in_bytes", fmt.Sprint(l.MemorySwap))
		}
		if l.CPUShares > 0 {
			line("lxc.cgroup.cpu.shares", fmt.Sprint(l.CPUShares))
		}
		if l.Pids > 0 {
			line("lxc.cgroup.pids.max", fmt.Sprint(l.Pids))
		}
	} else {
		if l.Memory > 0 {
			line("lxc.cgroup2.memory.max", fmt.Sprint(l.Memory))
		}
		if l.MemorySwap > 0 {
			line("lxc.cgroup2.memory.swap.max", fmt.Sprint(l.MemorySwap-l.Memory))
		}
		if l.CPUShares > 0 {
			line("lxc.cgroup2.cpu.weight", fmt.Sprint(CPUWeight(l.CPUShares)))
		}
		if l.Pids > 0 {
			line("lxc.cgroup2.pids.max", fmt.Sprint(l.Pids))
		}
	}

	// Holder init.
	comment("Holder init: lxc-init (PID 1, reaps orphans) running \"busybox sleep\", both static host\n" +
		"# binaries bind-mounted read-only on /dev (a tmpfs), so any root filesystem works and\n" +
		"# none is written to. Processes are attached to the running container.")
	line("lxc.mount.entry", host.InitPath+" "+strings.TrimPrefix(HolderDir, "/")+"/init none bind,ro,create=file 0 0")
	line("lxc.mount.entry", host.BusyboxPath+" "+strings.TrimPrefix(HolderDir, "/")+"/busybox none bind,ro,create=file 0 0")
	line("lxc.init.cmd", HolderDir+"/init -n "+s.Name+" -q -- "+HolderDir+"/busybox sleep "+holderSleep)

	// Bind mounts.
	if len(s.Mounts) > 0 {
		comment("Bind mounts; missing mount points are created.")
	}
	for _, m := range s.Mounts {
		opts := "bind"
		if m.ReadOnly {
			opts += ",ro"
		}
		if m.File {
			opts += ",create=file"
		} else {
			opts += ",create=dir"
		}
		line("lxc.mount.entry", path.Clean(m.Source)+" "+strings.TrimPrefix(path.Clean(m.Target), "/")+" none "+opts+" 0 0")
	}
	return b.String(), nil
}

// CPUWeight converts cgroup v1 cpu.shares (2..262144, default 1024) to cgroup v2 cpu.weight
// (1..10000, default 100), with the formula runc and crun use.
func CPUWeight(shares int64) int64 {
	if shares <= 0 {
		return 0
	}
	if shares < 2 {
		shares = 2
	}
	if shares > 262144 {
		shares = 262144
	}
	return 1 + ((shares-2)*9999)/262142
}
