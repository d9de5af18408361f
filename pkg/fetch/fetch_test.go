package fetch_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vr-paas/vr/pkg/fetch"
)

func md5hex(b []byte) string    { s := md5.Sum(b); return hex.EncodeToString(s[:]) }
func sha256hex(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// server serves body at /file.tar.gz (other paths: 404) and counts the requests.
type server struct {
	*httptest.Server
	hits atomic.Int32
}

func newServer(t *testing.T, h func(w http.ResponseWriter, r *http.Request)) *server {
	t.Helper()
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		h(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func serveBytes(body []byte) func(w http.ResponseWriter, r *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/file.tar.gz" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		w.Write(body)
	}
}

// onlyDest fails unless dir holds exactly dest's base name (and its lock file): no temporary
// or partial file may be left.
func onlyDest(t *testing.T, dir string, want ...string) {
	t.Helper()
	var got []string
	for _, n := range listDir(t, dir) {
		if !strings.HasSuffix(n, ".lock") {
			got = append(got, n)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s holds %v, want %v", dir, got, want)
	}
}

func TestFetchHTTP(t *testing.T) {
	body := bytes.Repeat([]byte("build tarball bytes "), 50_000)
	s := newServer(t, serveBytes(body))
	url := s.URL + "/file.tar.gz"
	dir := t.TempDir()
	dest := filepath.Join(dir, "builds", "file.tar.gz") // the parent is created
	ctx := context.Background()
	var progress bytes.Buffer

	res, err := fetch.Fetch(ctx, url, dest, fetch.Options{MD5: strings.ToUpper(md5hex(body)), Progress: &progress})
	if err != nil {
		t.Fatal(err)
	}
	want := fetch.Result{Path: dest, MD5: md5hex(body), SHA256: sha256hex(body), Downloaded: true}
	if res != want {
		t.Errorf("result = %+v, want %+v", res, want)
	}
	if b, _ := os.ReadFile(dest); !bytes.Equal(b, body) {
		t.Errorf("dest has %d bytes, want the %d served", len(b), len(body))
	}
	if fi, _ := os.Stat(dest); fi.Mode().Perm() != 0o644 {
		t.Errorf("dest mode %v, want 0644", fi.Mode())
	}
	if !strings.Contains(progress.String(), "downloading "+url) {
		t.Errorf("progress = %q", progress.String())
	}
	onlyDest(t, filepath.Dir(dest), "file.tar.gz")

	// Matching checksums: no new request.
	for _, opts := range []fetch.Options{{MD5: md5hex(body)}, {SHA256: sha256hex(body)}, {MD5: md5hex(body), SHA256: sha256hex(body)}, {}} {
		res, err = fetch.Fetch(ctx, url, dest, opts)
		if err != nil {
			t.Fatal(err)
		}
		if res.Downloaded || res.MD5 != md5hex(body) || res.SHA256 != sha256hex(body) {
			t.Errorf("reuse with %+v: result %+v", opts, res)
		}
	}
	if n := s.hits.Load(); n != 1 {
		t.Errorf("server hit %d times, want 1", n)
	}
}

func TestFetchRedownloadsOnMismatch(t *testing.T) {
	body := []byte("the real thing")
	s := newServer(t, serveBytes(body))
	dir := t.TempDir()
	for _, opts := range []fetch.Options{{MD5: md5hex(body)}, {SHA256: sha256hex(body)}} {
		dest := writeFile(t, filepath.Join(dir, "file.tar.gz"), []byte("stale or corrupt"))
		res, err := fetch.Fetch(context.Background(), s.URL+"/file.tar.gz", dest, opts)
		if err != nil {
			t.Fatal(err)
		}
		if !res.Downloaded {
			t.Errorf("%+v: not downloaded again", opts)
		}
		if b, _ := os.ReadFile(dest); !bytes.Equal(b, body) {
			t.Errorf("%+v: dest = %q", opts, b)
		}
	}
	// Without a checksum an existing file is reused, as the original did.
	dest := writeFile(t, filepath.Join(dir, "file.tar.gz"), []byte("whatever is there"))
	res, err := fetch.Fetch(context.Background(), s.URL+"/file.tar.gz", dest, fetch.Options{})
	if err != nil || res.Downloaded {
		t.Errorf("no checksum, existing dest: %+v, %v", res, err)
	}
	if n := s.hits.Load(); n != 2 {
		t.Errorf("server hit %d times, want 2", n)
	}
}

func TestFetchErrorsLeaveNoFile(t *testing.T) {
	body := []byte("served bytes")
	tests := []struct {
		name    string
		handler func(w http.ResponseWriter, r *http.Request)
		path    string
		opts    fetch.Options
		check   func(t *testing.T, err error, url string)
	}{
		{
			name: "md5 mismatch", handler: serveBytes(body), path: "/file.tar.gz",
			opts: fetch.Options{MD5: strings.Repeat("0", 32)},
			check: func(t *testing.T, err error, url string) {
				var ce *fetch.ChecksumError
				if !errors.As(err, &ce) || !errors.Is(err, fetch.ErrChecksum) {
					t.Fatalf("error %v is not a *ChecksumError", err)
				}
				want := fmt.Sprintf("fetch %s: md5 checksum mismatch: expected %s, got %s", url, strings.Repeat("0", 32), md5hex(body))
				if err.Error() != want {
					t.Errorf("error = %q\nwant    %q", err, want)
				}
				if ce.URL != url || ce.Algorithm != "md5" || ce.Actual != md5hex(body) {
					t.Errorf("ChecksumError = %+v", ce)
				}
			},
		},
		{
			name: "sha256 mismatch", handler: serveBytes(body), path: "/file.tar.gz",
			opts: fetch.Options{MD5: md5hex(body), SHA256: strings.Repeat("a", 64)},
			check: func(t *testing.T, err error, url string) {
				if !errors.Is(err, fetch.ErrChecksum) || !strings.Contains(err.Error(), "sha256") {
					t.Errorf("error = %v", err)
				}
			},
		},
		{
			name: "404", handler: serveBytes(body), path: "/missing.tar.gz",
			check: func(t *testing.T, err error, url string) {
				var se *fetch.StatusError
				if !errors.As(err, &se) || se.StatusCode != 404 || !strings.Contains(err.Error(), "404 Not Found") {
					t.Errorf("error = %v, want a 404 StatusError", err)
				}
			},
		},
		{
			name: "500", handler: func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", 500) }, path: "/file.tar.gz",
			check: func(t *testing.T, err error, url string) {
				var se *fetch.StatusError
				if !errors.As(err, &se) || se.StatusCode != 500 {
					t.Errorf("error = %v, want a 500 StatusError", err)
				}
			},
		},
		{
			name: "connection dropped mid-body", path: "/file.tar.gz",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", "100000")
				w.Write(bytes.Repeat([]byte("x"), 5000))
				w.(http.Flusher).Flush()
				conn, _, _ := w.(http.Hijacker).Hijack()
				conn.Close()
			},
			check: func(t *testing.T, err error, url string) {
				if !strings.Contains(err.Error(), "unexpected EOF") {
					t.Errorf("error = %v, want unexpected EOF", err)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, tt.handler)
			for _, existing := range []bool{false, true} {
				dir := t.TempDir()
				dest := filepath.Join(dir, "file.tar.gz")
				var want []string
				if existing {
					writeFile(t, dest, []byte("previous"))
					want = []string{"file.tar.gz"}
					if tt.opts.MD5 == "" && tt.opts.SHA256 == "" {
						tt.opts.MD5 = md5hex(body) // force a download
					}
				}
				url := s.URL + tt.path
				_, err := fetch.Fetch(context.Background(), url, dest, tt.opts)
				if err == nil {
					t.Fatal("Fetch succeeded, want an error")
				}
				if !strings.HasPrefix(err.Error(), "fetch "+url+": ") {
					t.Errorf("error %q does not start with the URL", err)
				}
				tt.check(t, err, url)
				onlyDest(t, dir, want...)
				if existing {
					if b, _ := os.ReadFile(dest); string(b) != "previous" {
						t.Errorf("dest changed to %q", b)
					}
				}
			}
		})
	}
}

func TestFetchStoresBytesAsServed(t *testing.T) {
	// A server that sends a .tar.gz with Content-Encoding: gzip whenever the client accepts
	// gzip: Go's transport would unzip it unless Fetch asks for the identity encoding.
	gz := gzipBytes(t, []byte("inner tar bytes"))
	s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			w.Header().Set("Content-Encoding", "gzip")
		}
		w.Write(gz)
	})
	dest := filepath.Join(t.TempDir(), "x.tar.gz")
	if _, err := fetch.Fetch(context.Background(), s.URL+"/x.tar.gz", dest, fetch.Options{MD5: md5hex(gz)}); err != nil {
		t.Fatal(err)
	}
}

func TestFetchCanceled(t *testing.T) {
	started := make(chan struct{})
	release := make(chan struct{})
	s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000000")
		w.Write(make([]byte, 1000))
		w.(http.Flusher).Flush()
		close(started)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-started; cancel() }()
	_, err := fetch.Fetch(ctx, s.URL+"/f.tar.gz", filepath.Join(dir, "f.tar.gz"), fetch.Options{})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v, want context.Canceled", err)
	}
	onlyDest(t, dir)
}

func TestFetchLocal(t *testing.T) {
	body := []byte("a local image tarball")
	dir := t.TempDir()
	src := writeFile(t, filepath.Join(dir, "src", "image.tar.xz"), body)
	for _, url := range []string{src, "file://" + src, "file://localhost" + src} {
		dest := filepath.Join(dir, "cache", "image.tar.xz")
		os.Remove(dest)
		res, err := fetch.Fetch(context.Background(), url, dest, fetch.Options{MD5: md5hex(body)})
		if err != nil {
			t.Fatal(err)
		}
		if !res.Downloaded || res.SHA256 != sha256hex(body) {
			t.Errorf("%s: %+v", url, res)
		}
		if b, _ := os.ReadFile(dest); !bytes.Equal(b, body) {
			t.Errorf("%s: dest = %q", url, b)
		}
	}
	// Verified too.
	dest := filepath.Join(dir, "other", "image.tar.xz")
	_, err := fetch.Fetch(context.Background(), src, dest, fetch.Options{SHA256: sha256hex([]byte("other"))})
	if !errors.Is(err, fetch.ErrChecksum) {
		t.Errorf("error = %v, want a checksum mismatch", err)
	}
	onlyDest(t, filepath.Dir(dest))
	// Missing source.
	_, err = fetch.Fetch(context.Background(), filepath.Join(dir, "nope"), dest, fetch.Options{})
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("error = %v, want not exist", err)
	}
}

func TestFetchBadArguments(t *testing.T) {
	dest := filepath.Join(t.TempDir(), "f")
	tests := []struct {
		url  string
		opts fetch.Options
		want string
	}{
		{"ftp://example.com/f.tar.gz", fetch.Options{}, `unsupported URL: scheme "ftp"`},
		{"file://otherhost/f.tar.gz", fetch.Options{}, "unsupported URL"},
		{"", fetch.Options{}, "unsupported URL"},
		{"/x", fetch.Options{MD5: "abc"}, `invalid md5 "abc"`},
		{"/x", fetch.Options{SHA256: strings.Repeat("g", 64)}, "invalid sha256"},
	}
	for _, tt := range tests {
		_, err := fetch.Fetch(context.Background(), tt.url, dest, tt.opts)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Fetch(%q, %+v) error = %v, want %q", tt.url, tt.opts, err, tt.want)
		}
	}
}

func TestFetchConcurrentSameDest(t *testing.T) {
	body := bytes.Repeat([]byte("0123456789abcdef"), 200_000)
	s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(50 * time.Millisecond) // keep the first download in flight while the others start
		serveBytes(body)(w, r)
	})
	dir := t.TempDir()
	dest := filepath.Join(dir, "file.tar.gz")
	var wg sync.WaitGroup
	errs := make([]error, 8)
	downloaded := make([]bool, 8)
	for i := range errs {
		wg.Go(func() {
			res, err := fetch.Fetch(context.Background(), s.URL+"/file.tar.gz", dest, fetch.Options{MD5: md5hex(body)})
			errs[i], downloaded[i] = err, res.Downloaded
		})
	}
	wg.Wait()
	n := 0
	for i, err := range errs {
		if err != nil {
			t.Errorf("fetch %d: %v", i, err)
		}
		if downloaded[i] {
			n++
		}
	}
	// The lock makes the others wait and then reuse the verified file.
	if n != 1 || s.hits.Load() != 1 {
		t.Errorf("%d fetches downloaded, server hit %d times; want 1 and 1", n, s.hits.Load())
	}
	if got, _ := fetch.FileMD5(dest); got != md5hex(body) {
		t.Errorf("dest md5 %s", got)
	}
	onlyDest(t, dir, "file.tar.gz")
}

func TestFetchLockHonoursContext(t *testing.T) {
	// A dest locked by someone else: Fetch waits until ctx ends.
	dir := t.TempDir()
	dest := filepath.Join(dir, "f")
	l, err := os.OpenFile(dest+".lock", os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	flock(t, l)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err = fetch.Fetch(ctx, "/nonexistent", dest, fetch.Options{})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error = %v, want the deadline", err)
	}
}

func TestHashes(t *testing.T) {
	// Digests from md5sum and sha256sum.
	const wantMD5 = "17b31dce96b9d6c6d0a6ba95f47796fb"
	const wantSHA256 = "eb201af5aaf0d60629d3d2a61e466cfc0fedb517add831ecac5235e1daa963d6"
	p := writeFile(t, filepath.Join(t.TempDir(), "f"), []byte("hash me"))
	sums, err := fetch.HashFile(p)
	if err != nil || sums != (fetch.Sums{MD5: wantMD5, SHA256: wantSHA256}) {
		t.Errorf("HashFile = %+v, %v", sums, err)
	}
	if got, err := fetch.FileMD5(p); err != nil || got != wantMD5 {
		t.Errorf("FileMD5 = %s, %v", got, err)
	}
	if got, err := fetch.FileSHA256(p); err != nil || got != wantSHA256 {
		t.Errorf("FileSHA256 = %s, %v", got, err)
	}
	if _, err := fetch.FileMD5(filepath.Join(t.TempDir(), "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}
