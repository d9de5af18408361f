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
	if want := filepath.Join(store.Dir, "busy", "contents-"+md5hex(v1)[:12]); dir != want {
		t.Fatalf("contents at %s, want %s", dir, want)
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

	// A new image_md5: downloaded and unpacked again into a new version, which contents
	// now points to; the first version stays as it was.
	served.Store(v2)
	img.MD5 = md5hex(v2)
	dir2, err := store.Ensure(ctx, img)
	if err != nil {
		t.Fatal(err)
	}
	cur := store.Contents("busy")
	if b, _ := os.ReadFile(filepath.Join(cur, "marker")); string(b) != "two" || hits.Load() != 2 {
		t.Fatalf("after md5 change: marker %q, %d downloads", b, hits.Load())
	}
	if b, _ := os.ReadFile(filepath.Join(dir2, "marker")); string(b) != "two" || dir2 == dir {
		t.Fatalf("after md5 change: Ensure returned %s holding %q", dir2, b)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "marker")); string(b) != "one" {
		t.Fatalf("the first version changed: marker %q", b)
	}
	dir = cur

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

// serve returns an httptest server serving whatever *body holds.
func serve(t *testing.T, body *atomic.Value) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(body.Load().([]byte))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func versionDirs(t *testing.T, imageDir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(imageDir, "contents-*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestEnsureKeepsVersions(t *testing.T) {
	vs := [][]byte{makeTarball(t, "one"), makeTarball(t, "two"), makeTarball(t, "three")}
	var served atomic.Value
	srv := serve(t, &served)
	store := &image.Store{Dir: t.TempDir()}
	ctx := context.Background()

	var dirs []string
	for i, v := range vs {
		served.Store(v)
		d, err := store.Ensure(ctx, image.Image{Name: "img", URL: srv.URL + "/img.tar.gz", MD5: md5hex(v)})
		if err != nil {
			t.Fatal(err)
		}
		// What Ensure returns is the version itself, never the symlink, so a mount pins it.
		if fi, err := os.Lstat(d); err != nil || !fi.IsDir() {
			t.Fatalf("Ensure returned %s: %v %v", d, fi, err)
		}
		if got, _ := filepath.EvalSymlinks(store.Contents("img")); got != d {
			t.Fatalf("contents resolves to %s, Ensure returned %s", got, d)
		}
		if fi, err := os.Lstat(store.Contents("img")); err != nil || fi.Mode()&os.ModeSymlink == 0 {
			t.Fatalf("contents is not a symlink: %v %v", fi, err)
		}
		dirs = append(dirs, d)
		if n := len(versionDirs(t, filepath.Join(store.Dir, "img"))); n != i+1 {
			t.Fatalf("after %d versions, %d version directories", i+1, n)
		}
	}
	// Every earlier version is still there, whole.
	for i, want := range []string{"one", "two", "three"} {
		if b, err := os.ReadFile(filepath.Join(dirs[i], "marker")); err != nil || string(b) != want {
			t.Fatalf("version %d: %q %v", i, b, err)
		}
		if fi, err := os.Lstat(filepath.Join(dirs[i], "etc", "resolv.conf")); err != nil || !fi.Mode().IsRegular() {
			t.Fatalf("version %d: resolv.conf %v %v", i, fi, err)
		}
	}

	// Going back to the first version reuses its directory.
	served.Store(vs[0])
	d, err := store.Ensure(ctx, image.Image{Name: "img", URL: srv.URL + "/img.tar.gz", MD5: md5hex(vs[0])})
	if err != nil || d != dirs[0] {
		t.Fatalf("back to the first version: %s %v, want %s", d, err, dirs[0])
	}
	if n := len(versionDirs(t, filepath.Join(store.Dir, "img"))); n != 3 {
		t.Fatalf("%d version directories, want 3", n)
	}
	if b, _ := os.ReadFile(filepath.Join(store.Contents("img"), "marker")); string(b) != "one" {
		t.Fatalf("contents holds %q", b)
	}
	if _, err := os.Lstat(filepath.Join(store.Dir, "img", ".contents.new")); err == nil {
		t.Fatal("temporary symlink left behind")
	}
}

// TestEnsureLegacyContents: a contents directory unpacked before versioning is used while it
// is current, and moved aside (not removed) when a new version comes.
func TestEnsureLegacyContents(t *testing.T) {
	v1, v2 := makeTarball(t, "one"), makeTarball(t, "two")
	var served atomic.Value
	served.Store(v1)
	srv := serve(t, &served)
	store := &image.Store{Dir: t.TempDir()}
	ctx := context.Background()
	url := srv.URL + "/img.tar.gz"
	imgDir := filepath.Join(store.Dir, "img")

	// The layout an earlier vr left.
	legacy := store.Contents("img")
	if err := os.MkdirAll(legacy, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(legacy, "marker"), []byte("legacy"), 0o644); err != nil {
		t.Fatal(err)
	}
	st := `{"url":"` + url + `","md5":"` + md5hex(v1) + `"}` + "\n"
	if err := os.WriteFile(filepath.Join(imgDir, "image.json"), []byte(st), 0o644); err != nil {
		t.Fatal(err)
	}

	d, err := store.Ensure(ctx, image.Image{Name: "img", URL: url, MD5: md5hex(v1)})
	if err != nil || d != legacy {
		t.Fatalf("current legacy contents: %s %v", d, err)
	}
	if fi, err := os.Lstat(legacy); err != nil || !fi.IsDir() {
		t.Fatalf("legacy contents touched: %v %v", fi, err)
	}
	if len(versionDirs(t, imgDir)) != 0 {
		t.Fatal("a current legacy contents was unpacked again")
	}

	served.Store(v2)
	d, err = store.Ensure(ctx, image.Image{Name: "img", URL: url, MD5: md5hex(v2)})
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(d, "marker")); string(b) != "two" {
		t.Fatalf("new version holds %q", b)
	}
	if fi, err := os.Lstat(legacy); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("contents is not a symlink now: %v %v", fi, err)
	}
	moved, _ := filepath.Glob(filepath.Join(imgDir, "contents-legacy-*"))
	if len(moved) != 1 {
		t.Fatalf("legacy directories: %v", moved)
	}
	if b, _ := os.ReadFile(filepath.Join(moved[0], "marker")); string(b) != "legacy" {
		t.Fatalf("the legacy directory holds %q", b)
	}

	// Same version again: fast path, nothing new.
	if d2, err := store.Ensure(ctx, image.Image{Name: "img", URL: url, MD5: md5hex(v2)}); err != nil || d2 != d {
		t.Fatalf("again: %s %v", d2, err)
	}
	if n := len(versionDirs(t, imgDir)); n != 2 { // contents-legacy-* and contents-<v2>
		t.Fatalf("%d contents-* directories, want 2", n)
	}
}
