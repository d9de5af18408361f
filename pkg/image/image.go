// Package image keeps unpacked OS images ("stacks") on a host, shared by every proc and build
// that runs over them: the tarball at <Dir>/<name>/<basename of URL> and its contents at
// <Dir>/<name>/contents, the original's layout (/apps/images/<image_name>/...).
//
// Unlike the original, which never refreshed an image once unpacked, Ensure replaces the
// contents when the image's MD5 (or, without one, its URL) changes, and records what it
// unpacked in <Dir>/<name>/image.json.
package image

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/vr-paas/vr/pkg/fetch"
	"github.com/vr-paas/vr/pkg/flock"
	"github.com/vr-paas/vr/pkg/schema"
)

// Store is the images directory of a host, normally $VR_ROOT/images.
type Store struct {
	Dir      string       // e.g. /apps/images
	Client   *http.Client // nil: fetch's default
	Progress io.Writer    // nil: silent; else one line per step
}

// Image is an image as its users name it (proc.yaml's and app.yaml's image_* keys).
type Image struct {
	Name string // image_name: the folder under Dir
	URL  string // image_url: http(s)://, file:// or a path
	MD5  string // image_md5: optional hex MD5 of the tarball
}

// state is what image.json records of the unpacked contents.
type state struct {
	URL string `json:"url"`
	MD5 string `json:"md5"`
}

// Contents returns the directory an image's contents are (or would be) unpacked in.
func (s *Store) Contents(name string) string { return filepath.Join(s.Dir, name, "contents") }

// Ensure makes sure the image's contents are unpacked and current, and returns their
// directory. The tarball is downloaded once (and again when image_md5 no longer matches it);
// the contents are unpacked when missing, or when the tarball they came from differs from the
// one now asked for. Concurrent calls for the same image on one host wait for each other.
// Device nodes in the image are kept; path escapes are refused.
func (s *Store) Ensure(ctx context.Context, img Image) (string, error) {
	if err := validName(img.Name); err != nil {
		return "", err
	}
	base, err := tarballName(img.URL)
	if err != nil {
		return "", fmt.Errorf("image %s: %w", img.Name, err)
	}
	dir := filepath.Join(s.Dir, img.Name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("image %s: %w", img.Name, err)
	}
	lock, err := flock.Acquire(ctx, filepath.Join(dir, ".lock"))
	if err != nil {
		return "", fmt.Errorf("image %s: %w", img.Name, err)
	}
	defer lock.Unlock()

	contents := s.Contents(img.Name)
	want := state{URL: img.URL, MD5: strings.ToLower(img.MD5)}
	if have, ok := s.readState(dir); ok && have.URL == want.URL && (want.MD5 == "" || have.MD5 == want.MD5) {
		if _, err := os.Stat(contents); err == nil {
			s.say("OS image directory %s exists and is current", contents)
			return contents, nil
		}
	}

	tarball := filepath.Join(dir, base)
	s.say("Ensuring presence of %s", img.URL)
	res, err := fetch.Fetch(ctx, img.URL, tarball, fetch.Options{MD5: img.MD5, Client: s.Client, Progress: s.Progress})
	if err != nil {
		return "", fmt.Errorf("image %s: %w", img.Name, err)
	}
	s.say("Unpacking %s to %s", tarball, contents)
	if err := fetch.Extract(ctx, tarball, contents, fetch.ExtractOptions{AllowDevices: true}); err != nil {
		return "", fmt.Errorf("image %s: %w", img.Name, err)
	}
	if err := fixResolvConf(contents); err != nil {
		return "", fmt.Errorf("image %s: %w", img.Name, err)
	}
	data, _ := json.Marshal(state{URL: img.URL, MD5: res.MD5})
	if err := schema.WriteFileAtomic(filepath.Join(dir, "image.json"), append(data, '\n'), 0o644); err != nil {
		return "", fmt.Errorf("image %s: %w", img.Name, err)
	}
	return contents, nil
}

func (s *Store) readState(dir string) (state, bool) {
	var st state
	b, err := os.ReadFile(filepath.Join(dir, "image.json"))
	if err != nil || json.Unmarshal(b, &st) != nil {
		return state{}, false
	}
	return st, true
}

func (s *Store) say(format string, args ...any) {
	if s.Progress != nil {
		fmt.Fprintf(s.Progress, format+"\n", args...)
	}
}

// fixResolvConf replaces a symlinked etc/resolv.conf (common in images) with an empty file,
// so that the host's can be bind-mounted over it, as the original did.
func fixResolvConf(contents string) error {
	p := filepath.Join(contents, "etc", "resolv.conf")
	fi, err := os.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		return err
	}
	if err := os.Remove(p); err != nil {
		return err
	}
	return os.WriteFile(p, nil, 0o644)
}

// validName refuses image names that would leave the images directory.
func validName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") {
		return fmt.Errorf("image name %q: expected a folder name (no '/', not empty)", name)
	}
	return nil
}

// tarballName is the file name the tarball is cached under: the URL's last path element.
func tarballName(raw string) (string, error) {
	p := raw
	if u, err := url.Parse(raw); err == nil && u.Scheme != "" {
		p = u.Path
	}
	b := path.Base(p)
	if b == "" || b == "." || b == "/" || b == ".." {
		return "", fmt.Errorf("image url %q: expected a URL or path ending in a tarball name", raw)
	}
	return b, nil
}
