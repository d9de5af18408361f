package imager

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"time"
)

func sortStrings(s []string) { slices.Sort(s) }

// newestModTime returns the newest modification time (whole seconds) of the entries below
// dir, dir itself excepted (an archive without a root entry leaves it at the time of
// extraction); the Unix epoch for an empty tree.
func newestModTime(dir string) (time.Time, error) {
	newest := time.Unix(0, 0)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == dir {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if mt := fi.ModTime().Truncate(time.Second); mt.After(newest) {
			newest = mt
		}
		return nil
	})
	return newest, err
}

// removeTree removes dir and everything below it; a missing dir is not an error. Directories
// without write or search permission are opened up first.
func removeTree(dir string) error {
	if err := os.RemoveAll(dir); err == nil {
		return nil
	}
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if d != nil && d.IsDir() {
			_ = os.Chmod(p, 0o700)
		}
		return nil
	})
	return os.RemoveAll(dir)
}

// prepareMountPoint makes name (slash-separated, relative to the image root rootfs) a regular
// file that a file can be bind-mounted on, and returns the function that puts back what was
// there before: an existing regular file is left alone; a symlink is replaced by an empty file
// and restored afterwards (target and owner); a missing file (and a missing parent directory)
// is created and removed afterwards. Every path is resolved inside rootfs (os.Root), so a
// hostile image cannot make it touch the host.
func prepareMountPoint(rootfs, name string) (restore func() error, err error) {
	r, err := os.OpenRoot(rootfs)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = r.Close()
		}
	}()
	dir := filepath.Dir(name)
	createFile := func() error {
		f, err := r.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return err
		}
		return f.Close()
	}

	fi, err := r.Lstat(name)
	switch {
	case err == nil && fi.Mode().IsRegular():
		_ = r.Close()
		return func() error { return nil }, nil

	case err == nil && fi.Mode()&fs.ModeSymlink != 0:
		target, err := r.Readlink(name)
		if err != nil {
			return nil, err
		}
		uid, gid := -1, -1
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			uid, gid = int(st.Uid), int(st.Gid)
		}
		if err := r.Remove(name); err != nil {
			return nil, err
		}
		if err := createFile(); err != nil {
			return nil, errors.Join(err, r.Symlink(target, name))
		}
		return once(r, func() error {
			if err := r.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
			if err := r.Symlink(target, name); err != nil {
				return err
			}
			return r.Lchown(name, uid, gid)
		}), nil

	case errors.Is(err, fs.ErrNotExist):
		createdDir := false
		if _, err := r.Lstat(dir); errors.Is(err, fs.ErrNotExist) {
			if err := r.Mkdir(dir, 0o755); err != nil {
				return nil, err
			}
			createdDir = true
		}
		if err := createFile(); err != nil {
			return nil, err
		}
		return once(r, func() error {
			if err := r.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
			if createdDir {
				_ = r.Remove(dir) // only if the script left it empty
			}
			return nil
		}), nil

	case err == nil:
		return nil, fmt.Errorf("/%s in the image is a %s, not a file", name, fi.Mode().Type())

	default:
		return nil, err
	}
}

// once wraps a restore function so that it runs at most once and closes r.
func once(r *os.Root, fn func() error) func() error {
	var o sync.Once
	var err error
	return func() error {
		o.Do(func() {
			err = fn()
			_ = r.Close()
		})
		return err
	}
}

// teeLog is the build log: the script's stdout and stderr, in the order they arrive, while
// they also go to the terminal.
type teeLog struct {
	mu  sync.Mutex
	f   *os.File
	err error
}

// tee returns a writer that writes to the log and to term (best effort: a terminal that
// fails never stops the log or the script).
func (l *teeLog) tee(term io.Writer) io.Writer {
	return teeWriter{l: l, term: term}
}

type teeWriter struct {
	l    *teeLog
	term io.Writer
}

func (t teeWriter) Write(p []byte) (int, error) {
	t.l.mu.Lock()
	if t.l.err == nil {
		_, t.l.err = t.l.f.Write(p)
	}
	if t.term != nil {
		_, _ = t.term.Write(p)
	}
	t.l.mu.Unlock()
	return len(p), nil
}

// finish syncs the log and renames it to path.
func (l *teeLog) finish(path string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	err := l.err
	if err == nil {
		err = l.f.Chmod(0o644)
	}
	if err == nil {
		err = l.f.Sync()
	}
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(l.f.Name(), path)
	}
	if err != nil {
		_ = os.Remove(l.f.Name())
		return fmt.Errorf("write log %s: %w", path, err)
	}
	return nil
}

// discard closes and removes the log (the build failed before the script ran).
func (l *teeLog) discard() {
	l.mu.Lock()
	defer l.mu.Unlock()
	_ = l.f.Close()
	_ = os.Remove(l.f.Name())
}
