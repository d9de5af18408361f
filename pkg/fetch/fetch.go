package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Options configure [Fetch].
type Options struct {
	// MD5 is the expected hex MD5 of the file (either case); empty means it is not checked.
	MD5 string
	// SHA256 is the expected hex SHA-256 of the file; empty means it is not checked.
	SHA256 string
	// Client fetches http(s) URLs; nil means a client on http.DefaultTransport with no overall
	// timeout (cancel ctx to stop a download).
	Client *http.Client
	// Progress, when set, receives one-line status messages ("downloading ...", "downloaded ...").
	Progress io.Writer
}

// Result describes the file at the destination after [Fetch].
type Result struct {
	Path       string // the destination
	MD5        string // lower-case hex MD5 of the file at Path
	SHA256     string // lower-case hex SHA-256 of the file at Path
	Downloaded bool   // whether Path was (re)written; false when an existing file was reused
}

// Fetch makes dest a verified copy of the file at rawURL, which is an http:// or https:// URL, a
// file:// URL or a plain path.
//
// If dest already exists it is reused when it matches every checksum given in opts, or when
// opts gives none (as the original did: only a checksum can tell a stale cache). Otherwise the
// file is fetched into a temporary file in dest's directory (created if missing) while being
// hashed, synced, checked against opts.MD5 and opts.SHA256 and renamed over dest. On any error
// the temporary file is removed and dest is left as it was; a checksum mismatch is a
// [*ChecksumError] naming the URL, the expected and the actual sum, and an HTTP status other
// than 2xx is a [*StatusError]. Fetches of the same dest are serialised with an flock on
// "<dest>.lock", which is left in place. The HTTP request asks for the identity encoding, so
// the bytes saved are the bytes the server stores.
func Fetch(ctx context.Context, rawURL, dest string, opts Options) (Result, error) {
	res, err := fetch(ctx, rawURL, dest, opts)
	if err != nil {
		return Result{}, fmt.Errorf("fetch %s: %w", Redact(rawURL), err)
	}
	return res, nil
}

func fetch(ctx context.Context, rawURL, dest string, opts Options) (Result, error) {
	w, err := parseWant(opts.MD5, opts.SHA256)
	if err != nil {
		return Result{}, err
	}
	src, err := parseSource(rawURL)
	if err != nil {
		return Result{}, err
	}
	if dest == "" {
		return Result{}, errors.New("empty destination")
	}
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return Result{}, err
	}
	unlock, err := lockFile(ctx, dest+".lock")
	if err != nil {
		return Result{}, err
	}
	defer unlock()

	// Reuse the file at dest when it is good enough.
	fi, err := os.Stat(dest)
	switch {
	case err == nil && !fi.Mode().IsRegular():
		return Result{}, fmt.Errorf("destination %s is not a regular file", dest)
	case err == nil:
		sums, err := HashFile(dest)
		if err != nil {
			return Result{}, err
		}
		if w.check(Redact(rawURL), sums) == nil {
			progressf(opts.Progress, "using %s (%d bytes, md5 %s)\n", dest, fi.Size(), sums.MD5)
			return Result{Path: dest, MD5: sums.MD5, SHA256: sums.SHA256}, nil
		}
		progressf(opts.Progress, "%s does not match the expected checksum; fetching it again\n", dest)
	case !errors.Is(err, fs.ErrNotExist):
		return Result{}, err
	}

	sums, err := download(ctx, src, rawURL, dest, w, opts)
	if err != nil {
		return Result{}, err
	}
	return Result{Path: dest, MD5: sums.MD5, SHA256: sums.SHA256, Downloaded: true}, nil
}

// source is where a file comes from: an http(s) URL or a local path.
type source struct {
	httpURL string // set for http and https
	path    string // set for file:// URLs and plain paths
}

func parseSource(rawURL string) (source, error) {
	if rawURL == "" {
		return source{}, fmt.Errorf("%w: empty", ErrUnsupportedURL)
	}
	if !strings.Contains(rawURL, "://") {
		return source{path: rawURL}, nil
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return source{}, err
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		if u.Host == "" {
			return source{}, fmt.Errorf("%w: no host", ErrUnsupportedURL)
		}
		return source{httpURL: rawURL}, nil
	case "file":
		if u.Host != "" && u.Host != "localhost" {
			return source{}, fmt.Errorf("%w: file URL with host %q", ErrUnsupportedURL, u.Host)
		}
		if u.Path == "" {
			return source{}, fmt.Errorf("%w: file URL without a path", ErrUnsupportedURL)
		}
		return source{path: u.Path}, nil
	default:
		return source{}, fmt.Errorf("%w: scheme %q", ErrUnsupportedURL, u.Scheme)
	}
}

// download writes src to a temporary file beside dest, verifies it and renames it to dest.
func download(ctx context.Context, src source, rawURL, dest string, w want, opts Options) (_ Sums, err error) {
	tmp, err := os.CreateTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".part-*")
	if err != nil {
		return Sums{}, err
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()

	h := newHasher()
	start := time.Now()
	var n int64
	if src.httpURL != "" {
		n, err = copyHTTP(ctx, src.httpURL, io.MultiWriter(tmp, h), dest, opts)
	} else {
		n, err = copyFile(ctx, src.path, io.MultiWriter(tmp, h), dest, opts)
	}
	if err != nil {
		return Sums{}, err
	}
	if err := tmp.Sync(); err != nil {
		return Sums{}, err
	}
	if err := tmp.Close(); err != nil {
		return Sums{}, err
	}
	sums := h.sums()
	if err := w.check(Redact(rawURL), sums); err != nil {
		return Sums{}, err
	}
	// CreateTemp makes the file 0600; the cache is world-readable as the original's was.
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return Sums{}, err
	}
	if err := os.Rename(tmp.Name(), dest); err != nil {
		return Sums{}, err
	}
	syncDir(filepath.Dir(dest))
	progressf(opts.Progress, "fetched %d bytes in %.1fs, md5 %s\n", n, time.Since(start).Seconds(), sums.MD5)
	return sums, nil
}

func copyHTTP(ctx context.Context, u string, w io.Writer, dest string, opts Options) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, err
	}
	// Ask for the stored bytes: with Go's default "gzip", a server that labels a .tar.gz
	// Content-Encoding: gzip would have it transparently decompressed.
	req.Header.Set("Accept-Encoding", "identity")
	client := opts.Client
	if client == nil {
		client = &http.Client{}
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return 0, &StatusError{URL: Redact(u), StatusCode: resp.StatusCode, Status: resp.Status}
	}
	if resp.ContentLength >= 0 {
		progressf(opts.Progress, "downloading %s to %s (%d bytes)\n", Redact(u), dest, resp.ContentLength)
	} else {
		progressf(opts.Progress, "downloading %s to %s\n", Redact(u), dest)
	}
	n, err := io.CopyBuffer(w, resp.Body, make([]byte, copyBufSize))
	if err != nil {
		return n, fmt.Errorf("read body after %d bytes: %w", n, err)
	}
	return n, nil
}

func copyFile(ctx context.Context, path string, w io.Writer, dest string, opts Options) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	if !fi.Mode().IsRegular() {
		return 0, fmt.Errorf("%s is not a regular file", path)
	}
	progressf(opts.Progress, "copying %s to %s (%d bytes)\n", path, dest, fi.Size())
	return io.CopyBuffer(w, ctxReader{ctx, f}, make([]byte, copyBufSize))
}

// ctxReader fails reads once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (r ctxReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(p)
}

func progressf(w io.Writer, format string, args ...any) {
	if w != nil {
		fmt.Fprintf(w, format, args...)
	}
}

// syncDir fsyncs a directory so a rename in it survives a crash; errors are ignored because
// the rename itself has already succeeded.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}

// Redact returns rawURL with the password of its user info, if any, replaced by "xxxxx", for
// messages and logs: a URL such as https://user:token@host/x must not print its token.
func Redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.User == nil {
		return rawURL
	}
	return u.Redacted()
}
