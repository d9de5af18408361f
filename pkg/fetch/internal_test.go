package fetch

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/klauspost/pgzip"
)

// TestGzipWriterDeterministic checks what WriteTarGz relies on: pgzip's output depends on the
// data, level and block size, not on how many blocks run at once or how writes are cut.
func TestGzipWriterDeterministic(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	data := make([]byte, 0, 5<<20)
	for len(data) < 5<<20 {
		if rng.IntN(2) == 0 {
			data = append(data, bytes.Repeat([]byte("compressible text "), 1000)...)
		} else {
			for range 20_000 {
				data = append(data, byte(rng.Uint32()))
			}
		}
	}
	write := func(blocks, chunk int) []byte {
		var buf bytes.Buffer
		gz, err := newGzipWriter(&buf, 0, blocks)
		if err != nil {
			t.Fatal(err)
		}
		for p := data; len(p) > 0; {
			n := min(chunk, len(p))
			if _, err := gz.Write(p[:n]); err != nil {
				t.Fatal(err)
			}
			p = p[n:]
		}
		if err := gz.Close(); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	ref := write(1, len(data))
	for _, c := range []struct{ blocks, chunk int }{{8, len(data)}, {2, 512}, {4, 4093}, {3, 1 << 20}, {16, 1<<20 + 1}} {
		if got := write(c.blocks, c.chunk); !bytes.Equal(got, ref) {
			t.Errorf("blocks %d, writes of %d: other bytes", c.blocks, c.chunk)
		}
	}
	zr, err := pgzip.NewReader(bytes.NewReader(ref))
	if err != nil {
		t.Fatal(err)
	}
	back, err := io.ReadAll(zr)
	if err != nil || !bytes.Equal(back, data) {
		t.Errorf("round trip: %d bytes, %v", len(back), err)
	}
}

func TestCleanName(t *testing.T) {
	tests := []struct {
		in, want string
		err      error
	}{
		{"/", ".", nil},
		{"./", ".", nil},
		{".", ".", nil},
		{"a", "a", nil},
		{"./a/b/", "a/b", nil},
		{"a//b/./c", "a/b/c", nil},
		{"/etc/passwd", "", ErrEscape},
		{"//x", "", ErrEscape},
		{"..", "", ErrEscape},
		{"../x", "", ErrEscape},
		{"a/../b", "", ErrEscape}, // even when it would stay inside: GNU tar skips these too
		{"a/..", "", ErrEscape},
		{"", "", errAny},
		{"a\x00b", "", errAny},
	}
	for _, tt := range tests {
		got, err := cleanName(tt.in)
		switch {
		case tt.err == nil && (err != nil || got != tt.want):
			t.Errorf("cleanName(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		case tt.err == errAny && err == nil, tt.err != nil && tt.err != errAny && !errors.Is(err, tt.err):
			t.Errorf("cleanName(%q) = %q, %v; want error %v", tt.in, got, err, tt.err)
		}
	}
}

var errAny = errors.New("any error")

func TestCompressionDetection(t *testing.T) {
	names := map[string]compression{
		"a.tar.gz": compGzip, "a.TGZ": compGzip, "a.gz": compGzip,
		"a.tar.bz2": compBzip2, "a.tbz2": compBzip2, "a.tbz": compBzip2, "a.bz2": compBzip2,
		"a.tar.xz": compXz, "a.txz": compXz, "a.xz": compXz,
		"a.tar": compNone, "a.zip": compUnknown, "a": compUnknown, "gz": compUnknown,
	}
	for n, want := range names {
		if got := compressionFromName(n); got != want {
			t.Errorf("compressionFromName(%q) = %v, want %v", n, got, want)
		}
	}
	tarHead := make([]byte, 512)
	copy(tarHead[257:], "ustar\x0000")
	heads := []struct {
		head []byte
		want compression
	}{
		{[]byte{0x1f, 0x8b, 8}, compGzip},
		{[]byte("BZh91AY&SY"), compBzip2},
		{[]byte("BZhX"), compUnknown},
		{[]byte{0xfd, '7', 'z', 'X', 'Z', 0}, compXz},
		{tarHead, compNone},
		{tarHead[:200], compUnknown},
		{nil, compUnknown},
	}
	for _, h := range heads {
		if got := sniff(h.head); got != h.want {
			t.Errorf("sniff(% x...) = %v, want %v", h.head[:min(len(h.head), 6)], got, h.want)
		}
	}
}

// TestClassifyRootEscape guards the one place that depends on os.Root's error text.
func TestClassifyRootEscape(t *testing.T) {
	dir := t.TempDir()
	if err := os.Symlink("..", dir+"/up"); err != nil {
		t.Fatal(err)
	}
	r, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, name := range []string{"up/x", "../x"} {
		_, err = r.Create(name)
		if !errors.Is(classify(err), ErrEscape) {
			t.Errorf("classify(%v) is not ErrEscape: os.Root's error text changed?", err)
		}
	}
	if err := classify(os.ErrNotExist); err != os.ErrNotExist {
		t.Errorf("classify changed an unrelated error: %v", err)
	}
}

func TestReplaceDir(t *testing.T) {
	for _, fn := range []struct {
		name string
		f    func(tmp, dest string) error
	}{{"exchange", replaceDir}, {"two renames", replaceDirTwoRenames}} {
		t.Run(fn.name, func(t *testing.T) {
			dir := t.TempDir()
			tmp, dest := dir+"/.new", dir+"/dest"
			for _, d := range []string{tmp, dest + "/old"} {
				if err := os.MkdirAll(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.WriteFile(tmp+"/new", nil, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(dest+"/old", 0o500); err != nil { // removable anyway
				t.Fatal(err)
			}
			if err := fn.f(tmp, dest); err != nil {
				t.Fatal(err)
			}
			ents, _ := os.ReadDir(dest)
			all, _ := os.ReadDir(dir)
			if len(ents) != 1 || ents[0].Name() != "new" || len(all) != 1 {
				t.Errorf("dest holds %v, dir holds %v", ents, all)
			}
		})
	}
	t.Run("no dest yet", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.Mkdir(dir+"/.new", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := replaceDir(dir+"/.new", dir+"/dest"); err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Stat(dir + "/dest"); err != nil || !fi.IsDir() {
			t.Errorf("dest: %v, %v", fi, err)
		}
	})
}
