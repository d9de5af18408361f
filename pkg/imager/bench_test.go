package imager_test

import (
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/vr-paas/vr/pkg/fetch"
	"github.com/vr-paas/vr/pkg/imager"
	"github.com/vr-paas/vr/pkg/schema"
)

// benchSize is the size of the regular files of the benchmark's base image.
const benchSize = 200 << 20

// BenchmarkBuild200MB times `vimage build` with a no-op script over a ~200 MB Debian base
// (the debootstrap base of scripts/mkbase-debian.sh plus a copy of its /usr as filler), split
// into unpack, run and pack, side by side with GNU tar's `tar xzf` and `tar czf` of the same
// tree. Metrics are seconds per build.
func BenchmarkBuild200MB(b *testing.B) {
	backend := newBackend(b)
	base, size := benchBase(b)
	script := writeScript(b, "noop.sh", "#!/bin/sh\ntrue\n")
	b.Logf("base %s: %d MB in regular files", base, size>>20)

	b.Run("vimage", func(b *testing.B) {
		var tm imager.Timings
		root := b.TempDir()
		for i := 0; i < b.N; i++ {
			e := newEnv(b, backend)
			e.opts.Root = root // the base is copied into the cache once; later builds only hash it
			e.opts.Err = nil
			res, err := imager.Build(context.Background(), &schema.ImageSpec{
				BaseImageURL: base, BaseImageName: "bench", NewImageName: "pkgbench", ScriptURL: script,
			}, e.opts)
			if err != nil {
				b.Fatal(err)
			}
			tm.Fetch += res.Timings.Fetch
			tm.Unpack += res.Timings.Unpack
			tm.Run += res.Timings.Run
			tm.Pack += res.Timings.Pack
			if err := os.RemoveAll(e.out); err != nil {
				b.Fatal(err)
			}
		}
		n := float64(b.N)
		b.ReportMetric(float64(size)/1e6, "base-MB")
		b.ReportMetric(tm.Fetch.Seconds()/n, "fetch-s/op")
		b.ReportMetric(tm.Unpack.Seconds()/n, "unpack-s/op")
		b.ReportMetric(tm.Run.Seconds()/n, "run-s/op")
		b.ReportMetric(tm.Pack.Seconds()/n, "pack-s/op")
	})

	b.Run("tar", func(b *testing.B) {
		var x, c time.Duration
		for i := 0; i < b.N; i++ {
			dir := filepath.Join(b.TempDir(), "tree")
			if err := os.Mkdir(dir, 0o755); err != nil {
				b.Fatal(err)
			}
			out := filepath.Join(b.TempDir(), "out.tar.gz")
			t := time.Now()
			run(b, "tar", "--numeric-owner", "-xzf", base, "-C", dir)
			x += time.Since(t)
			t = time.Now()
			run(b, "tar", "--numeric-owner", "-czf", out, "-C", dir, ".")
			c += time.Since(t)
			if err := os.RemoveAll(filepath.Dir(dir)); err != nil {
				b.Fatal(err)
			}
			_ = os.Remove(out)
		}
		b.ReportMetric(float64(size)/1e6, "base-MB")
		b.ReportMetric(x.Seconds()/float64(b.N), "tar-x-s/op")
		b.ReportMetric(c.Seconds()/float64(b.N), "tar-c-s/op")
	})
}

// benchBase returns a base tarball of about benchSize bytes, made once per machine next to
// the cached Debian base, and the size of its regular files.
func benchBase(b *testing.B) (string, int64) {
	b.Helper()
	debian := debianBase(b)
	sums, err := fetch.HashFile(debian)
	if err != nil {
		b.Fatal(err)
	}
	out := filepath.Join(filepath.Dir(debian), "bench-200m-"+sums.MD5[:12]+".tar.gz")
	tree := filepath.Join(b.TempDir(), "tree")
	if _, err := os.Stat(out); err != nil {
		if err := fetch.Extract(context.Background(), debian, tree, fetch.ExtractOptions{AllowDevices: true}); err != nil {
			b.Fatal(err)
		}
		for i := 0; treeSize(b, tree) < benchSize; i++ {
			run(b, "cp", "-a", filepath.Join(tree, "usr"), filepath.Join(tree, "opt", "vr-bench-filler-"+string(rune('a'+i))))
		}
		run(b, "tar", "--numeric-owner", "-czf", out+".tmp", "-C", tree, ".")
		if err := os.Rename(out+".tmp", out); err != nil {
			b.Fatal(err)
		}
		if err := os.RemoveAll(tree); err != nil {
			b.Fatal(err)
		}
	}
	if err := fetch.Extract(context.Background(), out, tree, fetch.ExtractOptions{AllowDevices: true}); err != nil {
		b.Fatal(err)
	}
	defer os.RemoveAll(tree)
	return out, treeSize(b, tree)
}

func treeSize(b *testing.B, dir string) int64 {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			fi, err := d.Info()
			if err != nil {
				return err
			}
			n += fi.Size()
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return n
}

func run(b *testing.B, argv ...string) {
	b.Helper()
	if out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput(); err != nil {
		b.Fatalf("%v: %v\n%s", argv, err, out)
	}
}
