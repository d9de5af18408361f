//go:build linux && cgo

package lxc_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/vr-paas/vr/pkg/container"
	"github.com/vr-paas/vr/pkg/container/lxc"
	"github.com/vr-paas/vr/pkg/testutil"
)

// BenchmarkLifecycle measures a whole container lifecycle (create, run /bin/true, destroy)
// on a prepared busybox rootfs, and the same with lxc-execute (the original's way: a
// single-threaded C process runs the container in the foreground) on the same rootfs and
// configuration, in the same run. It reports the median and 99th percentile per
// lifecycle; for a meaningful p99 run enough iterations, e.g. -benchtime=200x.
func BenchmarkLifecycle(b *testing.B) {
	testutil.RequireLXC(b)
	testutil.RequireBinary(b, "lxc-execute")
	lxcpath := filepath.Join(b.TempDir(), "lxc")
	backend, err := lxc.New(lxc.Options{LXCPath: lxcpath})
	if err != nil {
		b.Fatal(err)
	}
	rootfs := b.TempDir()
	if err := testutil.MakeBusyboxRootfs(rootfs); err != nil {
		b.Fatal(err)
	}
	spec := func(name string) container.Spec {
		return container.Spec{
			Name:    name,
			Rootfs:  container.Rootfs{Dir: rootfs},
			Network: container.NetworkHost,
			Process: container.Process{Argv: []string{"/bin/true"}},
		}
	}
	ctx := context.Background()
	seq := 0
	next := func(prefix string) string {
		seq++
		return fmt.Sprintf("vrbench-%s-%d-%d", prefix, os.Getpid(), seq)
	}

	b.Run("vr", func(b *testing.B) {
		var names []string
		samples := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			name := next("vr")
			names = append(names, name)
			start := time.Now()
			code, err := backend.Run(ctx, spec(name), container.Streams{})
			samples = append(samples, time.Since(start))
			if err != nil || code != 0 {
				b.Fatalf("Run = %d, %v", code, err)
			}
		}
		b.StopTimer()
		report(b, samples)
		checkNothingLeft(b, backend, names)
	})

	b.Run("vr-overlay", func(b *testing.B) {
		var names []string
		samples := make([]time.Duration, 0, b.N)
		upperRoot := b.TempDir()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			name := next("ovl")
			names = append(names, name)
			s := spec(name)
			s.Rootfs = container.Rootfs{Overlay: &container.Overlay{Lower: rootfs, Upper: filepath.Join(upperRoot, name, "rootfs")}}
			start := time.Now()
			code, err := backend.Run(ctx, s, container.Streams{})
			samples = append(samples, time.Since(start))
			if err != nil || code != 0 {
				b.Fatalf("Run = %d, %v", code, err)
			}
		}
		b.StopTimer()
		report(b, samples)
		checkNothingLeft(b, backend, names)
	})

	b.Run("lxc-execute", func(b *testing.B) {
		// The same configuration as the vr container; lxc-execute replaces the holder
		// init with its own lxc-init running the command.
		cfg, err := container.RenderLXCConfig(spec("vrbench-exec"), backend.HostInfo())
		if err != nil {
			b.Fatal(err)
		}
		cfgPath := filepath.Join(b.TempDir(), "config")
		if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
			b.Fatal(err)
		}
		var names []string
		samples := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			name := next("exec")
			names = append(names, name)
			start := time.Now()
			out, err := exec.Command("lxc-execute", "-n", name, "-P", lxcpath, "-f", cfgPath, "--", "/bin/true").CombinedOutput()
			samples = append(samples, time.Since(start))
			if err != nil {
				b.Fatalf("lxc-execute: %v\n%s", err, out)
			}
		}
		b.StopTimer()
		report(b, samples)
		checkNothingLeft(b, backend, names)
	})
}

// report adds the median and 99th percentile of samples as benchmark metrics.
func report(b *testing.B, samples []time.Duration) {
	if len(samples) == 0 {
		return
	}
	s := slices.Clone(samples)
	slices.Sort(s)
	pct := func(p float64) float64 {
		i := int(p*float64(len(s))+0.5) - 1
		i = max(0, min(i, len(s)-1))
		return float64(s[i]) / float64(time.Millisecond)
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(len(s)), "samples")
}

func checkNothingLeft(b *testing.B, backend *lxc.Backend, names []string) {
	for _, n := range names {
		if left, err := backend.Leftovers(context.Background(), n); err != nil || len(left) > 0 {
			b.Errorf("after the benchmark, %s left %q (%v)", n, left, err)
		}
	}
}
