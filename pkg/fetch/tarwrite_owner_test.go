package fetch_test

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/klauspost/pgzip"

	"github.com/vr-paas/vr/pkg/fetch"
	"github.com/vr-paas/vr/pkg/testutil"
)

// TestKeepOwners: with KeepOwners each entry keeps its numeric owner (OS images need it);
// without, every entry gets UID and GID.
func TestKeepOwners(t *testing.T) {
	testutil.RequireRoot(t) // chown
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "shadow"), []byte("x"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(filepath.Join(dir, "shadow"), 0, 42); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "partial"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(filepath.Join(dir, "partial"), 100, 65534); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("shadow", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Lchown(filepath.Join(dir, "link"), 7, 8); err != nil {
		t.Fatal(err)
	}
	owners := func(opts fetch.TarOptions) map[string][2]int {
		var buf bytes.Buffer
		if err := fetch.WriteTarGz(context.Background(), &buf, dir, opts); err != nil {
			t.Fatal(err)
		}
		zr, err := pgzip.NewReader(&buf)
		if err != nil {
			t.Fatal(err)
		}
		tr := tar.NewReader(zr)
		got := map[string][2]int{}
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			got[h.Name] = [2]int{h.Uid, h.Gid}
		}
		return got
	}
	kept := owners(fetch.TarOptions{KeepOwners: true, UID: 5, GID: 5})
	for name, want := range map[string][2]int{"./": {0, 0}, "shadow": {0, 42}, "partial/": {100, 65534}, "link": {7, 8}} {
		if kept[name] != want {
			t.Errorf("KeepOwners: %s owned by %v, want %v", name, kept[name], want)
		}
	}
	for name, got := range owners(fetch.TarOptions{UID: 5, GID: 6}) {
		if got != [2]int{5, 6} {
			t.Errorf("without KeepOwners: %s owned by %v, want [5 6]", name, got)
		}
	}
}
