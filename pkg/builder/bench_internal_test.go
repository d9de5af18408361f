package builder

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/vr-paas/vr/pkg/testutil"
)

// BenchmarkCacheRestoreSave measures restoring and saving an unchanged build cache of 1 GB
// in 50,000 files (500 folders of 100 files of 20 KB): the work of a build whose buildpack
// leaves its cache as it was. Target: at most 200 ms.
func BenchmarkCacheRestoreSave(b *testing.B) {
	testutil.RequireRoot(b)
	const dirs, files, size = 500, 100, 20 << 10
	c := &cacheStore{dir: filepath.Join(b.TempDir(), "cache", "big-x")}
	layer := "base"
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(i * 7)
	}
	start := time.Now()
	for d := range dirs {
		dir := filepath.Join(c.layer(layer), cacheBuildpackDir, fmt.Sprintf("d%03d", d))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		for f := range files {
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%03d", f)), data, 0o644); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := chownTree(filepath.Join(c.layer(layer), cacheBuildpackDir), 65534, 65534); err != nil {
		b.Fatal(err)
	}
	if err := c.save(cacheManifestData{Layers: []string{layer}}); err != nil {
		b.Fatal(err)
	}
	syscall.Sync() // the cache of earlier builds is on disk
	b.Logf("made a cache of %d files, %d MB, in %s", dirs*files, dirs*files*size>>20, time.Since(start).Round(time.Millisecond))
	mnt := filepath.Join(b.TempDir(), "cache")

	var worst time.Duration
	b.ResetTimer()
	for b.Loop() {
		t := time.Now()
		s, err := c.restore(mnt, 65534, 65534)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(s.Dir(), "d499", "f099")); err != nil {
			b.Fatal(err)
		}
		r, err := s.commit()
		if err != nil {
			b.Fatal(err)
		}
		if r.Changed {
			b.Fatalf("unchanged cache saved as changed: %+v", r)
		}
		worst = max(worst, time.Since(t))
	}
	b.ReportMetric(float64(worst)/float64(time.Millisecond), "worst-ms")
	b.ReportMetric(float64(b.Elapsed())/float64(b.N)/float64(time.Millisecond), "ms/restore+save")
}
