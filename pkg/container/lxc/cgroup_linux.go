//go:build linux

package lxc

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vr-paas/vr/pkg/container"
	"github.com/vr-paas/vr/pkg/mountinfo"
)

// hierarchy is one mounted cgroup hierarchy.
type hierarchy struct {
	// key is how /proc/PID/cgroup names the hierarchy: its controllers as listed there
	// ("memory", "cpu,cpuacct", "name=systemd"), or "" for cgroup2.
	key string
	// mount is where it is mounted and root the cgroup shown at the mount point.
	mount, root string
	v2          bool
	controllers []string
}

// dir returns the directory of cgroup path cg in h, or "" when cg is not below the
// mount's root.
func (h hierarchy) dir(cg string) string {
	rel := cg
	if h.root != "/" {
		if cg != h.root && !strings.HasPrefix(cg, h.root+"/") {
			return ""
		}
		rel = strings.TrimPrefix(cg, h.root)
	}
	return filepath.Join(h.mount, rel)
}

func (h hierarchy) has(controller string) bool { return slices.Contains(h.controllers, controller) }

// readHierarchies lists the cgroup hierarchies mounted in this mount namespace, one per
// hierarchy (the first mount of each).
func readHierarchies() ([]hierarchy, error) {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	var hs []hierarchy
	seen := map[string]bool{}
	for _, line := range strings.Split(string(data), "\n") {
		pre, post, ok := strings.Cut(line, " - ")
		if !ok {
			continue
		}
		f, g := strings.Fields(pre), strings.Fields(post)
		if len(f) < 5 || len(g) < 3 || (g[0] != "cgroup" && g[0] != "cgroup2") {
			continue
		}
		h := hierarchy{mount: mountinfo.Unescape(f[4]), root: mountinfo.Unescape(f[3]), v2: g[0] == "cgroup2"}
		if h.v2 {
			if c, err := os.ReadFile(filepath.Join(h.mount, "cgroup.controllers")); err == nil {
				h.controllers = strings.Fields(string(c))
			}
		} else {
			var keys []string
			for _, o := range strings.Split(g[2], ",") {
				if strings.HasPrefix(o, "name=") || knownV1Controller(o) {
					keys = append(keys, o)
				}
			}
			h.controllers = keys
			h.key = strings.Join(keys, ",")
		}
		if seen[h.key] {
			continue
		}
		seen[h.key] = true
		hs = append(hs, h)
	}
	return hs, nil
}

func knownV1Controller(o string) bool {
	switch o {
	case "cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "net_cls", "blkio",
		"perf_event", "net_prio", "hugetlb", "pids", "rdma", "misc":
		return true
	}
	return false
}

// readProcCgroups parses /proc/PID/cgroup into hierarchy key → cgroup path.
func readProcCgroups(pid string) (map[string]string, error) {
	data, err := os.ReadFile("/proc/" + pid + "/cgroup")
	if err != nil {
		return nil, err
	}
	return parseProcCgroups(string(data)), nil
}

// parseProcCgroups parses the content of a /proc/PID/cgroup file.
func parseProcCgroups(data string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(data), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		m[parts[1]] = parts[2]
	}
	return m
}

// lookupCgroup finds h's entry in a /proc/PID/cgroup map. The controller order may differ
// between the mount options and the cgroup file, so v1 keys are compared as sets.
func lookupCgroup(m map[string]string, h hierarchy) (string, bool) {
	if p, ok := m[h.key]; ok {
		return p, true
	}
	if h.v2 {
		return "", false
	}
	want := slices.Sorted(slices.Values(h.controllers))
	for k, p := range m {
		if k == "" {
			continue
		}
		got := slices.Sorted(slices.Values(strings.Split(k, ",")))
		if slices.Equal(got, want) {
			return p, true
		}
	}
	return "", false
}

// cgroupHost is the host's cgroup layout as far as containers are concerned.
type cgroupHost struct {
	hierarchies []hierarchy
	// bases are the directories the container cgroups are created in, one per
	// hierarchy: liblxc creates them below the cgroup of the host's init (PID 1), not
	// below the caller's (lxc.cgroup.relative is off).
	bases []string
}

func probeCgroups() (*cgroupHost, error) {
	hs, err := readHierarchies()
	if err != nil {
		return nil, fmt.Errorf("read cgroup mounts: %w", err)
	}
	if len(hs) == 0 {
		return nil, fmt.Errorf("no cgroup filesystem is mounted: %w", container.ErrUnsupported)
	}
	init, err := readProcCgroups("1")
	if err != nil {
		return nil, fmt.Errorf("read the host init's cgroups: %w", err)
	}
	return newCgroupHost(hs, init), nil
}

// newCgroupHost computes the container cgroup bases from the mounted hierarchies and the
// host init's /proc/1/cgroup entries.
func newCgroupHost(hs []hierarchy, init map[string]string) *cgroupHost {
	ch := &cgroupHost{}
	for _, h := range hs {
		cg, ok := lookupCgroup(init, h)
		if !ok {
			continue
		}
		// On systemd hosts PID 1 sits in /init.scope; liblxc creates the containers'
		// cgroups next to it, not below it.
		base := h.dir(pruneInitScope(cg))
		if base == "" {
			continue
		}
		ch.hierarchies = append(ch.hierarchies, h)
		ch.bases = append(ch.bases, base)
	}
	return ch
}

// initScope is the cgroup systemd puts PID 1 in.
const initScope = "/init.scope"

// pruneInitScope drops a trailing /init.scope from a cgroup path ("/" when nothing is
// left), as liblxc's prune_init_scope does with PID 1's cgroup before it creates a
// container's cgroups (lxc.cgroup.relative off).
func pruneInitScope(cg string) string {
	if !strings.HasSuffix(cg, initScope) {
		return cg
	}
	if cg = strings.TrimSuffix(cg, initScope); cg == "" {
		return "/"
	}
	return cg
}

// hostInfo describes the controllers for container.RenderLXCConfig.
func (ch *cgroupHost) hostInfo() container.HostInfo {
	var info container.HostInfo
	var v1, v2 *hierarchy
	for i, h := range ch.hierarchies {
		if h.v2 {
			v2 = &ch.hierarchies[i]
			continue
		}
		if h.has("memory") {
			v1 = &ch.hierarchies[i]
		}
		info.CPU = info.CPU || h.has("cpu")
		info.Pids = info.Pids || h.has("pids")
		info.Devices = info.Devices || h.has("devices")
	}
	switch {
	case v1 != nil:
		// Legacy or hybrid host: controllers live on v1 hierarchies.
		info.Cgroup = container.CgroupV1
		info.Memory = true
		info.MemorySwap = exists(filepath.Join(v1.mount, "memory.memsw.limit_in_bytes"))
	case v2 != nil:
		info = container.HostInfo{Cgroup: container.CgroupV2, Devices: true}
		info.Memory = v2.has("memory")
		info.CPU = v2.has("cpu")
		info.Pids = v2.has("pids")
		// The root cgroup has no memory.swap.max; look at the first child that has
		// memory files.
		if info.Memory {
			entries, _ := os.ReadDir(v2.mount)
			for _, e := range entries {
				if e.IsDir() && exists(filepath.Join(v2.mount, e.Name(), "memory.max")) {
					info.MemorySwap = exists(filepath.Join(v2.mount, e.Name(), "memory.swap.max"))
					break
				}
			}
		}
	default:
		info.Cgroup = container.CgroupV1
	}
	return info
}

// containerDirs returns every cgroup directory the named container may have: the monitor
// and the payload directory in each hierarchy.
func (ch *cgroupHost) containerDirs(name string) []string {
	monitor, payload := container.CgroupDirs(name)
	dirs := make([]string, 0, 2*len(ch.bases))
	for _, base := range ch.bases {
		dirs = append(dirs, filepath.Join(base, payload), filepath.Join(base, monitor))
	}
	return dirs
}

// payloadDirs returns the payload directory of the container in each hierarchy.
func (ch *cgroupHost) payloadDirs(name string) []string {
	_, payload := container.CgroupDirs(name)
	dirs := make([]string, 0, len(ch.bases))
	for _, base := range ch.bases {
		dirs = append(dirs, filepath.Join(base, payload))
	}
	return dirs
}

// monitorDirs returns the monitor directory of the container in each hierarchy.
func (ch *cgroupHost) monitorDirs(name string) []string {
	monitor, _ := container.CgroupDirs(name)
	dirs := make([]string, 0, len(ch.bases))
	for _, base := range ch.bases {
		dirs = append(dirs, filepath.Join(base, monitor))
	}
	return dirs
}

// selfCgroups returns this process's cgroup in every hierarchy.
func selfCgroups() (map[string]string, error) {
	return readProcCgroups("self")
}

// restoreSelf moves this process back into the cgroups recorded in saved, in every
// hierarchy where it is no longer there. liblxc moves the process that starts a daemonized
// container into the container's monitor cgroup (handler->transient_pid); staying there
// would pin that cgroup (its removal fails with EBUSY) and account this process to
// another container.
func (ch *cgroupHost) restoreSelf(saved map[string]string) error {
	now, err := selfCgroups()
	if err != nil {
		return err
	}
	pid := []byte(strconv.Itoa(os.Getpid()))
	var errs []error
	for _, h := range ch.hierarchies {
		want, ok := lookupCgroup(saved, h)
		if !ok {
			continue
		}
		if cur, _ := lookupCgroup(now, h); cur == want {
			continue
		}
		dir := h.dir(want)
		if dir == "" {
			continue
		}
		if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), pid, 0); err != nil {
			errs = append(errs, fmt.Errorf("move this process back to cgroup %s: %w", dir, err))
		}
	}
	return errors.Join(errs...)
}

// cgroupPids returns the processes in a cgroup directory (nil if it does not exist).
func cgroupPids(dir string) []int {
	data, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	if err != nil {
		return nil
	}
	var pids []int
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if n, err := strconv.Atoi(strings.TrimSpace(sc.Text())); err == nil && n > 0 {
			pids = append(pids, n)
		}
	}
	return pids
}

// removeCgroup removes a cgroup directory and its sub-cgroups (a container may create its
// own), retrying while the kernel still reports it busy (tasks that just exited are
// released asynchronously) until deadline. A missing directory is not an error.
func removeCgroup(dir string, deadline time.Time) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() {
			if err := removeCgroup(filepath.Join(dir, e.Name()), deadline); err != nil {
				return err
			}
		}
	}
	for delay := time.Millisecond; ; delay = min(2*delay, 50*time.Millisecond) {
		err := unix.Rmdir(dir)
		if err == nil || errors.Is(err, unix.ENOENT) {
			return nil
		}
		if !errors.Is(err, unix.EBUSY) || time.Now().After(deadline) {
			return fmt.Errorf("remove cgroup %s: %w (processes: %v)", dir, err, cgroupPids(dir))
		}
		time.Sleep(delay)
	}
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}
