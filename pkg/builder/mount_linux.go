//go:build linux

package builder

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/vr-paas/vr/pkg/mountinfo"
)

// mountOverlay mounts an overlay of lowers (top first) with upper and work at mnt, with the
// features that would make an upper dir unusable as a later lower layer turned off. It is
// mounted "volatile" where the kernel has it (5.10+): overlayfs then does not sync the whole
// upper filesystem at unmount (which would flush every other process's dirty data too);
// commit fsyncs what the build changed instead.
func mountOverlay(mnt string, lowers []string, upper, work string) error {
	for _, p := range append([]string{mnt, upper, work}, lowers...) {
		if strings.ContainsAny(p, ",:\\") {
			return fmt.Errorf("overlay path %q contains ',', ':' or '\\'", p)
		}
	}
	opts := "lowerdir=" + strings.Join(lowers, ":") + ",upperdir=" + upper + ",workdir=" + work +
		",redirect_dir=off,metacopy=off,index=off,xino=off"
	if len(opts) >= 4000 {
		return fmt.Errorf("overlay options too long (%d bytes)", len(opts))
	}
	err := unix.Mount("overlay", mnt, "overlay", unix.MS_NODEV, opts+",volatile")
	if errors.Is(err, unix.EINVAL) {
		err = unix.Mount("overlay", mnt, "overlay", unix.MS_NODEV, opts)
	}
	if err != nil {
		return fmt.Errorf("mount overlay on %s: %w", mnt, err)
	}
	return nil
}

// unmount unmounts mnt, lazily when it is busy.
func unmount(mnt string) error {
	err := unix.Unmount(mnt, 0)
	if errors.Is(err, unix.EBUSY) {
		err = unix.Unmount(mnt, unix.MNT_DETACH)
	}
	if err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("unmount %s: %w", mnt, err)
	}
	return nil
}

// isMountPoint reports whether p is a mount point of this process's mount namespace.
func isMountPoint(p string) bool {
	mps, err := mountinfo.Below(p)
	return err == nil && slices.Contains(mps, p)
}

// mountsBelow lists the mount points at or under dir, longest path (deepest) first.
func mountsBelow(dir string) ([]string, error) {
	mps, err := mountinfo.Below(dir)
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(mps, func(a, b string) int { return len(b) - len(a) })
	return mps, nil
}

// unmountBelow unmounts everything mounted at or under dir.
func unmountBelow(dir string) error {
	mps, err := mountsBelow(dir)
	if err != nil {
		return err
	}
	var errs []error
	for _, mp := range mps {
		errs = append(errs, unmount(mp))
	}
	return errors.Join(errs...)
}

// removeTree unmounts whatever is mounted under dir, then removes it.
func removeTree(dir string) error {
	if err := unmountBelow(dir); err != nil {
		return err
	}
	return os.RemoveAll(dir)
}

// isWhiteout reports whether the entry at p (with mode fi) is an overlayfs whiteout: a
// character device 0:0, or a file marked with the whiteout xattr.
func isWhiteout(p string, fi os.FileInfo) bool {
	if fi.Mode()&os.ModeCharDevice != 0 && fi.Mode()&os.ModeDevice != 0 {
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Rdev == 0 {
			return true
		}
	}
	if fi.Mode().IsRegular() && fi.Size() == 0 {
		return hasXattr(p, "trusted.overlay.whiteout")
	}
	return false
}

// isOpaque reports whether the directory at p is an overlayfs opaque directory.
func isOpaque(p string) bool {
	buf := make([]byte, 8)
	n, err := unix.Lgetxattr(p, "trusted.overlay.opaque", buf)
	return err == nil && n >= 1 && (buf[0] == 'y' || buf[0] == 'x')
}

func hasXattr(p, name string) bool {
	_, err := unix.Lgetxattr(p, name, nil)
	return err == nil
}

// syncFS flushes the filesystem holding dir (syncfs(2)).
func syncFS(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return unix.Syncfs(int(f.Fd()))
}
