//go:build linux

package builder

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
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
	mps, err := mountsBelow(p)
	return err == nil && len(mps) > 0 && mps[len(mps)-1] == p
}

// mountsBelow lists the mount points at or under dir, deepest first.
func mountsBelow(dir string) ([]string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		mp := unescapeMountinfo(fields[4])
		if mp == dir || strings.HasPrefix(mp, dir+"/") {
			out = append(out, mp)
		}
	}
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out, sc.Err()
}

// unescapeMountinfo decodes the octal escapes (\040 for a space) of /proc/self/mountinfo.
func unescapeMountinfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
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
