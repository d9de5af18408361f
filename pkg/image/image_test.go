package image_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/vr-paas/vr/pkg/fetch"
	"github.com/vr-paas/vr/pkg/image"
)

// makeTarball writes a .tar.gz of a tiny tree holding marker=content and a symlinked
// etc/resolv.conf, and returns its bytes.
func makeTarball(t *testing.T, content string) []byte {
	t.Helper()
	src := t.TempDir()
	if err := os.MkdirAll(filepath.Join(src, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "marker"), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../run/systemd/resolve/stub-resolv.conf", filepath.Join(src, "etc", "resolv.conf")); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := fetch.WriteTarGz(context.Background(), &b, src, fetch.TarOptions{}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func md5hex(b []byte) string { s := md5.Sum(b); return hex.EncodeToString(s[:]) }

func TestEnsureDownloadsOnceAndRefreshesOnNewMD5(t *testing.T) {
	v1, v2 := makeTarball(t, "one"), makeTarball(t, "two")
	var served atomic.Value
	served.Store(v1)
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = w.Write(served.Load().([]byte))
	}))
	defer srv.Close()

	store := &image.Store{Dir: t.TempDir()}
	img := image.Image{Name: "busy", URL: srv.URL + "/images/busy.tar.gz", MD5: md5hex(v1)}
	ctx := context.Background()

	dir, err := store.Ensure(ctx, img)
	if err != nil {
		t.Fatal(err)
	}
	if dir != filepath.Join(store.Dir, "busy", "contents") {
		t.Fatalf("contents at %s", dir)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "marker")); string(b) != "one" {
		t.Fatalf("marker %q", b)
	}
	if fi, err := os.Lstat(filepath.Join(dir, "etc", "resolv.conf")); err != nil || !fi.Mode().IsRegular() {
		t.Fatalf("resolv.conf should be a regular file to bind-mount over: %v %v", fi, err)
	}
	if _, err := os.Stat(filepath.Join(store.Dir, "busy", "busy.tar.gz")); err != nil {
		t.Fatalf("tarball not cached: %v", err)
	}

	// Same image again: no download.
	if _, err := store.Ensure(ctx, img); err != nil || hits.Load() != 1 {
		t.Fatalf("second Ensure: err %v, %d downloads", err, hits.Load())
	}

	// A new image_md5: downloaded and unpacked again, replacing the contents.
	served.Store(v2)
	img.MD5 = md5hex(v2)
	if _, err := store.Ensure(ctx, img); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "marker")); string(b) != "two" || hits.Load() != 2 {
		t.Fatalf("after md5 change: marker %q, %d downloads", b, hits.Load())
	}

	// A wrong md5: error, and the current contents stay.
	img.MD5 = md5hex([]byte("nope"))
	if _, err := store.Ensure(ctx, img); !errors.Is(err, fetch.ErrChecksum) {
		t.Fatalf("md5 mismatch: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "marker")); string(b) != "two" {
		t.Fatalf("contents changed after a failed Ensure: %q", b)
	}
}

func TestEnsureConcurrent(t *testing.T) {
	tb := makeTarball(t, "x")
	p := filepath.Join(t.TempDir(), "img.tar.gz")
	if err := os.WriteFile(p, tb, 0o644); err != nil {
		t.Fatal(err)
	}
	store := &image.Store{Dir: t.TempDir()}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := store.Ensure(context.Background(), image.Image{Name: "x", URL: p})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if b, err := os.ReadFile(filepath.Join(store.Contents("x"), "marker")); err != nil || string(b) != "x" {
		t.Fatalf("marker %q %v", b, err)
	}
}

func TestEnsureBadInput(t *testing.T) {
	store := &image.Store{Dir: t.TempDir()}
	for _, img := range []image.Image{
		{Name: "../etc", URL: "/x.tar.gz"},
		{Name: "", URL: "/x.tar.gz"},
		{Name: "ok", URL: "http://host/"},
	} {
		if _, err := store.Ensure(context.Background(), img); err == nil {
			t.Errorf("%+v: no error", img)
		}
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(store.Dir), "etc")); err == nil {
		t.Fatal("a bad name created a directory outside the store")
	}
}
