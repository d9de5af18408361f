package image_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/vr-paas/vr/pkg/image"
)

// TestEnsureResolvConfStaysInsideImage: an image whose etc is an absolute symlink (etc ->
// /etc on a real host; here a victim directory standing in for it) must not make Ensure touch
// the resolv.conf it points at.
func TestEnsureResolvConfStaysInsideImage(t *testing.T) {
	victim := t.TempDir()
	vpath := filepath.Join(victim, "resolv.conf")
	const vtarget = "../run/systemd/resolve/stub-resolv.conf"
	if err := os.Symlink(vtarget, vpath); err != nil {
		t.Fatal(err)
	}

	var b bytes.Buffer
	gz := gzip.NewWriter(&b)
	tw := tar.NewWriter(gz)
	for _, h := range []*tar.Header{
		{Name: "./", Typeflag: tar.TypeDir, Mode: 0o755},
		{Name: "./etc", Typeflag: tar.TypeSymlink, Linkname: victim, Mode: 0o777},
	} {
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	tb := filepath.Join(t.TempDir(), "evil.tar.gz")
	if err := os.WriteFile(tb, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	store := &image.Store{Dir: t.TempDir()}
	dir, err := store.Ensure(context.Background(), image.Image{Name: "evil", URL: tb})
	t.Logf("Ensure: %q, %v", dir, err)

	fi, err := os.Lstat(vpath)
	if err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the victim's resolv.conf was replaced: %v %v", fi, err)
	}
	if got, _ := os.Readlink(vpath); got != vtarget {
		t.Fatalf("the victim's resolv.conf now points to %q", got)
	}
	if ents, _ := os.ReadDir(victim); len(ents) != 1 {
		t.Fatalf("the victim directory changed: %v", ents)
	}
}
