package builder

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// copyOptions configure copyTree.
type copyOptions struct {
	// skip leaves out the entry at rel (slash-separated); a skipped directory is not entered.
	skip func(rel string, d fs.DirEntry) bool
	// uid and gid own every copy when uid >= 0 (else the copies belong to the caller).
	uid, gid int
	// mtime, when not zero, is the modification time of every copy (else the source's).
	mtime time.Time
	// keepOwner keeps the source's owner (when uid < 0; needs root).
	keepOwner bool
}

// copyTree copies the tree at src to dst, which must not exist: directories, regular files
// (contents copied, in-kernel when possible) and symlinks (as symlinks, never followed).
// Permission bits are kept; setuid, setgid and sticky bits, devices, fifos and sockets are
// not. Hard links become separate files.
func copyTree(src, dst string, o copyOptions) error {
	type dirTime struct {
		path string
		t    time.Time
	}
	var dirs []dirTime
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		if rel != "." && o.skip != nil && o.skip(filepath.ToSlash(rel), d) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		target := filepath.Join(dst, rel)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		mt := fi.ModTime()
		if !o.mtime.IsZero() {
			mt = o.mtime
		}
		switch {
		case d.IsDir():
			if err := os.Mkdir(target, fi.Mode().Perm()|0o700); err != nil {
				return err
			}
			if err := os.Chmod(target, fi.Mode().Perm()); err != nil {
				return err
			}
			dirs = append(dirs, dirTime{target, mt})
		case fi.Mode().IsRegular():
			if err := copyFile(p, target, fi.Mode().Perm()); err != nil {
				return err
			}
		case fi.Mode()&fs.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			if err := os.Symlink(link, target); err != nil {
				return err
			}
		default:
			return nil // devices, fifos, sockets
		}
		if err := chownLike(target, fi, o); err != nil {
			return err
		}
		if !d.IsDir() {
			return lchtimes(target, mt)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("copy %s to %s: %w", src, dst, err)
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		if err := lchtimes(dirs[i].path, dirs[i].t); err != nil {
			return fmt.Errorf("copy %s to %s: %w", src, dst, err)
		}
	}
	return nil
}

func chownLike(target string, fi fs.FileInfo, o copyOptions) error {
	switch {
	case o.uid >= 0:
		return os.Lchown(target, o.uid, o.gid)
	case o.keepOwner:
		if uid, gid, ok := owner(fi); ok {
			return os.Lchown(target, uid, gid)
		}
	}
	return nil
}

// copyFile copies the regular file src to the new file dst with mode perm.
func copyFile(src, dst string, perm fs.FileMode) error {
	in, err := os.OpenFile(src, os.O_RDONLY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		_ = out.Close()
		return err
	}
	if err := out.Chmod(perm); err != nil { // the umask may have narrowed it
		_ = out.Close()
		return err
	}
	return out.Close()
}

// lchtimes sets the access and modification times of p without following a symlink.
func lchtimes(p string, t time.Time) error {
	ts := unix.NsecToTimespec(t.UnixNano())
	return unix.UtimesNanoAt(unix.AT_FDCWD, p, []unix.Timespec{ts, ts}, unix.AT_SYMLINK_NOFOLLOW)
}

// chownTree gives the tree at dir (not following symlinks) to uid:gid.
func chownTree(dir string, uid, gid int) error {
	return filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
}

// treeSize returns the bytes of the regular files under dir, counting each inode once.
func treeSize(dir string) (int64, error) {
	seen := map[[2]uint64]bool{}
	var total int64
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if id, ok := inode(fi); ok {
			if seen[id] {
				return nil
			}
			seen[id] = true
		}
		total += fi.Size()
		return nil
	})
	return total, err
}
