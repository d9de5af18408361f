package builder

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/vr-paas/vr/pkg/schema"
)

// Purged is one build cache removed by PurgeCache.
type Purged struct {
	Dir   string // the cache folder
	Bytes int64  // bytes of the files it held (each inode counted once)
}

// PurgeCache removes the build caches of the app named app (one per app URL it was built
// from: Root/builder/cache/<app>-<md5>), with what a killed build of it left behind, and
// returns what it freed. It waits (at most Options.LockTimeout) for a running build of the
// app to finish. An app without a cache is not an error (nothing is returned).
func PurgeCache(ctx context.Context, app string, opts Options) ([]Purged, error) {
	if err := schema.ValidateAppName(app); err != nil {
		return nil, err
	}
	root, err := filepath.Abs(opts.Root)
	if err != nil || opts.Root == "" {
		return nil, fmt.Errorf("builder: bad Options.Root %q", opts.Root)
	}
	if opts.LockTimeout <= 0 {
		opts.LockTimeout = DefaultLockTimeout
	}
	say := func(format string, args ...any) {
		if opts.Log != nil {
			fmt.Fprintf(opts.Log, "-----> "+format+"\n", args...)
		}
	}
	base := filepath.Join(root, "builder")
	var names []string
	for _, sub := range []string{"cache", "work"} {
		ents, err := os.ReadDir(filepath.Join(base, sub))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		for _, e := range ents {
			// A purge killed between its rename and its removal left "<folder>.purge-<id>".
			n, _, _ := strings.Cut(e.Name(), ".purge-")
			if isAppFolder(n, app) && !contains(names, n) {
				names = append(names, n)
			}
		}
	}
	var out []Purged
	for _, name := range names {
		p := paths{root: base, app: name}
		lock, err := acquire(ctx, p.lock(p.cache()), "a build of "+app, opts.LockTimeout, say)
		if err != nil {
			return out, err
		}
		err = func() error {
			defer lock.Unlock()
			if opts.Backend != nil {
				if err := opts.Backend.Cleanup(ctx, containerName(name)); err != nil {
					return err
				}
			}
			if err := removeTree(p.work()); err != nil {
				return err
			}
			if err := unmountBelow(p.cache()); err != nil {
				return err
			}
			leftovers, _ := filepath.Glob(p.cache() + ".purge-*")
			for _, trash := range leftovers {
				size, _ := treeSize(trash)
				if err := os.RemoveAll(trash); err != nil {
					return err
				}
				out = append(out, Purged{Dir: trash, Bytes: size})
			}
			size, err := treeSize(p.cache())
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			if err != nil {
				return err
			}
			// Rename first, so that no build ever sees a half-removed cache.
			trash := p.cache() + ".purge-" + newID()
			if err := os.Rename(p.cache(), trash); err != nil {
				return err
			}
			if err := os.RemoveAll(trash); err != nil {
				return err
			}
			out = append(out, Purged{Dir: p.cache(), Bytes: size})
			return nil
		}()
		if err != nil {
			return out, fmt.Errorf("purge the build cache of %s: %w", app, err)
		}
	}
	return out, nil
}

// isAppFolder reports whether name is "<app>-<32 hex>".
func isAppFolder(name, app string) bool {
	rest, ok := strings.CutPrefix(name, app+"-")
	if !ok || len(rest) != 32 {
		return false
	}
	return strings.Trim(rest, "0123456789abcdef") == ""
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}
