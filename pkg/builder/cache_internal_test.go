package builder

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/vr-paas/vr/pkg/testutil"
)

// tree lists the entries under dir as "path:content" (files), "path/" (dirs) and
// "path->target" (symlinks), sorted.
func tree(t testing.TB, dir string) string {
	t.Helper()
	var out []string
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		switch {
		case rel == ".":
		case fi.IsDir():
			out = append(out, rel+"/")
		case fi.Mode()&os.ModeSymlink != 0:
			l, _ := os.Readlink(p)
			out = append(out, rel+"->"+l)
		default:
			b, _ := os.ReadFile(p)
			out = append(out, rel+":"+string(b))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

func write(t testing.TB, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func testCacheStore(t *testing.T, copyOnly bool) {
	testutil.RequireRoot(t)
	c := &cacheStore{dir: filepath.Join(t.TempDir(), "cache", "app-x"), copyOnly: copyOnly}
	work := t.TempDir()
	mnt := filepath.Join(work, "cache")
	session := func() *cacheSession {
		t.Helper()
		s, err := c.restore(mnt, 4321, 4322)
		if err != nil {
			t.Fatal(err)
		}
		if s.overlay == copyOnly {
			t.Fatalf("overlay = %v with copyOnly %v", s.overlay, copyOnly)
		}
		return s
	}
	commit := func(s *cacheSession) cacheResult {
		t.Helper()
		r, err := s.commit()
		if err != nil {
			t.Fatal(err)
		}
		if isMountPoint(mnt) || exists(mnt) && !copyOnly && tree(t, mnt) != "" {
			t.Fatalf("mount point left in use")
		}
		return r
	}

	// An empty cache: CACHE_DIR exists, owned by the build user.
	s := session()
	bc := s.Dir()
	fi, err := os.Stat(bc)
	if err != nil || fi.Sys().(*syscall.Stat_t).Uid != 4321 {
		t.Fatalf("buildpack_cache: %v %v", fi, err)
	}
	write(t, filepath.Join(bc, "a"), "A")
	write(t, filepath.Join(bc, "d", "x"), "X")
	write(t, filepath.Join(bc, "d", "y"), "Y")
	if err := os.Symlink("d/x", filepath.Join(bc, "l")); err != nil {
		t.Fatal(err)
	}
	if r := commit(s); !r.Changed {
		t.Errorf("first commit: %+v", r)
	}
	want := "buildpack_cache/ buildpack_cache/a:A buildpack_cache/d/ buildpack_cache/d/x:X buildpack_cache/d/y:Y buildpack_cache/l->d/x"

	// Restored as it was; deletions, a replaced directory and a new file are kept.
	s = session()
	if got := tree(t, mnt); got != want {
		t.Fatalf("restored:\n%s\nwant\n%s", got, want)
	}
	must(t, os.Remove(filepath.Join(bc, "a")))
	must(t, os.RemoveAll(filepath.Join(bc, "d")))
	write(t, filepath.Join(bc, "d", "z"), "Z")
	write(t, filepath.Join(bc, "b"), "B")
	commit(s)
	want = "buildpack_cache/ buildpack_cache/b:B buildpack_cache/d/ buildpack_cache/d/z:Z buildpack_cache/l->d/x"
	s = session()
	if got := tree(t, mnt); got != want {
		t.Fatalf("after changes:\n%s\nwant\n%s", got, want)
	}

	// A discarded (failed) build changes nothing; an unchanged one adds no layer.
	write(t, filepath.Join(bc, "poison"), "P")
	must(t, os.Remove(filepath.Join(bc, "b")))
	must(t, s.discard())
	layers := len(c.load().Layers)
	s = session()
	if got := tree(t, mnt); got != want {
		t.Fatalf("after a discarded build:\n%s\nwant\n%s", got, want)
	}
	if r := commit(s); (r.Changed && !copyOnly) || len(c.load().Layers) != layers {
		t.Errorf("unchanged commit: %+v, %d layers (was %d)", r, len(c.load().Layers), layers)
	}

	// Many changing builds: the layers get merged, by hard links.
	for i := range 10 {
		s = session()
		write(t, filepath.Join(bc, fmt.Sprintf("f%d", i)), "F")
		if i == 5 {
			must(t, os.Remove(filepath.Join(bc, "f2")))
		}
		commit(s)
	}
	m := c.load()
	if len(m.Layers) > maxCacheLayers {
		t.Errorf("%d layers after 10 more builds", len(m.Layers))
	}
	ents, _ := os.ReadDir(c.layersDir())
	if len(ents) != len(m.Layers) {
		t.Errorf("%d layer folders for %d layers", len(ents), len(m.Layers))
	}
	s = session()
	got := tree(t, mnt)
	for _, w := range []string{"buildpack_cache/b:B", "buildpack_cache/d/z:Z", "buildpack_cache/f0:F", "buildpack_cache/f9:F", "buildpack_cache/l->d/x"} {
		if !strings.Contains(got, w) {
			t.Errorf("after merging, %s is missing: %s", w, got)
		}
	}
	if strings.Contains(got, "f2:") || strings.Contains(got, "poison") {
		t.Errorf("after merging: %s", got)
	}
	must(t, s.discard())

	// Another build user: the cache is given to it.
	s, err = c.restore(mnt, 777, 778)
	if err != nil {
		t.Fatal(err)
	}
	fi, _ = os.Lstat(filepath.Join(s.Dir(), "b"))
	if fi.Sys().(*syscall.Stat_t).Uid != 777 {
		t.Errorf("cache not given to the new user")
	}
	must(t, s.discard())
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

func TestCacheOverlay(t *testing.T)      { testCacheStore(t, false) }
func TestCacheCopyFallback(t *testing.T) { testCacheStore(t, true) }

func TestMergeLayersSharesInodes(t *testing.T) {
	testutil.RequireRoot(t)
	c := &cacheStore{dir: t.TempDir()}
	mnt := filepath.Join(t.TempDir(), "m")
	s, err := c.restore(mnt, 1, 1)
	must(t, err)
	write(t, filepath.Join(s.Dir(), "big"), strings.Repeat("x", 1<<20))
	_, err = s.commit()
	must(t, err)
	first := c.load().Layers[0]
	var before syscall.Stat_t
	must(t, syscall.Stat(filepath.Join(c.layer(first), cacheBuildpackDir, "big"), &before))
	m, err := c.merge(c.load())
	must(t, err)
	var after syscall.Stat_t
	must(t, syscall.Stat(filepath.Join(c.layer(m.Layers[0]), cacheBuildpackDir, "big"), &after))
	if before.Ino != after.Ino {
		t.Errorf("merge copied the file (inode %d → %d)", before.Ino, after.Ino)
	}
}
