package builder

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/vr-paas/vr/pkg/schema"
)

// The build cache of an app lives in Root/builder/cache/<app_name>-<md5 of the app URL> (the
// original's folder name) as a stack of layers, never modified once written:
//
//	cache.json           {"layers": ["<top>", ..., "<bottom>"]}: the current cache
//	layers/<id>/         one layer: a tree, or the changes of one build over the layers below
//	tmp/<id>/            a build's overlay upper and work directories while it runs
//
// A build gets an overlay mount of the layers plus an empty upper directory, so restoring a
// cache of any size is one mount and nothing is copied. The buildpack's CACHE_DIR is the
// directory buildpack_cache inside it (the original's nesting: some buildpacks rm -rf their
// cache dir, which fails on a mount point). When the build succeeds its upper directory (what
// it changed: new files, copies of modified ones, whiteouts for deletions) becomes a new top
// layer and cache.json is replaced atomically (rename); an unchanged cache costs nothing.
// When a build fails, is killed (even with SIGKILL) or the host crashes, cache.json still
// names the previous layers, which nothing wrote to: the previous cache is intact, and what
// the dead build left in tmp/ is removed by the next one. Past maxCacheLayers layers, a
// commit merges them into one by hard-linking (no file data is copied, and layers are never
// written to, so sharing inodes between them is safe).
//
// Where overlayfs is unavailable (the cache folder's filesystem cannot be an upper layer),
// the cache is copied in and out instead, which is correct but costs a full copy.
const (
	cacheManifest     = "cache.json"
	cacheBuildpackDir = "buildpack_cache"
	maxCacheLayers    = 8
)

// cacheStore is one app's build cache folder.
type cacheStore struct {
	dir string
	log io.Writer
	// copyOnly behaves as where overlayfs is unavailable (tests).
	copyOnly bool
}

type cacheManifestData struct {
	Layers []string `json:"layers"` // top first
}

// cacheSession is the cache of one running build.
type cacheSession struct {
	c       *cacheStore
	m       cacheManifestData
	mnt     string // what the build sees (an overlay mount, or a copy)
	tmp     string // c.dir/tmp/<id>
	overlay bool
	done    bool
}

// cacheResult says what a commit did.
type cacheResult struct {
	Changed bool // the build changed the cache (a layer was added)
	Entries int  // entries in the new layer
	Layers  int  // layers after the commit
	Merged  bool // the layers were merged into one
}

func (c *cacheStore) layersDir() string      { return filepath.Join(c.dir, "layers") }
func (c *cacheStore) tmpDir() string         { return filepath.Join(c.dir, "tmp") }
func (c *cacheStore) layer(id string) string { return filepath.Join(c.layersDir(), id) }

func (c *cacheStore) say(format string, args ...any) {
	if c.log != nil {
		fmt.Fprintf(c.log, format+"\n", args...)
	}
}

// load reads cache.json; a missing, unreadable or inconsistent one is an empty cache.
func (c *cacheStore) load() cacheManifestData {
	var m cacheManifestData
	data, err := os.ReadFile(filepath.Join(c.dir, cacheManifest))
	if errors.Is(err, fs.ErrNotExist) {
		return m
	}
	if err != nil || json.Unmarshal(data, &m) != nil {
		c.say("Build cache %s: unreadable %s; starting with an empty cache", c.dir, cacheManifest)
		return cacheManifestData{}
	}
	for _, id := range m.Layers {
		if id == "" || id != filepath.Base(id) || !isDir(c.layer(id)) {
			c.say("Build cache %s: layer %q is missing; starting with an empty cache", c.dir, id)
			return cacheManifestData{}
		}
	}
	return m
}

func (c *cacheStore) save(m cacheManifestData) error {
	data, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return schema.WriteFileAtomic(filepath.Join(c.dir, cacheManifest), append(data, '\n'), 0o644)
}

// gc removes the layers m does not name and everything in tmp/.
func (c *cacheStore) gc(m cacheManifestData) error {
	var errs []error
	ents, err := os.ReadDir(c.layersDir())
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	for _, e := range ents {
		if !slices.Contains(m.Layers, e.Name()) {
			errs = append(errs, os.RemoveAll(c.layer(e.Name())))
		}
	}
	errs = append(errs, removeTree(c.tmpDir()))
	return errors.Join(errs...)
}

// newID returns a new layer or session id: the time, then random digits.
func newID() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return strconv.FormatInt(time.Now().UnixNano(), 36) + "-" + hex.EncodeToString(b[:])
}

// restore makes the current cache available at mnt (an empty directory, or missing), with a
// buildpack_cache directory inside owned by uid:gid. The caller holds the app's lock.
func (c *cacheStore) restore(mnt string, uid, gid int) (*cacheSession, error) {
	for _, d := range []string{c.layersDir(), c.tmpDir()} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("build cache: %w", err)
		}
	}
	m := c.load()
	if err := c.gc(m); err != nil {
		return nil, fmt.Errorf("build cache: clean up: %w", err)
	}
	if err := os.MkdirAll(c.tmpDir(), 0o755); err != nil {
		return nil, fmt.Errorf("build cache: %w", err)
	}
	s := &cacheSession{c: c, m: m, mnt: mnt, tmp: filepath.Join(c.tmpDir(), newID())}
	if err := s.open(); err != nil {
		_ = s.discard()
		return nil, err
	}
	if err := s.ensureBuildpackDir(uid, gid); err != nil {
		_ = s.discard()
		return nil, err
	}
	return s, nil
}

// open mounts the overlay, or copies the cache when overlayfs cannot be used.
func (s *cacheSession) open() error {
	c := s.c
	upper, work := filepath.Join(s.tmp, "upper"), filepath.Join(s.tmp, "work")
	for _, d := range []string{upper, work, s.mnt} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("build cache: %w", err)
		}
	}
	lowers := make([]string, len(s.m.Layers))
	for i, id := range s.m.Layers {
		lowers[i] = c.layer(id)
	}
	if len(lowers) == 0 {
		empty := filepath.Join(s.tmp, "empty")
		if err := os.Mkdir(empty, 0o755); err != nil {
			return fmt.Errorf("build cache: %w", err)
		}
		lowers = []string{empty}
	}
	err := errors.New("copy mode asked for")
	if !c.copyOnly {
		err = mountOverlay(s.mnt, lowers, upper, work)
	}
	if err == nil {
		s.overlay = true
		return nil
	}
	// Copy instead: flatten the layers, then copy the one left.
	c.say("Build cache: overlayfs is not usable here (%v); copying the cache instead", err)
	if len(s.m.Layers) > 1 {
		m, err := c.merge(s.m)
		if err != nil {
			return err
		}
		s.m = m
	}
	if err := os.Remove(s.mnt); err != nil {
		return fmt.Errorf("build cache: %w", err)
	}
	if len(s.m.Layers) == 1 {
		if err := copyTree(c.layer(s.m.Layers[0]), s.mnt, copyOptions{uid: -1, keepOwner: true}); err != nil {
			return fmt.Errorf("build cache: %w", err)
		}
		return nil
	}
	return os.Mkdir(s.mnt, 0o755)
}

// ensureBuildpackDir makes mnt/buildpack_cache a directory owned by uid:gid (re-owning an
// existing one only when its owner differs, e.g. after a change of build user).
func (s *cacheSession) ensureBuildpackDir(uid, gid int) error {
	bc := filepath.Join(s.mnt, cacheBuildpackDir)
	fi, err := os.Lstat(bc)
	if err == nil && !fi.IsDir() {
		if err := os.RemoveAll(bc); err != nil {
			return fmt.Errorf("build cache: %w", err)
		}
		err = fs.ErrNotExist
	}
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.Mkdir(bc, 0o755); err != nil {
			return fmt.Errorf("build cache: %w", err)
		}
		return os.Lchown(bc, uid, gid)
	}
	if err != nil {
		return fmt.Errorf("build cache: %w", err)
	}
	if u, g, ok := owner(fi); ok && (u != uid || g != gid) {
		if err := chownTree(bc, uid, gid); err != nil {
			return fmt.Errorf("build cache: give it to the build user: %w", err)
		}
	}
	return nil
}

// Dir is CACHE_DIR on the host.
func (s *cacheSession) Dir() string { return filepath.Join(s.mnt, cacheBuildpackDir) }

// commit keeps what the build changed as the app's cache. Nothing may use the mount any
// more (the build container is gone).
func (s *cacheSession) commit() (cacheResult, error) {
	if s.done {
		return cacheResult{}, errors.New("build cache: session already closed")
	}
	s.done = true
	c := s.c
	defer os.RemoveAll(s.tmp) //nolint:errcheck // best effort; the next build's gc retries
	id := newID()
	var res cacheResult
	if s.overlay {
		if err := unmount(s.mnt); err != nil {
			return res, fmt.Errorf("build cache: %w", err)
		}
		upper := filepath.Join(s.tmp, "upper")
		n, err := countEntries(upper)
		if err != nil {
			return res, fmt.Errorf("build cache: %w", err)
		}
		if n == 0 {
			return cacheResult{Layers: len(s.m.Layers)}, nil
		}
		if err := syncTree(upper, n); err != nil {
			return res, fmt.Errorf("build cache: %w", err)
		}
		if err := os.Rename(upper, c.layer(id)); err != nil {
			return res, fmt.Errorf("build cache: %w", err)
		}
		res = cacheResult{Changed: true, Entries: n}
		s.m.Layers = append([]string{id}, s.m.Layers...)
	} else {
		if err := os.Rename(s.mnt, c.layer(id)); err != nil {
			if err := copyTree(s.mnt, c.layer(id), copyOptions{uid: -1, keepOwner: true}); err != nil {
				return res, fmt.Errorf("build cache: %w", err)
			}
			_ = os.RemoveAll(s.mnt)
		}
		if err := syncTree(c.layer(id), -1); err != nil {
			return res, fmt.Errorf("build cache: %w", err)
		}
		res = cacheResult{Changed: true}
		s.m.Layers = []string{id}
	}
	if err := c.save(s.m); err != nil {
		return res, fmt.Errorf("build cache: %w", err)
	}
	if len(s.m.Layers) > maxCacheLayers {
		m, err := c.merge(s.m)
		if err != nil {
			return res, err
		}
		s.m = m
		res.Merged = true
	}
	res.Layers = len(s.m.Layers)
	if err := c.gc(s.m); err != nil {
		return res, fmt.Errorf("build cache: clean up: %w", err)
	}
	return res, nil
}

// discard drops what the build changed; the cache stays as it was.
func (s *cacheSession) discard() error {
	if s.done {
		return nil
	}
	s.done = true
	var errs []error
	if s.overlay {
		errs = append(errs, unmount(s.mnt))
	} else {
		errs = append(errs, os.RemoveAll(s.mnt))
	}
	errs = append(errs, os.RemoveAll(s.tmp))
	return errors.Join(errs...)
}

// merge replaces the layers of m by one, made of hard links to their files, and returns
// the new manifest (already saved).
func (c *cacheStore) merge(m cacheManifestData) (cacheManifestData, error) {
	id := newID()
	if err := os.MkdirAll(c.tmpDir(), 0o755); err != nil {
		return m, fmt.Errorf("build cache: %w", err)
	}
	tmp := filepath.Join(c.tmpDir(), "merge-"+id)
	bottomFirst := make([]string, len(m.Layers))
	for i, l := range m.Layers {
		bottomFirst[len(m.Layers)-1-i] = c.layer(l)
	}
	if err := mergeLayers(tmp, bottomFirst); err != nil {
		_ = os.RemoveAll(tmp)
		return m, fmt.Errorf("build cache: merge layers: %w", err)
	}
	if err := os.Rename(tmp, c.layer(id)); err != nil {
		_ = os.RemoveAll(tmp)
		return m, fmt.Errorf("build cache: merge layers: %w", err)
	}
	merged := cacheManifestData{Layers: []string{id}}
	if err := c.save(merged); err != nil {
		return m, fmt.Errorf("build cache: %w", err)
	}
	return merged, nil
}

// mergeLayers builds at dst the tree an overlay of layers (bottom first) shows, with hard
// links to the layers' files: whiteouts delete, opaque directories hide what is below.
func mergeLayers(dst string, layers []string) error {
	if err := os.Mkdir(dst, 0o755); err != nil {
		return err
	}
	for _, l := range layers {
		err := filepath.WalkDir(l, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, err := filepath.Rel(l, p)
			if err != nil {
				return err
			}
			target := filepath.Join(dst, rel)
			fi, err := os.Lstat(p)
			if err != nil {
				return err
			}
			if rel == "." {
				return copyDirMeta(target, fi)
			}
			switch {
			case isWhiteout(p, fi):
				return os.RemoveAll(target)
			case fi.IsDir():
				tfi, err := os.Lstat(target)
				if err == nil && (!tfi.IsDir() || isOpaque(p)) {
					if err := os.RemoveAll(target); err != nil {
						return err
					}
					err = fs.ErrNotExist
				}
				if errors.Is(err, fs.ErrNotExist) {
					if err := os.Mkdir(target, 0o700); err != nil {
						return err
					}
				} else if err != nil {
					return err
				}
				return copyDirMeta(target, fi)
			default:
				if err := os.RemoveAll(target); err != nil {
					return err
				}
				return os.Link(p, target)
			}
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// copyDirMeta gives the directory at target the mode and owner of fi.
func copyDirMeta(target string, fi fs.FileInfo) error {
	if err := os.Chmod(target, fi.Mode()&(fs.ModePerm|fs.ModeSetgid|fs.ModeSticky)); err != nil {
		return err
	}
	if uid, gid, ok := owner(fi); ok {
		return os.Lchown(target, uid, gid)
	}
	return nil
}

// syncTree makes the tree at dir durable before cache.json names it: one fsync per file and
// directory when it has at most 256 entries (n; negative: unknown), else one syncfs of its
// filesystem, which is cheaper than thousands of fsyncs.
func syncTree(dir string, n int) error {
	if n < 0 || n > 256 {
		return syncFS(dir)
	}
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && !d.Type().IsRegular() {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		return f.Sync()
	})
}

// countEntries counts the entries under dir (not dir itself).
func countEntries(dir string) (int, error) {
	n := -1
	err := filepath.WalkDir(dir, func(string, fs.DirEntry, error) error {
		n++
		return nil
	})
	return n, err
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}
