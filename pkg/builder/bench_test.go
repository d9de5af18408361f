package builder_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/vr-paas/vr/pkg/buildpack"
)

// BenchmarkBuildOverhead measures what vbuild adds to a buildpack's compile, with warm
// caches (checkouts and build cache present): a whole Build of the hello app (update the
// checkouts, copy, start the container, compile, release, save the cache, pack the tarball,
// write the result) against the same compile run directly on the host on a copy of the app.
// Target: overhead at most 1 s.
func BenchmarkBuildOverhead(b *testing.B) {
	e := newEnv(b)
	app, _ := gitRepo(b, "apps/hello")
	hello, _ := gitRepo(b, "buildpacks/hello")
	j := job(b, "app_name: hello\napp_repo_type: git\napp_repo_url: "+app+"\nversion: master\nbuildpack_url: "+hello+"\n")
	e.build(b, j, nil) // warm the checkouts and the cache

	// The direct run: the buildpack's compile on a fresh copy of the app, as root, no container.
	direct := func() time.Duration {
		dir := b.TempDir()
		src, cache, env := filepath.Join(dir, "app"), filepath.Join(dir, "cache"), filepath.Join(dir, "env")
		if out, err := exec.Command("cp", "-a", app, src).CombinedOutput(); err != nil {
			b.Fatalf("cp: %v %s", err, out)
		}
		must(b, os.MkdirAll(cache, 0o755))
		must(b, os.MkdirAll(env, 0o755))
		start := time.Now()
		code, err := buildpack.HostExecutor{}.Exec(context.Background(), buildpack.Cmd{
			Argv: []string{filepath.Join(hello, "bin", "compile"), src, cache, env},
			Env:  []string{"PATH=/usr/bin:/bin"}, Dir: src,
		})
		if err != nil || code != 0 {
			b.Fatalf("direct compile: %d %v", code, err)
		}
		return time.Since(start)
	}

	var total, directTotal, worst time.Duration
	n := 0
	for b.Loop() {
		start := time.Now()
		e.build(b, j, nil)
		d := time.Since(start)
		b.StopTimer()
		dd := direct()
		b.StartTimer()
		total += d
		directTotal += dd
		worst = max(worst, d-dd)
		n++
	}
	msf := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) / float64(n) }
	b.ReportMetric(msf(total), "vbuild-ms")
	b.ReportMetric(msf(directTotal), "direct-ms")
	b.ReportMetric(msf(total-directTotal), "overhead-ms")
	b.ReportMetric(float64(worst)/float64(time.Millisecond), "worst-overhead-ms")
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
