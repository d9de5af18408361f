// Package image keeps unpacked OS images ("stacks") on a host, shared by every proc and build
// that runs over them: the tarball at <Dir>/<name>/<basename of URL> and its contents under
// <Dir>/<name>/, after the original's layout (/apps/images/<image_name>/...).
//
// Unlike the original, which never refreshed an image once unpacked, Ensure unpacks the image
// again when its MD5 (or, without one, its URL) changes. Each version is unpacked into its own
// directory, <Dir>/<name>/contents-<first 12 hex digits of the tarball's MD5>, and
// <Dir>/<name>/contents is a symlink to the current one, switched atomically (a new symlink
// renamed over it). Ensure returns the versioned directory itself, so a proc or build that
// mounts it as its overlay lower directory keeps the version it started with even when the
// image is refreshed under it: Ensure never removes a version. Versions that no proc uses any
// more are left for a cleanup command to remove (nothing in this package does; a version is
// in use while any overlay mount names it as a lower directory). What was unpacked is recorded
// in <Dir>/<name>/image.json.
//
// Images unpacked before versioning have a real directory at <Dir>/<name>/contents. It is used
// as it is while it stays current; when a new version is unpacked, it is renamed to
// contents-legacy-<UTC time> (never removed) and the symlink takes its place.
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
	"time"

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
	// Dir is the versioned directory (e.g. "contents-0123456789ab", relative to the image's
	// folder) that contents pointed to when this was written; empty for a legacy contents
	// directory.
	Dir string `json:"dir,omitempty"`
}

const (
	contentsName = "contents"             // the symlink to the current version (or a legacy directory)
	versionPre   = contentsName + "-"     // versioned directories: contents-<md5 prefix>
	legacyPre    = versionPre + "legacy-" // a legacy directory moved aside
	newLinkName  = ".contents.new"        // the next symlink, before it is renamed over contents
)

// Contents returns the path of an image's current contents: a symlink to the current version
// (a directory for an image unpacked before versioning). Mount what [Store.Ensure] returns, not
// this, to keep a version for as long as a mount uses it.
func (s *Store) Contents(name string) string { return filepath.Join(s.Dir, name, contentsName) }

// Ensure makes sure the image's contents are unpacked and current, and returns their
// directory: the current version's contents-<md5> directory (not the contents symlink), or a
// legacy contents directory that is still current. The tarball is downloaded once (and again
// when image_md5 no longer matches it); a version is unpacked when the tarball now asked for
// differs from the one contents came from, unless its directory exists already, and contents
// is then switched to it. Earlier versions are kept. A failed download, checksum or unpack
// leaves contents as it was. Concurrent calls for the same image on one host wait for each other. Device nodes in
// the image are kept; path escapes are refused.
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

	want := state{URL: img.URL, MD5: strings.ToLower(img.MD5)}
	if have, ok := s.readState(dir); ok && have.URL == want.URL && (want.MD5 == "" || have.MD5 == want.MD5) {
		if have.Dir == "" {
			have.Dir = contentsName // written before versioning: contents is a directory
		}
		if cur, err := current(dir); err == nil && cur == have.Dir {
			p := filepath.Join(dir, cur)
			s.say("OS image directory %s exists and is current", p)
			return p, nil
		}
	}

	tarball := filepath.Join(dir, base)
	s.say("Ensuring presence of %s", img.URL)
	res, err := fetch.Fetch(ctx, img.URL, tarball, fetch.Options{MD5: img.MD5, Client: s.Client, Progress: s.Progress})
	if err != nil {
		return "", fmt.Errorf("image %s: %w", img.Name, err)
	}
	if len(res.MD5) < 12 {
		return "", fmt.Errorf("image %s: unexpected md5 %q", img.Name, res.MD5)
	}
	version := versionPre + res.MD5[:12]
	vdir := filepath.Join(dir, version)
	switch fi, err := os.Lstat(vdir); {
	case err == nil && fi.IsDir():
		// Unpacked before (Extract renames a complete tree into place), e.g. when going back
		// to an earlier version: reused, as procs may still run over it.
		s.say("Using %s, unpacked before", vdir)
	case err == nil:
		return "", fmt.Errorf("image %s: %s exists and is not a directory", img.Name, vdir)
	case errors.Is(err, fs.ErrNotExist):
		s.say("Unpacking %s to %s", tarball, vdir)
		if err := fetch.Extract(ctx, tarball, vdir, fetch.ExtractOptions{AllowDevices: true}); err != nil {
			return "", fmt.Errorf("image %s: %w", img.Name, err)
		}
	default:
		return "", fmt.Errorf("image %s: %w", img.Name, err)
	}
	if err := fixResolvConf(vdir); err != nil {
		return "", fmt.Errorf("image %s: %w", img.Name, err)
	}
	if err := s.switchTo(dir, version); err != nil {
		return "", fmt.Errorf("image %s: %w", img.Name, err)
	}
	data, _ := json.Marshal(state{URL: img.URL, MD5: res.MD5, Dir: version})
	if err := schema.WriteFileAtomic(filepath.Join(dir, "image.json"), append(data, '\n'), 0o644); err != nil {
		return "", fmt.Errorf("image %s: %w", img.Name, err)
	}
	return vdir, nil
}

// current returns the directory dir/contents stands for, relative to dir: the version
// directory it links to, or "contents" itself for a legacy directory. Anything else is an
// error.
func current(dir string) (string, error) {
	p := filepath.Join(dir, contentsName)
	fi, err := os.Lstat(p)
	switch {
	case err != nil:
		return "", err
	case fi.IsDir():
		return contentsName, nil
	case fi.Mode()&fs.ModeSymlink == 0:
		return "", fmt.Errorf("%s is neither a directory nor a symlink", p)
	}
	target, err := os.Readlink(p)
	if err != nil {
		return "", err
	}
	if !strings.HasPrefix(target, versionPre) || strings.ContainsRune(target, '/') {
		return "", fmt.Errorf("%s points to %q, not to a version beside it", p, target)
	}
	if fi, err := os.Lstat(filepath.Join(dir, target)); err != nil {
		return "", err
	} else if !fi.IsDir() {
		return "", fmt.Errorf("%s points to %s, not a directory", p, target)
	}
	return target, nil
}

// switchTo points dir/contents at the version directory dir/version: a new symlink renamed
// over the old one, so that contents is always one version or the other. A legacy contents
// directory is first renamed to contents-legacy-<time>, never removed. The caller holds the
// image's lock.
func (s *Store) switchTo(dir, version string) error {
	link := filepath.Join(dir, contentsName)
	tmp := filepath.Join(dir, newLinkName)
	if err := os.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := os.Symlink(version, tmp); err != nil {
		return err
	}
	if fi, err := os.Lstat(link); err == nil && fi.IsDir() {
		legacy, err := legacyName(dir)
		if err != nil {
			_ = os.Remove(tmp)
			return err
		}
		if err := os.Rename(link, legacy); err != nil {
			_ = os.Remove(tmp)
			return err
		}
		s.say("Moved the contents unpacked before versioning to %s", legacy)
	}
	if err := os.Rename(tmp, link); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return nil
}

// legacyName returns an unused dir/contents-legacy-<UTC time> path.
func legacyName(dir string) (string, error) {
	base := filepath.Join(dir, legacyPre+time.Now().UTC().Format("20060102T150405Z"))
	p := base
	for i := 2; i < 100; i++ {
		if _, err := os.Lstat(p); errors.Is(err, fs.ErrNotExist) {
			return p, nil
		} else if err != nil {
			return "", err
		}
		p = fmt.Sprintf("%s-%d", base, i)
	}
	return "", fmt.Errorf("no unused name for %s", base)
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
// so that the host's can be bind-mounted over it, as the original did. Every path is resolved
// inside contents with [os.Root]: an image may hold any symlink (etc -> /etc), and following
// one on the host would replace the host's file. When etc/resolv.conf cannot be reached
// without leaving the image (etc links outside it), there is nothing to fix here.
func fixResolvConf(contents string) error {
	root, err := os.OpenRoot(contents)
	if err != nil {
		return err
	}
	defer root.Close()
	const name = "etc/resolv.conf"
	fi, err := root.Lstat(name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		if efi, lerr := root.Lstat("etc"); lerr == nil && efi.Mode()&fs.ModeSymlink != 0 {
			return nil // etc leads out of the image (os.Root refuses to follow it)
		}
		return err
	case fi.Mode()&fs.ModeSymlink == 0:
		return nil
	}
	if err := root.Remove(name); err != nil {
		return err
	}
	f, err := root.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	return f.Close()
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
