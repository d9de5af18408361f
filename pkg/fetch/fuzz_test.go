package fetch_test

import (
	"archive/tar"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vr-paas/vr/pkg/fetch"
)

// FuzzExtract feeds arbitrary bytes to Extract as an archive. Whatever they are, Extract must
// not panic, must leave nothing but dest (on success) beside dest, and must write nothing
// outside it: the sibling sentinel directory stays empty and the victim file outside is
// unchanged. Seeds: the hostile archives of TestExtractRejectsHostileArchives that do not need
// the test's temporary path, plus good ones, plain and gzipped.
//
//	go test ./pkg/fetch -run '^$' -fuzz FuzzExtract -fuzztime 20s
func FuzzExtract(f *testing.F) {
	seeds := [][]ent{
		{{name: "./", typ: tar.TypeDir}, {name: "a/b", body: "hello"}, {name: "l", typ: tar.TypeSymlink, link: "a/b"}, {name: "h", typ: tar.TypeLink, link: "a/b"}},
		{{name: "usr/bin/python", typ: tar.TypeSymlink, link: "/usr/bin/python3"}, {name: "bin", typ: tar.TypeSymlink, link: "usr/bin"}, {name: "bin/sh", body: "sh"}},
		{{name: "../sentinel/pwned", body: "x"}},
		{{name: "a/../../sentinel/pwned", body: "x"}},
		{{name: "/sentinel/pwned", body: "x"}},
		{{name: "s", typ: tar.TypeSymlink, link: "../sentinel"}, {name: "s/pwned", body: "x"}},
		{{name: "s", typ: tar.TypeSymlink, link: ".."}, {name: "s/sentinel/pwned", body: "x"}},
		{{name: "s", typ: tar.TypeSymlink, link: "../../outside"}, {name: "s/victim", body: "x"}},
		{{name: "s", typ: tar.TypeSymlink, link: "../../outside"}, {name: "h", typ: tar.TypeLink, link: "s/victim"}},
		{{name: "h", typ: tar.TypeLink, link: "../../outside/victim"}},
		{{name: "s", typ: tar.TypeSymlink, link: "../sentinel"}, {name: "s/d/", typ: tar.TypeDir}},
		{{name: "d/", typ: tar.TypeDir}, {name: "d", typ: tar.TypeSymlink, link: "../sentinel"}, {name: "d/x", body: "x"}},
		{{name: "a", typ: tar.TypeSymlink, link: "b"}, {name: "b", typ: tar.TypeSymlink, link: "../sentinel"}, {name: "a/x", body: "x"}},
		{{name: "dev/null", typ: tar.TypeChar, major: 1, minor: 3}},
		{{name: "fifo", typ: tar.TypeFifo}},
		{{name: "big", body: "short", size: 1 << 20}},
	}
	for _, s := range seeds {
		b := tarBytes(f, s...)
		f.Add(b)
		f.Add(gzipBytes(f, b))
	}
	f.Fuzz(func(t *testing.T, archiveBytes []byte) {
		base := t.TempDir()
		work := filepath.Join(base, "work")
		sentinel := filepath.Join(work, "sentinel")
		victim := filepath.Join(base, "outside", "victim")
		if err := os.MkdirAll(sentinel, 0o755); err != nil {
			t.Fatal(err)
		}
		writeFile(t, victim, []byte("victim"))
		archive := writeFile(t, filepath.Join(base, "in.tar"), archiveBytes)
		dest := filepath.Join(work, "dest")

		err := fetch.Extract(context.Background(), archive, dest, fetch.ExtractOptions{MaxSize: 4 << 20})

		if err != nil && !strings.Contains(err.Error(), archive) {
			t.Errorf("error %q does not name the archive", err)
		}
		if got := listDir(t, sentinel); len(got) != 0 {
			t.Fatalf("wrote into the sentinel dir: %v (err %v)", got, err)
		}
		if b, rerr := os.ReadFile(victim); rerr != nil || string(b) != "victim" {
			t.Fatalf("victim changed: %q %v", b, rerr)
		}
		if got := listDir(t, filepath.Dir(victim)); !slices.Equal(got, []string{"victim"}) {
			t.Fatalf("outside dir holds %v", got)
		}
		if got := listDir(t, base); !slices.Equal(got, []string{"in.tar", "outside", "work"}) {
			t.Fatalf("base holds %v", got)
		}
		wantWork := []string{"sentinel"}
		if err == nil {
			wantWork = []string{"dest", "sentinel"}
			if fi, lerr := os.Lstat(dest); lerr != nil || !fi.IsDir() {
				t.Fatalf("dest after success: %v %v", fi, lerr)
			}
		}
		if got := listDir(t, work); !slices.Equal(got, wantWork) {
			t.Fatalf("work holds %v, want %v (err %v)", got, wantWork, err)
		}
	})
}
