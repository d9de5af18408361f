package fetch_test

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/pgzip"

	"github.com/vr-paas/vr/pkg/fetch"
	"github.com/vr-paas/vr/pkg/testutil"
)

var update = flag.Bool("update", false, "update golden files in testdata/")

// makeTree builds a small tree with every kind of entry WriteTarGz handles: nested and empty
// directories, special mode bits, empty, small, long-named and multi-block (> 1 MiB, random
// and compressible) files, absolute, relative and dangling symlinks, hard links and a fifo.
// Everything is set explicitly, so two calls give the same tree.
func makeTree(t testing.TB, dir string) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 1_500_000)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	files := []struct {
		name string
		mode fs.FileMode
		body []byte
	}{
		{"Procfile", 0o644, []byte("web: ./bin/run\n")},
		{"bin/run", 0o755, []byte("#!/bin/sh\nexec sleep 1\n")},
		{"bin/su", 0o4755 | fs.ModeSetuid, []byte("setuid")},
		{"empty", 0o600, nil},
		{"data/random.bin", 0o644, random},
		{"data/text.log", 0o644, bytes.Repeat([]byte("2024-01-01 GET /index.html 200\n"), 80_000)},
		{"deep/" + strings.Repeat("long-directory-name-", 6) + "/" + strings.Repeat("x", 120) + ".txt", 0o644, []byte("long")},
		{"a-b", 0o644, []byte("sorts after a/ but before a.c")},
		{"a.c", 0o644, []byte("c")},
		{"a/z", 0o644, []byte("z")},
	}
	for _, f := range files {
		p := filepath.Join(dir, f.name)
		writeFile(t, p, f.body)
		if err := os.Chmod(p, f.mode); err != nil {
			t.Fatal(err)
		}
	}
	// Modes set explicitly, whatever the umask.
	for _, d := range []struct {
		name string
		mode fs.FileMode
	}{{"a", 0o755}, {"data", 0o755}, {"deep", 0o755}, {"deep/" + strings.Repeat("long-directory-name-", 6), 0o755}, {"emptydir", 0o755}, {"tmp", 0o777 | fs.ModeSticky}, {"shared", 0o775 | fs.ModeSetgid}, {"bin", 0o755}} {
		p := filepath.Join(dir, d.name)
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, d.mode); err != nil {
			t.Fatal(err)
		}
	}
	for _, l := range [][2]string{{"/usr/bin/python3", "bin/python"}, {"run", "bin/start"}, {"../../nowhere", "dangling"}} {
		if err := os.Symlink(l[0], filepath.Join(dir, l[1])); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Link(filepath.Join(dir, "bin/run"), filepath.Join(dir, "bin/run-again")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o750); err != nil {
		t.Fatal(err)
	}
}

// copyTree copies src to dst in reverse name order (so directories list their entries in a
// different order), with other modification times and, as root, other owners; hard links
// stay hard links.
func copyTree(t testing.TB, src, dst string) {
	t.Helper()
	var paths []string
	filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		paths = append(paths, p)
		return err
	})
	slices.Reverse(paths)
	slices.SortStableFunc(paths, func(a, b string) int { return strings.Count(a, "/") - strings.Count(b, "/") })
	links := map[uint64]string{}
	when := time.Date(2023, 3, 4, 5, 6, 7, 0, time.UTC)
	for i, p := range paths {
		rel, _ := filepath.Rel(src, p)
		q := filepath.Join(dst, rel)
		fi, err := os.Lstat(p)
		if err != nil {
			t.Fatal(err)
		}
		st := fi.Sys().(*syscall.Stat_t)
		switch m := fi.Mode(); {
		case m.IsDir():
			err = os.MkdirAll(q, 0o700)
		case m&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			err = os.Symlink(target, q)
		case m&fs.ModeNamedPipe != 0:
			err = syscall.Mkfifo(q, 0o600)
		case st.Nlink > 1 && links[st.Ino] != "":
			err = os.Link(links[st.Ino], q)
		default:
			links[st.Ino] = q
			b, _ := os.ReadFile(p)
			err = os.WriteFile(q, b, 0o600)
		}
		if err != nil {
			t.Fatal(err)
		}
		if os.Geteuid() == 0 { // before the chmod: chown clears setuid
			if err := os.Lchown(q, 1000+i, 2000+i); err != nil {
				t.Fatal(err)
			}
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			if err := os.Chmod(q, fi.Mode()&(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky)); err != nil {
				t.Fatal(err)
			}
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			os.Chtimes(q, when, when.Add(time.Duration(i)*time.Hour))
		}
	}
}

func tarGz(t testing.TB, dir string, opts fetch.TarOptions) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := fetch.WriteTarGz(context.Background(), &buf, dir, opts); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// headers lists the tar headers in a tar.gz.
func headers(t testing.TB, b []byte) []*tar.Header {
	t.Helper()
	zr, err := pgzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var hs []*tar.Header
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return hs
		}
		if err != nil {
			t.Fatal(err)
		}
		hs = append(hs, h)
	}
}

func TestWriteTarGzDeterministic(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	makeTree(t, src)
	first := tarGz(t, src, fetch.TarOptions{})

	t.Run("same tree again", func(t *testing.T) {
		if !bytes.Equal(tarGz(t, src, fetch.TarOptions{}), first) {
			t.Error("second write differs")
		}
	})
	t.Run("other GOMAXPROCS", func(t *testing.T) {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
		one := tarGz(t, src, fetch.TarOptions{})
		runtime.GOMAXPROCS(8)
		if eight := tarGz(t, src, fetch.TarOptions{}); !bytes.Equal(one, first) || !bytes.Equal(eight, first) {
			t.Error("output depends on GOMAXPROCS")
		}
	})
	t.Run("copy with other times, owners and directory order", func(t *testing.T) {
		cp := filepath.Join(t.TempDir(), "copy")
		copyTree(t, src, cp)
		if d := diffSnapshots(snapshot(t, cp, true, true), snapshot(t, src, true, true)); d == "" {
			t.Fatal("the copy has the same times and owners: the test proves nothing")
		}
		if d := diffSnapshots(snapshot(t, cp, false, false), snapshot(t, src, false, false)); d != "" {
			t.Fatalf("the copy is not the same tree:\n%s", d)
		}
		if !bytes.Equal(tarGz(t, cp, fetch.TarOptions{}), first) {
			t.Error("the copy gives other bytes")
		}
	})
	t.Run("a changed tree gives other bytes", func(t *testing.T) {
		for _, change := range []func(dir string) error{
			func(dir string) error { return os.WriteFile(filepath.Join(dir, "a.c"), []byte("C"), 0o644) },
			func(dir string) error { return os.Chmod(filepath.Join(dir, "Procfile"), 0o600) },
			func(dir string) error { return os.Remove(filepath.Join(dir, "emptydir")) },
			func(dir string) error {
				os.Remove(filepath.Join(dir, "bin/start"))
				return os.Symlink("other", filepath.Join(dir, "bin/start"))
			},
		} {
			cp := filepath.Join(t.TempDir(), "copy")
			copyTree(t, src, cp)
			if err := change(cp); err != nil {
				t.Fatal(err)
			}
			if bytes.Equal(tarGz(t, cp, fetch.TarOptions{}), first) {
				t.Error("a changed tree gives the same bytes")
			}
		}
	})
}

func TestWriteTarGzHeaders(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	makeTree(t, src)
	b := tarGz(t, src, fetch.TarOptions{})
	// gzip header: no name (flags 0), mtime 0, OS 255.
	if !bytes.Equal(b[:10], []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255}) {
		t.Errorf("gzip header % x", b[:10])
	}
	var names []string
	for _, h := range headers(t, b) {
		names = append(names, h.Name)
		if h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Gname != "" || h.ModTime.Unix() != 0 {
			t.Errorf("%s: owner %d:%d %q:%q mtime %v", h.Name, h.Uid, h.Gid, h.Uname, h.Gname, h.ModTime)
		}
	}
	want := []string{
		"./", "Procfile", "a/", "a/z", "a-b", "a.c", "bin/", "bin/python", "bin/run", "bin/run-again", "bin/start", "bin/su",
		"dangling", "data/", "data/random.bin", "data/text.log", "deep/",
		"deep/" + strings.Repeat("long-directory-name-", 6) + "/",
		"deep/" + strings.Repeat("long-directory-name-", 6) + "/" + strings.Repeat("x", 120) + ".txt",
		"empty", "emptydir/", "fifo", "shared/", "tmp/",
	}
	if !slices.Equal(names, want) {
		t.Errorf("entries:\n%q\nwant\n%q", names, want)
	}
	hs := headers(t, b)
	byName := map[string]*tar.Header{}
	for _, h := range hs {
		byName[h.Name] = h
	}
	checks := []struct {
		name     string
		typ      byte
		mode     int64
		linkname string
	}{
		{"./", tar.TypeDir, 0o750, ""},
		{"bin/su", tar.TypeReg, 0o4755, ""},
		{"tmp/", tar.TypeDir, 0o1777, ""},
		{"shared/", tar.TypeDir, 0o2775, ""},
		{"bin/python", tar.TypeSymlink, 0o777, "/usr/bin/python3"},
		{"bin/run-again", tar.TypeLink, 0o755, "bin/run"},
		{"fifo", tar.TypeFifo, 0o600, ""},
	}
	for _, c := range checks {
		h := byName[c.name]
		if h == nil || h.Typeflag != c.typ || h.Mode != c.mode || h.Linkname != c.linkname {
			t.Errorf("%s: %+v, want type %c mode %o link %q", c.name, h, c.typ, c.mode, c.linkname)
		}
	}

	// Options: owner, time, no root entry.
	mt := time.Date(2024, 2, 3, 4, 5, 6, 0, time.UTC)
	for _, h := range headers(t, tarGz(t, src, fetch.TarOptions{UID: 1000, GID: 1001, ModTime: mt, OmitRoot: true})) {
		if h.Name == "./" || h.Uid != 1000 || h.Gid != 1001 || !h.ModTime.Equal(mt) {
			t.Errorf("%s: %d:%d %v", h.Name, h.Uid, h.Gid, h.ModTime)
		}
	}
	// ClampModTime keeps older times.
	old := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := os.Chtimes(filepath.Join(src, "a.c"), old, old); err != nil {
		t.Fatal(err)
	}
	for _, h := range headers(t, tarGz(t, src, fetch.TarOptions{ModTime: mt, ClampModTime: true})) {
		want := mt // everything else was written just now, after mt
		if h.Name == "a.c" {
			want = old
		}
		if !h.ModTime.Equal(want) {
			t.Errorf("clamped %s: %v, want %v", h.Name, h.ModTime, want)
		}
	}
}

func TestWriteTarGzExclude(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	makeTree(t, src)
	var seen []string
	b := tarGz(t, src, fetch.TarOptions{Exclude: func(rel string, d fs.DirEntry) bool {
		seen = append(seen, rel)
		return rel == "data" || strings.HasSuffix(rel, ".c") || (rel == "bin/python" && d.Type()&fs.ModeSymlink != 0)
	}})
	for _, h := range headers(t, b) {
		if strings.HasPrefix(h.Name, "data") || h.Name == "a.c" || h.Name == "bin/python" {
			t.Errorf("%s not excluded", h.Name)
		}
	}
	if slices.Contains(seen, "data/random.bin") {
		t.Error("Exclude was asked about entries inside an excluded directory")
	}
}

func TestWriteTarGzRoundTrip(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	makeTree(t, src)
	dir := t.TempDir()
	archive := filepath.Join(dir, "tree.tar.gz")
	if _, err := fetch.CreateTarGz(context.Background(), archive, src, fetch.TarOptions{}); err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(dir, "out")
	if err := fetch.Extract(context.Background(), archive, dest, fetch.ExtractOptions{AllowDevices: true}); err != nil {
		t.Fatal(err)
	}
	if d := diffSnapshots(snapshot(t, dest, false, false), snapshot(t, src, false, false)); d != "" {
		t.Errorf("Extract(WriteTarGz(tree)) differs:\n%s", d)
	}
	// And back again: the same bytes.
	b, _ := os.ReadFile(archive)
	if !bytes.Equal(tarGz(t, dest, fetch.TarOptions{}), b) {
		t.Error("re-archiving the extracted tree gives other bytes")
	}
}

func TestWriteTarGzGNUTar(t *testing.T) {
	testutil.RequireBinary(t, "tar")
	src := filepath.Join(t.TempDir(), "src")
	makeTree(t, src)
	dir := t.TempDir()
	archive := filepath.Join(dir, "tree.tar.gz")
	if _, err := fetch.CreateTarGz(context.Background(), archive, src, fetch.TarOptions{}); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("tar", "tzvf", archive).CombinedOutput()
	if err != nil {
		t.Fatalf("tar tzvf: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(headers(t, mustRead(t, archive))) || !strings.Contains(string(out), "bin/run-again link to bin/run") ||
		!strings.Contains(string(out), "-rwsr-xr-x 0/0") {
		t.Errorf("tar tzvf output:\n%s", out)
	}
	dest := filepath.Join(dir, "gnu")
	os.Mkdir(dest, 0o755)
	if out, err := exec.Command("tar", "xzpf", archive, "-C", dest).CombinedOutput(); err != nil {
		t.Fatalf("tar xzf: %v\n%s", err, out)
	}
	if d := diffSnapshots(snapshot(t, dest, false, false), snapshot(t, src, false, false)); d != "" {
		t.Errorf("GNU tar's extraction differs:\n%s", d)
	}
}

func mustRead(t testing.TB, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCreateTarGz(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	makeTree(t, src)
	// The output inside the tree it archives: left out of the archive.
	out := filepath.Join(src, "build.tar.gz")
	sums, err := fetch.CreateTarGz(context.Background(), out, src, fetch.TarOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := fetch.HashFile(out); got != sums {
		t.Errorf("returned %+v, file has %+v", sums, got)
	}
	for _, h := range headers(t, mustRead(t, out)) {
		if strings.Contains(h.Name, "build.tar.gz") {
			t.Errorf("the archive contains %s", h.Name)
		}
	}
	if fi, _ := os.Stat(out); fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v", fi.Mode())
	}
	if got := listDir(t, src); slices.ContainsFunc(got, func(n string) bool { return strings.Contains(n, ".part") }) {
		t.Errorf("temporary file left: %v", got)
	}
}

func TestCreateTarGzFailureLeavesNothing(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	makeTree(t, src)
	dir := t.TempDir()
	out := writeFile(t, filepath.Join(dir, "build.tar.gz"), []byte("previous"))

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := fetch.CreateTarGz(ctx, out, src, fetch.TarOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: error = %v", err)
	}
	if _, err := fetch.CreateTarGz(context.Background(), out, filepath.Join(src, "missing"), fetch.TarOptions{}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing source: error = %v", err)
	}
	if os.Geteuid() != 0 {
		// An unreadable file in the tree (root reads everything).
		os.Chmod(filepath.Join(src, "a.c"), 0)
		if _, err := fetch.CreateTarGz(context.Background(), out, src, fetch.TarOptions{}); err == nil {
			t.Error("unreadable file: no error")
		}
	}
	if got := listDir(t, dir); !slices.Equal(got, []string{"build.tar.gz"}) || string(mustRead(t, out)) != "previous" {
		t.Errorf("dir holds %v", got)
	}
}

// TestWriteTarGzGolden pins the exact bytes for a fixed tree. It fails when the format or the
// compression library changes the output; check the change is intended, then run
// go test ./pkg/fetch -run Golden -update.
func TestWriteTarGzGolden(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	makeTree(t, src)
	var buf bytes.Buffer
	if err := fetch.WriteTarGz(context.Background(), &buf, src, fetch.TarOptions{}); err != nil {
		t.Fatal(err)
	}
	got := md5hex(buf.Bytes()) + " " + sha256hex(buf.Bytes()) + "\n"
	golden := filepath.Join("testdata", "tree.tar.gz.sums")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("tree.tar.gz sums = %s, golden %s", got, want)
	}
}
