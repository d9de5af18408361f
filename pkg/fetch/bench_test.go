package fetch_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vr-paas/vr/pkg/fetch"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if benchTree.base != "" {
		os.RemoveAll(benchTree.base)
	}
	os.Exit(code)
}

// benchTree is the benchmarks' source tree, made once per test binary.
var benchTree struct {
	once  sync.Once
	base  string // temp dir holding the tree and the outputs
	dir   string // the tree
	bytes int64
	files int
	err   error
}

// getBenchTree returns a ~150 MB tree shaped like an app build or OS image: 20,000 small
// source-like files (100 B to 16 KiB, log-uniform) in ~1,300 directories, 200 symlinks, and 25
// large files: 10 compressible logs, 10 incompressible blobs and 5 semi-compressible binaries
// of 3-4 MiB. Contents come from a seeded generator, so every run archives the same tree.
func getBenchTree(b *testing.B) (dir string, size int64, files int) {
	b.Helper()
	t := &benchTree
	t.once.Do(func() {
		start := time.Now()
		t.base, t.err = os.MkdirTemp("", "vr-fetch-bench-")
		if t.err != nil {
			return
		}
		t.dir = filepath.Join(t.base, "tree")
		t.bytes, t.files, t.err = genTree(t.dir)
		b.Logf("generated %s: %d files, %.1f MB in %.1fs", t.dir, t.files, float64(t.bytes)/1e6, time.Since(start).Seconds())
	})
	if t.err != nil {
		b.Fatal(t.err)
	}
	return t.dir, t.bytes, t.files
}

func genTree(dir string) (int64, int, error) {
	rng := rand.New(rand.NewPCG(42, 7))
	words := strings.Fields(`func return if else for range var const type struct interface map string int
		error nil true false package import self def class lambda yield async await print println
		config value result request response handler server client buffer stream context index
		width height count total offset length name path file dir user group mode data item node`)
	// An 8 MB text corpus; small files are slices of it.
	var sb strings.Builder
	for sb.Len() < 8<<20 {
		for range 4 + rng.IntN(10) {
			sb.WriteString(words[rng.IntN(len(words))])
			sb.WriteByte(" .(){}=,;:"[rng.IntN(10)])
		}
		sb.WriteString(strings.Repeat("\t", rng.IntN(4)) + "\n")
	}
	corpus := sb.String()

	var total int64
	files := 0
	write := func(p string, data []byte) error {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		total += int64(len(data))
		files++
		return os.WriteFile(p, data, 0o644)
	}
	// Small files.
	for i := range 20_000 {
		p := filepath.Join(dir, fmt.Sprintf("pkg%02d/mod%03d/sub%d/file%05d.src", i%40, i%1000, i%3, i))
		size := int(100 * math.Pow(163.84, rng.Float64()))
		off := rng.IntN(len(corpus) - size)
		if err := write(p, []byte(corpus[off:off+size])); err != nil {
			return 0, 0, err
		}
	}
	// Large files.
	for i := range 10 {
		var log strings.Builder
		for log.Len() < 4<<20 {
			fmt.Fprintf(&log, "2024-05-%02d %02d:%02d:%02d INFO request %s took %dms status %d\n",
				1+rng.IntN(28), rng.IntN(24), rng.IntN(60), rng.IntN(60), words[rng.IntN(len(words))], rng.IntN(5000), 200+rng.IntN(4)*100)
		}
		if err := write(filepath.Join(dir, "var/log", fmt.Sprintf("app%d.log", i)), []byte(log.String())); err != nil {
			return 0, 0, err
		}
	}
	for i := range 10 {
		blob := make([]byte, 4<<20)
		for j := range blob {
			blob[j] = byte(rng.Uint32())
		}
		if err := write(filepath.Join(dir, "assets", fmt.Sprintf("blob%d.bin", i)), blob); err != nil {
			return 0, 0, err
		}
	}
	for i := range 5 {
		bin := make([]byte, 0, 3<<20)
		for len(bin) < 3<<20 {
			switch rng.IntN(3) {
			case 0: // code-like random bytes
				for range 256 + rng.IntN(4096) {
					bin = append(bin, byte(rng.Uint32()))
				}
			case 1: // zero padding
				bin = append(bin, make([]byte, rng.IntN(2048))...)
			default: // strings and tables
				off := rng.IntN(len(corpus) - 4096)
				bin = append(bin, corpus[off:off+rng.IntN(4096)]...)
			}
		}
		if err := write(filepath.Join(dir, "lib", fmt.Sprintf("lib%d.so", i)), bin); err != nil {
			return 0, 0, err
		}
	}
	for i := range 200 {
		if err := os.Symlink(fmt.Sprintf("../mod%03d/sub%d", (i*7)%1000, i%3), filepath.Join(dir, fmt.Sprintf("pkg%02d/link%03d", i%40, i))); err != nil {
			return 0, 0, err
		}
	}
	return total, files, nil
}

// BenchmarkTarGz compares WriteTarGz (through CreateTarGz) with GNU `tar czf` (single-threaded
// gzip -6) on the same ~150 MB tree. Target: ≤ 2.5 s for vr on 2 cores.
//
//	go test -run x -bench TarGz -benchtime 3x ./pkg/fetch/
func BenchmarkTarGz(b *testing.B) {
	dir, size, files := getBenchTree(b)
	out := filepath.Join(benchTree.base, "out.tar.gz")
	run := func(b *testing.B, name string, fn func() error) {
		b.SetBytes(size)
		start := time.Now()
		for b.Loop() {
			if err := fn(); err != nil {
				b.Fatal(err)
			}
		}
		secs := time.Since(start).Seconds() / float64(b.N)
		fi, err := os.Stat(out)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(secs, "s/op")
		b.ReportMetric(float64(fi.Size())/1e6, "MB-out")
		b.Logf("%s: %.2f s per archive of %.1f MB in %d files -> %.1f MB (%.1f%%)",
			name, secs, float64(size)/1e6, files, float64(fi.Size())/1e6, 100*float64(fi.Size())/float64(size))
	}
	b.Run("vr", func(b *testing.B) {
		run(b, "vr WriteTarGz", func() error {
			_, err := fetch.CreateTarGz(context.Background(), out, dir, fetch.TarOptions{})
			return err
		})
	})
	b.Run("tar-czf", func(b *testing.B) {
		if _, err := exec.LookPath("tar"); err != nil {
			b.Skip("needs GNU tar")
		}
		run(b, "tar czf", func() error {
			if o, err := exec.Command("tar", "czf", out, "-C", dir, ".").CombinedOutput(); err != nil {
				return fmt.Errorf("tar czf: %v: %s", err, o)
			}
			return nil
		})
	})
}

// BenchmarkExtract compares Extract with GNU `tar xzf` on the archive of the same tree, into
// the temp dir's filesystem ("disk") and into /dev/shm ("tmpfs", which shows the extractor's
// own cost without the filesystem's). Removing the previous extraction is not timed.
//
//	go test -run x -bench Extract -benchtime 3x ./pkg/fetch/
func BenchmarkExtract(b *testing.B) {
	dir, size, _ := getBenchTree(b)
	archive := filepath.Join(benchTree.base, "extract.tar.gz")
	if _, err := fetch.CreateTarGz(context.Background(), archive, dir, fetch.TarOptions{}); err != nil {
		b.Fatal(err)
	}
	extractors := []struct {
		name string
		fn   func(dest string) error
	}{
		{"vr", func(dest string) error {
			return fetch.Extract(context.Background(), archive, dest, fetch.ExtractOptions{})
		}},
		{"tar-xzf", func(dest string) error {
			if err := os.Mkdir(dest, 0o755); err != nil {
				return err
			}
			if o, err := exec.Command("tar", "xzf", archive, "-C", dest).CombinedOutput(); err != nil {
				return fmt.Errorf("tar xzf: %v: %s", err, o)
			}
			return nil
		}},
	}
	for _, fsys := range []struct{ name, parent string }{{"disk", benchTree.base}, {"tmpfs", "/dev/shm"}} {
		for _, x := range extractors {
			b.Run(fsys.name+"/"+x.name, func(b *testing.B) {
				if x.name == "tar-xzf" {
					if _, err := exec.LookPath("tar"); err != nil {
						b.Skip("needs GNU tar")
					}
				}
				if fi, err := os.Stat(fsys.parent); err != nil || !fi.IsDir() {
					b.Skipf("no %s", fsys.parent)
				}
				parent, err := os.MkdirTemp(fsys.parent, "vr-fetch-bench-")
				if err != nil {
					b.Fatal(err)
				}
				defer os.RemoveAll(parent)
				dest := filepath.Join(parent, "out")
				b.SetBytes(size)
				var total time.Duration
				for b.Loop() {
					b.StopTimer()
					if err := os.RemoveAll(dest); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
					start := time.Now()
					if err := x.fn(dest); err != nil {
						b.Fatal(err)
					}
					total += time.Since(start)
				}
				secs := total.Seconds() / float64(b.N)
				b.ReportMetric(secs, "s/op")
				b.Logf("%s %s: %.2f s per extraction", fsys.name, x.name, secs)
			})
		}
	}
}
