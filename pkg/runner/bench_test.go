//go:build linux && cgo

package runner_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vr-paas/vr/pkg/container"
	"github.com/vr-paas/vr/pkg/fetch"
	"github.com/vr-paas/vr/pkg/runner"
	"github.com/vr-paas/vr/pkg/testutil"
)

// cyclesPerOp is how many setup+run+teardown cycles one benchmark iteration does, so that
// `make bench` (-benchtime 5x) has enough samples for a p99.
const cyclesPerOp = 20

// BenchmarkSetupRunTeardown times setup + run "/bin/true" + teardown of a proc whose image
// and build are already cached, and, on the same root filesystem, lxc-execute /bin/true.
// Reported: p50 and p99 of both, in ms.
func BenchmarkSetupRunTeardown(b *testing.B) {
	for _, v := range variants {
		b.Run(v.String(), func(b *testing.B) {
			e := newEnv(b)
			c := e.proc(v)
			c.Cmd = "/bin/true"
			// proc.yaml outside the proc folder, so that it survives teardown.
			path := filepath.Join(b.TempDir(), "proc.yaml")
			if err := c.WriteFile(path); err != nil {
				b.Fatal(err)
			}
			p, err := runner.Load(path, v)
			if err != nil {
				b.Fatal(err)
			}
			r := e.runner(v)
			ctx := context.Background()
			cycle := func() {
				if err := r.Setup(ctx, p); err != nil {
					b.Fatal(err)
				}
				if code, err := r.Run(ctx, p, container.Streams{}); err != nil || code != 0 {
					b.Fatalf("run: %d %v", code, err)
				}
				if err := r.Teardown(ctx, path); err != nil {
					b.Fatal(err)
				}
			}
			cycle() // caches the image and the build
			var ours []time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for j := 0; j < cyclesPerOp; j++ {
					start := time.Now()
					cycle()
					ours = append(ours, time.Since(start))
				}
			}
			b.StopTimer()
			b.ReportMetric(ms(percentile(ours, 50)), "p50-ms")
			b.ReportMetric(ms(percentile(ours, 99)), "p99-ms")

			// lxc-execute on the same root filesystem (the image's contents, or the host's
			// system folders bind-mounted into a folder for precise).
			if _, err := exec.LookPath("lxc-execute"); err != nil {
				b.Logf("no lxc-execute: %v", err)
				return
			}
			rootfs := filepath.Join(e.root, "images", "busybox", "contents")
			conf := "lxc.net.0.type = none\nlxc.autodev = 1\nlxc.mount.auto = proc:mixed sys:mixed\nlxc.apparmor.profile = unconfined\n"
			if v == runner.Precise {
				rootfs = b.TempDir()
				for _, d := range []string{"bin", "etc", "lib", "lib64", "usr", "dev", "proc", "sys", "tmp"} {
					_ = os.Mkdir(filepath.Join(rootfs, d), 0o755)
				}
				for _, d := range []string{"bin", "etc", "lib", "lib64", "usr"} {
					conf += "lxc.mount.entry = /" + d + " " + d + " none ro,bind 0 0\n"
				}
			}
			conf = "lxc.rootfs.path = dir:" + rootfs + "\n" + conf
			confPath := filepath.Join(b.TempDir(), "execute.conf")
			if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
				b.Fatal(err)
			}
			lxcpath := b.TempDir()
			var theirs []time.Duration
			for i := 0; i < len(ours); i++ {
				start := time.Now()
				out, err := exec.Command("lxc-execute", "-n", "vrbench-execute", "-P", lxcpath, "-f", confPath, "--", "/bin/true").CombinedOutput()
				if err != nil {
					b.Fatalf("lxc-execute: %v\n%s", err, out)
				}
				theirs = append(theirs, time.Since(start))
			}
			b.ReportMetric(ms(percentile(theirs, 50)), "lxc-execute-p50-ms")
			b.ReportMetric(ms(percentile(theirs, 99)), "lxc-execute-p99-ms")
		})
	}
}

// BenchmarkRunRSS measures the resident memory of a real vruntime run process supervising
// a sleeping proc.
func BenchmarkRunRSS(b *testing.B) {
	e := newEnv(b)
	bin := testutil.BuildBinary(b, "github.com/vr-paas/vr/cmd/vruntime")
	c := e.proc(runner.Image)
	c.Cmd = `sh -c 'echo ready; exec sleep 1000'`
	_, p := e.setUp(c, runner.Image)
	var rss, anon []float64
	for i := 0; i < b.N; i++ {
		cmd := exec.Command(bin, "run", p.Path)
		cmd.Env = append(os.Environ(), "VR_ROOT="+e.root)
		out, err := cmd.StdoutPipe()
		if err != nil {
			b.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		if line, _ := bufio.NewReader(out).ReadString('\n'); line != "ready\n" {
			b.Fatalf("vruntime run: %q", line)
		}
		time.Sleep(200 * time.Millisecond) // settled
		kb, err := statusKB(cmd.Process.Pid, "VmRSS")
		if err != nil {
			b.Fatal(err)
		}
		anonKB, _ := statusKB(cmd.Process.Pid, "RssAnon")
		rss = append(rss, float64(kb)/1024)
		anon = append(anon, float64(anonKB)/1024)
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}
	slices.Sort(rss)
	slices.Sort(anon)
	b.ReportMetric(rss[len(rss)/2], "rss-MB")
	b.ReportMetric(rss[len(rss)-1], "max-rss-MB")
	// The rest of the RSS is pages of the executable and shared libraries, shared by every
	// runner through the page cache.
	b.ReportMetric(anon[len(anon)/2], "anon-rss-MB")
}

// statusKB reads a "<field>: N kB" line of /proc/<pid>/status.
func statusKB(pid int, field string) (int, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			return strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}

// BenchmarkSetupBigBuild times the setup of a 150 MB build made of 1,000 files, and of one of
// the same size made of 50,000 files (the cost of unpacking must follow the bytes, with no
// recursive pass afterwards). Each iteration sets up a new proc; teardown is not timed.
//
// It runs on tmpfs (/dev/shm), which measures the runner rather than the disk: on these
// machines' ext4, creating 50,000 files takes about 40 s whoever does it (GNU tar -xzf of
// the same tarball included), against 3 s on tmpfs. VR_BENCH_DISK=1 adds the same runs on
// the disk (t.TempDir).
func BenchmarkSetupBigBuild(b *testing.B) {
	const total = 150 << 20
	bases := map[string]string{}
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		bases["tmpfs"] = "/dev/shm"
	}
	if os.Getenv("VR_BENCH_DISK") != "" || len(bases) == 0 {
		bases["disk"] = ""
	}
	for _, fsName := range []string{"tmpfs", "disk"} {
		base, ok := bases[fsName]
		if !ok {
			continue
		}
		for _, files := range []int{1000, 50000} {
			b.Run(fmt.Sprintf("fs=%s/files=%d", fsName, files), func(b *testing.B) {
				benchBigBuild(b, base, files, total)
			})
		}
	}
}

func benchBigBuild(b *testing.B, base string, files, total int) {
	tmp := func() string {
		if base == "" {
			return b.TempDir()
		}
		d, err := os.MkdirTemp(base, "vrbench-")
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = os.RemoveAll(d) })
		return d
	}
	e := newEnv(b)
	e.root = tmp()
	src := tmp()
	rng := rand.New(rand.NewPCG(1, uint64(files)))
	buf := make([]byte, total/files)
	for i := 0; i < files; i++ {
		dir := filepath.Join(src, fmt.Sprintf("d%03d", i%500))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		// Half random, half zeros: compresses about 2:1, like real builds.
		for j := 0; j < len(buf)/2; j += 8 {
			v := rng.Uint64()
			for k := 0; k < 8 && j+k < len(buf)/2; k++ {
				buf[j+k] = byte(v >> (8 * k))
			}
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%05d", i)), buf, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	build := filepath.Join(tmp(), "big.tar.gz")
	sums, err := fetch.CreateTarGz(context.Background(), build, src, fetch.TarOptions{Level: 1})
	if err != nil {
		b.Fatal(err)
	}
	_ = os.RemoveAll(src)
	mk := func() *runner.Proc {
		c := e.proc(runner.Precise)
		c.Cmd = "true"
		c.BuildURL, c.BuildMD5 = build, sums.MD5
		return e.write(c, runner.Precise)
	}
	r := e.runner(runner.Precise)
	// The first setup copies the build into the cache; not timed.
	first := mk()
	if err := r.Setup(context.Background(), first); err != nil {
		b.Fatal(err)
	}
	_ = r.Teardown(context.Background(), first.Path)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		p := mk()
		b.StartTimer()
		if err := r.Setup(context.Background(), p); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := r.Teardown(context.Background(), p.Path); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/setup")
}

func percentile(ds []time.Duration, p int) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	if i > 0 {
		i--
	}
	return s[i]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
