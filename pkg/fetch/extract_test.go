package fetch_test

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ulikunitz/xz"

	"github.com/vr-paas/vr/pkg/fetch"
	"github.com/vr-paas/vr/pkg/testutil"
)

// hostileLayout is where hostile extractions happen: <base>/work/dest is the destination,
// <base>/work/sentinel must stay empty, and <base>/outside/victim must stay unchanged.
type hostileLayout struct {
	base, work, dest, sentinel, outside, victim string
}

func newHostileLayout(t testing.TB) hostileLayout {
	t.Helper()
	base := t.TempDir()
	l := hostileLayout{
		base:     base,
		work:     filepath.Join(base, "work"),
		dest:     filepath.Join(base, "work", "dest"),
		sentinel: filepath.Join(base, "work", "sentinel"),
		outside:  filepath.Join(base, "outside"),
		victim:   filepath.Join(base, "outside", "victim"),
	}
	for _, d := range []string{l.sentinel, l.outside} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, l.victim, []byte("victim"))
	return l
}

// check fails the test if anything was written outside dest. wantDest lists what dest must
// hold (nil: dest must not exist).
func (l hostileLayout) check(t testing.TB, wantDest []string) {
	t.Helper()
	if got := listDir(t, l.sentinel); len(got) != 0 {
		t.Errorf("sentinel dir not empty: %v", got)
	}
	if got := listDir(t, l.outside); !slices.Equal(got, []string{"victim"}) {
		t.Errorf("outside dir changed: %v", got)
	}
	if b, err := os.ReadFile(l.victim); err != nil || string(b) != "victim" {
		t.Errorf("victim changed: %q, %v", b, err)
	}
	if fi, err := os.Stat(l.victim); err == nil && fi.Sys().(*syscall.Stat_t).Nlink != 1 {
		t.Errorf("victim got a hard link: nlink %d", fi.Sys().(*syscall.Stat_t).Nlink)
	}
	wantWork := []string{"sentinel"}
	if wantDest != nil {
		wantWork = []string{"dest", "sentinel"}
	}
	if got := listDir(t, l.work); !slices.Equal(got, wantWork) {
		t.Errorf("work dir holds %v, want %v (a temporary directory left behind?)", got, wantWork)
	}
	if wantDest != nil {
		if got := listDir(t, l.dest); !slices.Equal(got, wantDest) {
			t.Errorf("dest holds %v, want %v", got, wantDest)
		}
	}
}

func TestExtractRejectsHostileArchives(t *testing.T) {
	tests := []struct {
		name  string
		ents  func(l hostileLayout) []ent
		opts  fetch.ExtractOptions
		entry string // the entry the error must name
		want  error  // the cause errors.Is must find
	}{
		{
			name:  "absolute path",
			ents:  func(l hostileLayout) []ent { return []ent{{name: filepath.Join(l.sentinel, "pwned"), body: "x"}} },
			entry: "<sentinel>/pwned", want: fetch.ErrEscape,
		},
		{
			name: "dot-dot",
			ents: func(hostileLayout) []ent {
				return []ent{{name: "ok", body: "x"}, {name: "../sentinel/pwned", body: "x"}}
			},
			entry: "../sentinel/pwned", want: fetch.ErrEscape,
		},
		{
			name:  "dot-dot inside",
			ents:  func(hostileLayout) []ent { return []ent{{name: "a/../../sentinel/pwned", body: "x"}} },
			entry: "a/../../sentinel/pwned", want: fetch.ErrEscape,
		},
		{
			name:  "dot-slash dot-dot",
			ents:  func(hostileLayout) []ent { return []ent{{name: "./../pwned", body: "x"}} },
			entry: "./../pwned", want: fetch.ErrEscape,
		},
		{
			name: "absolute symlink then write through it",
			ents: func(l hostileLayout) []ent {
				return []ent{{name: "s", typ: tar.TypeSymlink, link: l.sentinel}, {name: "s/pwned", body: "x"}}
			},
			entry: "s/pwned", want: fetch.ErrEscape,
		},
		{
			name: "relative symlink to a sibling then write through it",
			ents: func(hostileLayout) []ent {
				return []ent{{name: "s", typ: tar.TypeSymlink, link: "../sentinel"}, {name: "s/pwned", body: "x"}}
			},
			entry: "s/pwned", want: fetch.ErrEscape,
		},
		{
			name: "symlink up three levels then write through it",
			ents: func(hostileLayout) []ent {
				return []ent{{name: "s", typ: tar.TypeSymlink, link: "../../.."}, {name: "s/x", body: "x"}}
			},
			entry: "s/x", want: fetch.ErrEscape,
		},
		{
			name: "symlink chain",
			ents: func(hostileLayout) []ent {
				return []ent{
					{name: "a", typ: tar.TypeSymlink, link: "b"},
					{name: "b", typ: tar.TypeSymlink, link: "d/../../sentinel"},
					{name: "d/", typ: tar.TypeDir},
					{name: "a/pwned", body: "x"},
				}
			},
			entry: "a/pwned", want: fetch.ErrEscape,
		},
		{
			name: "directory through a symlink",
			ents: func(hostileLayout) []ent {
				return []ent{{name: "s", typ: tar.TypeSymlink, link: "../sentinel"}, {name: "s/sub/", typ: tar.TypeDir}}
			},
			entry: "s/sub/", want: fetch.ErrEscape,
		},
		{
			name: "symlink through a symlink",
			ents: func(hostileLayout) []ent {
				return []ent{{name: "s", typ: tar.TypeSymlink, link: "../sentinel"}, {name: "s/l", typ: tar.TypeSymlink, link: "/etc"}}
			},
			entry: "s/l", want: fetch.ErrEscape,
		},
		{
			name:  "absolute hard link",
			ents:  func(l hostileLayout) []ent { return []ent{{name: "h", typ: tar.TypeLink, link: l.victim}} },
			entry: "h", want: fetch.ErrEscape,
		},
		{
			name:  "dot-dot hard link",
			ents:  func(hostileLayout) []ent { return []ent{{name: "h", typ: tar.TypeLink, link: "../../outside/victim"}} },
			entry: "h", want: fetch.ErrEscape,
		},
		{
			name: "hard link through a symlink",
			ents: func(l hostileLayout) []ent {
				return []ent{{name: "s", typ: tar.TypeSymlink, link: l.outside}, {name: "h", typ: tar.TypeLink, link: "s/victim"}}
			},
			entry: "h", want: fetch.ErrEscape,
		},
		{
			name: "character device",
			ents: func(hostileLayout) []ent {
				return []ent{{name: "dev/", typ: tar.TypeDir}, {name: "dev/null", typ: tar.TypeChar, major: 1, minor: 3}}
			},
			entry: "dev/null", want: fetch.ErrDevice,
		},
		{
			name:  "block device",
			ents:  func(hostileLayout) []ent { return []ent{{name: "sda", typ: tar.TypeBlock, major: 8, minor: 0}} },
			entry: "sda", want: fetch.ErrDevice,
		},
		{
			name:  "fifo",
			ents:  func(hostileLayout) []ent { return []ent{{name: "ok", body: "x"}, {name: "fifo", typ: tar.TypeFifo}} },
			entry: "fifo", want: fetch.ErrDevice,
		},
		{
			name: "file over a directory",
			ents: func(hostileLayout) []ent {
				return []ent{{name: "d/", typ: tar.TypeDir}, {name: "d/f", body: "x"}, {name: "d", body: "x"}}
			},
			entry: "d", want: fetch.ErrReplacesDir,
		},
		{
			name: "symlink over a directory",
			ents: func(hostileLayout) []ent {
				return []ent{{name: "d/", typ: tar.TypeDir}, {name: "d", typ: tar.TypeSymlink, link: "../sentinel"}}
			},
			entry: "d", want: fetch.ErrReplacesDir,
		},
		{
			name: "truncated archive",
			ents: func(hostileLayout) []ent {
				return []ent{{name: "ok", body: "x"}, {name: "big", body: "only this much", size: 1 << 20}}
			},
			entry: "big", want: io.ErrUnexpectedEOF,
		},
		{
			name: "over the size limit",
			ents: func(hostileLayout) []ent {
				return []ent{{name: "a", body: strings.Repeat("a", 600)}, {name: "b", body: strings.Repeat("b", 600)}}
			},
			opts:  fetch.ExtractOptions{MaxSize: 1000},
			entry: "b", want: fetch.ErrTooLarge,
		},
		{
			name:  "root entry that is a file",
			ents:  func(hostileLayout) []ent { return []ent{{name: ".", body: ""}} },
			entry: ".", want: nil,
		},
		{
			name:  "unknown entry type",
			ents:  func(hostileLayout) []ent { return []ent{{name: "v", typ: 'Z'}} },
			entry: "v", want: fetch.ErrUnsupportedEntry,
		},
	}
	for _, tt := range tests {
		for _, existing := range []bool{false, true} {
			name := tt.name
			if existing {
				name += "/over existing dest"
			}
			t.Run(name, func(t *testing.T) {
				l := newHostileLayout(t)
				var wantDest []string
				if existing {
					writeFile(t, filepath.Join(l.dest, "marker"), []byte("old"))
					wantDest = []string{"marker"}
				}
				archive := writeFile(t, filepath.Join(l.base, "hostile.tar.gz"), gzipBytes(t, tarBytes(t, tt.ents(l)...)))
				err := fetch.Extract(context.Background(), archive, l.dest, tt.opts)
				if err == nil {
					t.Fatal("Extract succeeded, want an error")
				}
				wantEntry := strings.ReplaceAll(tt.entry, "<sentinel>", l.sentinel)
				var ee *fetch.EntryError
				if !errors.As(err, &ee) || ee.Entry != wantEntry {
					t.Errorf("error %q does not name entry %q", err, wantEntry)
				}
				if tt.want != nil && !errors.Is(err, tt.want) {
					t.Errorf("error %q is not %q", err, tt.want)
				}
				if !strings.HasPrefix(err.Error(), "extract "+archive+": entry ") {
					t.Errorf("error %q does not start with the archive and entry", err)
				}
				l.check(t, wantDest)
			})
		}
	}
}

func TestExtractErrorMessage(t *testing.T) {
	dir := t.TempDir()
	archive := writeFile(t, filepath.Join(dir, "build.tar.gz"), gzipBytes(t, tarBytes(t, ent{name: "../../etc/passwd", body: "x"})))
	err := fetch.Extract(context.Background(), archive, filepath.Join(dir, "out"), fetch.ExtractOptions{})
	want := `extract ` + archive + `: entry "../../etc/passwd": path escapes the destination`
	if err == nil || err.Error() != want {
		t.Errorf("error = %v\nwant    %s", err, want)
	}
}

func TestExtractGoodArchives(t *testing.T) {
	mt := time.Date(2020, 5, 17, 10, 11, 12, 0, time.UTC)
	tests := []struct {
		name string
		ents []ent
		want map[string]string // path -> "mode[ content| -> target]"; checked exactly
	}{
		{
			name: "original layout: root / then relative names",
			ents: []ent{
				{name: "/", typ: tar.TypeDir, mode: 0o750},
				{name: "Procfile", body: "web: run\n"},
				{name: "bin/", typ: tar.TypeDir},
				{name: "bin/run", body: "#!/bin/sh\n", mode: 0o755},
			},
			want: map[string]string{".": "drwxr-x---", "Procfile": "-rw-r--r-- web: run\n", "bin": "drwxr-xr-x", "bin/run": "-rwxr-xr-x #!/bin/sh\n"},
		},
		{
			name: "GNU layout: ./ then ./names",
			ents: []ent{
				{name: "./", typ: tar.TypeDir, mode: 0o700},
				{name: "./etc/", typ: tar.TypeDir},
				{name: "./etc/hostname", body: "h\n", mode: 0o600},
			},
			want: map[string]string{".": "drwx------", "etc": "drwxr-xr-x", "etc/hostname": "-rw------- h\n"},
		},
		{
			name: "no root entry, implicit parents",
			ents: []ent{{name: "a/b/c", body: "c"}},
			want: map[string]string{".": "drwxr-xr-x", "a": "drwxr-xr-x", "a/b": "drwxr-xr-x", "a/b/c": "-rw-r--r-- c"},
		},
		{
			name: "OS image symlinks: absolute, relative, dangling, through an in-root symlink",
			ents: []ent{
				{name: "usr/bin/python3", body: "py", mode: 0o755},
				{name: "usr/bin/python", typ: tar.TypeSymlink, link: "/usr/bin/python3"},
				{name: "bin", typ: tar.TypeSymlink, link: "usr/bin"},
				{name: "bin/sh", body: "sh", mode: 0o755},
				{name: "dangling", typ: tar.TypeSymlink, link: "../../nowhere"},
			},
			want: map[string]string{
				".": "drwxr-xr-x", "usr": "drwxr-xr-x", "usr/bin": "drwxr-xr-x",
				"usr/bin/python3": "-rwxr-xr-x py", "usr/bin/python": "Lrwxrwxrwx -> /usr/bin/python3",
				"bin": "Lrwxrwxrwx -> usr/bin", "usr/bin/sh": "-rwxr-xr-x sh", "dangling": "Lrwxrwxrwx -> ../../nowhere",
			},
		},
		{
			name: "special bits, hard link, later entries replace earlier ones",
			ents: []ent{
				{name: "su", body: "su", mode: 0o4755},
				{name: "tmp/", typ: tar.TypeDir, mode: 0o1777},
				{name: "sg/", typ: tar.TypeDir, mode: 0o2775},
				{name: "su2", typ: tar.TypeLink, link: "./su"},
				{name: "f", body: "first"},
				{name: "f", body: "second"},
				{name: "l", typ: tar.TypeSymlink, link: "f"},
				{name: "l", body: "now a file"},
				{name: "m", body: "a file"},
				{name: "m/", typ: tar.TypeDir},
			},
			want: map[string]string{
				".": "drwxr-xr-x", "su": "urwxr-xr-x su", "su2": "urwxr-xr-x su", "tmp": "dtrwxrwxrwx", "sg": "dgrwxrwxr-x",
				"f": "-rw-r--r-- second", "l": "-rw-r--r-- now a file", "m": "drwxr-xr-x",
			},
		},
		{
			name: "read-only directory with contents",
			ents: []ent{{name: "ro/", typ: tar.TypeDir, mode: 0o555}, {name: "ro/f", body: "x", mode: 0o444}},
			want: map[string]string{".": "drwxr-xr-x", "ro": "dr-xr-xr-x", "ro/f": "-r--r--r-- x"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for i := range tt.ents {
				tt.ents[i].mtime = mt
			}
			archive := writeFile(t, filepath.Join(dir, "a.tar.gz"), gzipBytes(t, tarBytes(t, tt.ents...)))
			dest := filepath.Join(dir, "sub", "dest")
			stored := map[string]bool{}
			for _, e := range tt.ents {
				stored[strings.Trim(strings.TrimPrefix(e.name, "./"), "/")] = true
			}
			if err := fetch.Extract(context.Background(), archive, dest, fetch.ExtractOptions{}); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { makeRemovable(dest) })
			got := map[string]string{}
			err := filepath.WalkDir(dest, func(p string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				rel, _ := filepath.Rel(dest, p)
				fi, _ := d.Info()
				desc := fi.Mode().String()
				switch {
				case fi.Mode().IsRegular():
					b, _ := os.ReadFile(p)
					desc += " " + string(b)
				case fi.Mode()&fs.ModeSymlink != 0:
					target, _ := os.Readlink(p)
					desc += " -> " + target
				}
				got[filepath.ToSlash(rel)] = desc
				// Times: every entry stored in the archive has mt (the root: if stored).
				if stored[strings.TrimPrefix(filepath.ToSlash(rel), ".")] && !fi.ModTime().Equal(mt) {
					t.Errorf("%s: mtime %v, want %v", rel, fi.ModTime(), mt)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if d := diffSnapshots(got, tt.want); d != "" {
				t.Errorf("extracted tree differs:\n%s", d)
			}
			if got := listDir(t, filepath.Dir(dest)); !slices.Equal(got, []string{"dest"}) {
				t.Errorf("dest's parent holds %v, want just dest", got)
			}
		})
	}
}

func TestExtractReplacesExistingDest(t *testing.T) {
	dir := t.TempDir()
	dest := filepath.Join(dir, "app")
	writeFile(t, filepath.Join(dest, "old", "file"), []byte("old"))
	if err := os.Chmod(filepath.Join(dest, "old"), 0o555); err != nil { // must still be removable
		t.Fatal(err)
	}
	archive := writeFile(t, filepath.Join(dir, "b.tgz"), gzipBytes(t, tarBytes(t, ent{name: "new", body: "new"})))
	if err := fetch.Extract(context.Background(), archive, dest, fetch.ExtractOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := listDir(t, dest); !slices.Equal(got, []string{"new"}) {
		t.Errorf("dest holds %v, want [new]", got)
	}
	if got := listDir(t, dir); !slices.Equal(got, []string{"app", "b.tgz"}) {
		t.Errorf("dir holds %v: the previous tree or a temporary dir was left behind", got)
	}
}

func TestExtractCompressions(t *testing.T) {
	plain := tarBytes(t, ent{name: "./", typ: tar.TypeDir}, ent{name: "hello", body: strings.Repeat("hello world\n", 1000)})
	xzBytes := func() []byte {
		var buf bytes.Buffer
		w, err := xz.NewWriter(&buf)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(plain); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	bz2Bytes := func() []byte {
		testutil.RequireBinary(t, "bzip2")
		cmd := exec.Command("bzip2", "-c")
		cmd.Stdin = bytes.NewReader(plain)
		out, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	xzCLIBytes := func() []byte { // xz -9: a 64 MiB dictionary, more than the Go writer's default
		testutil.RequireBinary(t, "xz")
		cmd := exec.Command("xz", "-9", "-c")
		cmd.Stdin = bytes.NewReader(plain)
		out, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	tests := []struct {
		file  string
		bytes func() []byte
	}{
		{"a.tar.gz", func() []byte { return gzipBytes(t, plain) }},
		{"xz9.tar.xz", xzCLIBytes},
		{"a.tgz", func() []byte { return gzipBytes(t, plain) }},
		{"a.gz", func() []byte { return gzipBytes(t, plain) }},
		{"a.tar.bz2", bz2Bytes},
		{"a.bz2", bz2Bytes},
		{"a.tbz2", bz2Bytes},
		{"a.tar.xz", xzBytes},
		{"a.xz", xzBytes},
		{"a.txz", xzBytes},
		{"a.tar", func() []byte { return plain }},
		// The content decides when it disagrees with the name.
		{"gzip-named.tar", func() []byte { return gzipBytes(t, plain) }},
		{"plain-named.tar.bz2", func() []byte { return plain }},
		{"xz-named.tar.gz", xzBytes},
		{"no-suffix", func() []byte { return gzipBytes(t, plain) }},
		// Padding after the gzip stream (as some tools write) is ignored.
		{"padded.tar.gz", func() []byte { return append(gzipBytes(t, plain), make([]byte, 512)...) }},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			dir := t.TempDir()
			archive := writeFile(t, filepath.Join(dir, tt.file), tt.bytes())
			dest := filepath.Join(dir, "out")
			if err := fetch.Extract(context.Background(), archive, dest, fetch.ExtractOptions{}); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(filepath.Join(dest, "hello"))
			if err != nil || string(b) != strings.Repeat("hello world\n", 1000) {
				t.Errorf("hello = %d bytes, %v", len(b), err)
			}
		})
	}
}

func TestExtractBadArchives(t *testing.T) {
	plain := tarBytes(t, ent{name: "hello", body: "hi"})
	gz := gzipBytes(t, plain)
	corrupt := slices.Clone(gz)
	corrupt[len(corrupt)-8] ^= 0xff // the CRC
	tests := []struct {
		file  string
		bytes []byte
		want  error
	}{
		{"a.zip", []byte("PK\x03\x04 not a tar at all, no suffix we know"), fetch.ErrUnsupportedFormat},
		{"a", []byte("x"), fetch.ErrUnsupportedFormat},
		{"empty.tar", nil, nil},
		{"garbage.tar.gz", []byte("this is not gzip"), nil},
		{"bad-crc.tar.gz", corrupt, nil},
		{"cut.tar.gz", gz[:len(gz)/2], nil},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			dir := t.TempDir()
			archive := writeFile(t, filepath.Join(dir, tt.file), tt.bytes)
			err := fetch.Extract(context.Background(), archive, filepath.Join(dir, "out"), fetch.ExtractOptions{})
			if err == nil {
				t.Fatal("Extract succeeded, want an error")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("error %q is not %q", err, tt.want)
			}
			if !strings.Contains(err.Error(), archive) {
				t.Errorf("error %q does not name the archive", err)
			}
			if got := listDir(t, dir); !slices.Equal(got, []string{tt.file}) {
				t.Errorf("dir holds %v, want only the archive", got)
			}
		})
	}
}

func TestExtractMissingArchive(t *testing.T) {
	dir := t.TempDir()
	err := fetch.Extract(context.Background(), filepath.Join(dir, "nope.tar.gz"), filepath.Join(dir, "out"), fetch.ExtractOptions{})
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("error = %v, want not exist", err)
	}
}

func TestExtractCanceled(t *testing.T) {
	dir := t.TempDir()
	archive := writeFile(t, filepath.Join(dir, "a.tar"), tarBytes(t, ent{name: "a", body: "a"}))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := fetch.Extract(ctx, archive, filepath.Join(dir, "out"), fetch.ExtractOptions{})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v, want context.Canceled", err)
	}
	if got := listDir(t, dir); !slices.Equal(got, []string{"a.tar"}) {
		t.Errorf("dir holds %v", got)
	}
}

func TestExtractOwnership(t *testing.T) {
	testutil.RequireRoot(t)
	ents := []ent{
		{name: "./", typ: tar.TypeDir, uid: 11, gid: 12, mode: 0o700},
		{name: "d/", typ: tar.TypeDir, uid: 21, gid: 22, mode: 0o700},
		{name: "d/f", body: "x", uid: 31, gid: 32, mode: 0o4700},
		{name: "l", typ: tar.TypeSymlink, link: "/nowhere", uid: 41, gid: 42},
		{name: "implicit/g", body: "y", uid: 51, gid: 52, mode: 0o600},
	}
	owners := func(t *testing.T, dest string) map[string]string {
		got := snapshot(t, dest, false, true)
		for k, v := range got {
			got[k] = v[:strings.Index(v, " ")] + v[strings.LastIndex(v, " "):]
		}
		return got
	}
	t.Run("from the archive", func(t *testing.T) {
		dir := t.TempDir()
		archive := writeFile(t, filepath.Join(dir, "a.tar"), tarBytes(t, ents...))
		dest := filepath.Join(dir, "out")
		if err := fetch.Extract(context.Background(), archive, dest, fetch.ExtractOptions{}); err != nil {
			t.Fatal(err)
		}
		want := map[string]string{
			".": "drwx------ 11:12", "d": "drwx------ 21:22", "d/f": "urwx------ 31:32",
			"l": "Lrwxrwxrwx 41:42", "implicit": "drwxr-xr-x 0:0", "implicit/g": "-rw------- 51:52",
		}
		if d := diffSnapshots(owners(t, dest), want); d != "" {
			t.Error(d)
		}
	})
	t.Run("Owner overrides", func(t *testing.T) {
		dir := t.TempDir()
		archive := writeFile(t, filepath.Join(dir, "a.tar"), tarBytes(t, ents...))
		dest := filepath.Join(dir, "out")
		if err := fetch.Extract(context.Background(), archive, dest, fetch.ExtractOptions{Owner: &fetch.Owner{UID: 1000, GID: 1001}}); err != nil {
			t.Fatal(err)
		}
		// Everything is the owner's; dirs gain ug+rx, files ug+rw, as the original runner did.
		want := map[string]string{
			".": "drwxr-x--- 1000:1001", "d": "drwxr-x--- 1000:1001", "d/f": "urwxrw---- 1000:1001",
			"l": "Lrwxrwxrwx 1000:1001", "implicit": "drwxr-xr-x 1000:1001", "implicit/g": "-rw-rw---- 1000:1001",
		}
		if d := diffSnapshots(owners(t, dest), want); d != "" {
			t.Error(d)
		}
	})
}

func TestExtractDevicesAllowed(t *testing.T) {
	testutil.RequireRoot(t)
	dir := t.TempDir()
	archive := writeFile(t, filepath.Join(dir, "img.tar.gz"), gzipBytes(t, tarBytes(t,
		ent{name: "dev/", typ: tar.TypeDir},
		ent{name: "dev/null", typ: tar.TypeChar, major: 1, minor: 3, mode: 0o666},
		ent{name: "dev/sda", typ: tar.TypeBlock, major: 8, minor: 0, mode: 0o660},
		ent{name: "run/initctl", typ: tar.TypeFifo, mode: 0o600},
	)))
	dest := filepath.Join(dir, "img")
	if err := fetch.Extract(context.Background(), archive, dest, fetch.ExtractOptions{AllowDevices: true}); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		".": "drwxr-xr-x", "dev": "drwxr-xr-x", "run": "drwxr-xr-x",
		"dev/null": "Dcrw-rw-rw- dev 259", "dev/sda": "Drw-rw---- dev 2048", "run/initctl": "prw-------",
	}
	if d := diffSnapshots(snapshot(t, dest, false, false), want); d != "" {
		t.Error(d)
	}
}
