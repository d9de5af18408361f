package fetch

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unsafe"

	"github.com/klauspost/pgzip"
	"golang.org/x/sys/unix"
)

// Owner is a numeric user and group id.
type Owner struct {
	UID, GID int
}

// ExtractOptions configure [Extract].
type ExtractOptions struct {
	// AllowDevices lets character devices, block devices and fifos be created (with mknod,
	// which needs root for devices), as OS images need. Without it such an entry fails the
	// extraction with [ErrDevice].
	AllowDevices bool

	// Owner, when set, owns every extracted entry and the destination directory itself,
	// instead of the ids stored in the archive, so callers never need a recursive chown. As
	// the original runner did for builds, directories also get ug+rx and regular files ug+rw.
	// Changing ownership needs root.
	Owner *Owner

	// MaxSize, when positive, limits the total size of the regular files in the archive. The
	// entry that would cross it fails with [ErrTooLarge] before anything of it is written.
	MaxSize int64
}

// Extract unpacks the tar archive at archivePath into destDir, replacing whatever destDir
// held before.
//
// The compression (gzip, bzip2, xz or none) is recognised from the archive's magic bytes; the
// name's suffix (.tar.gz, .tgz, .gz, .tar.bz2, .tbz2, .bz2, .tar.xz, .txz, .xz, .tar) is used
// only for content without magic. (The original went by the last suffix alone and rejected
// .tgz and .tar.)
//
// The archive is unpacked into a new directory beside destDir (its parent is created if
// missing), which then atomically takes destDir's place (renameat2 RENAME_EXCHANGE, with a
// two-rename fallback); the previous tree is then removed. If anything fails, the new
// directory is removed and destDir is left as it was.
//
// Entry names may start with "./" or "/"; an entry named exactly "/", "./" or "." is the
// root (destDir itself) and sets its mode and time. Any other absolute name, or a name with a
// ".." component, fails with [ErrEscape]. Symlinks are created as stored, absolute ones
// included (an OS image's /usr/bin/python -> /usr/bin/python3 is resolved inside the
// container), but every write resolves its path inside destDir with [os.Root], so a later
// entry can follow a symlink only to somewhere inside destDir: "s -> /etc" then "s/passwd"
// fails with [ErrEscape]. Hard link targets are names inside the archive, checked the same
// way. Device nodes and fifos need [ExtractOptions].AllowDevices.
//
// Modes are kept, setuid, setgid and sticky bits included (OS images need them; with Owner
// set, a setuid file runs as that owner, which grants nothing the owner lacks). Modification
// times are restored, directories' after their contents. Ownership: Owner if set; else, when
// running as root, the numeric uid and gid stored in the archive (never the user and group
// names, which would be looked up in the host's passwd, not the image's); else the caller's.
// A later entry with the same name replaces an earlier one, except that a directory is never
// replaced by a non-directory ([ErrReplacesDir]). Extended attributes are not restored.
//
// Nothing is fsynced. Concurrent extractions to the same destDir do not mix: the last to
// finish wins. Errors about an entry are [*EntryError]s naming the archive and the entry.
func Extract(ctx context.Context, archivePath, destDir string, opts ExtractOptions) error {
	err := extract(ctx, archivePath, destDir, opts)
	var ee *EntryError
	if err != nil && !errors.As(err, &ee) {
		return fmt.Errorf("extract %s: %w", archivePath, err)
	}
	return err
}

func extract(ctx context.Context, archivePath, destDir string, opts ExtractOptions) (err error) {
	dest := filepath.Clean(destDir)
	if base := filepath.Base(dest); base == "." || base == "/" || base == ".." {
		return fmt.Errorf("invalid destination %q", destDir)
	}
	f, err := os.Open(archivePath)
	if err != nil {
		return err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil {
		return err
	} else if fi.Size() == 0 && fi.Mode().IsRegular() {
		// Most likely a failed download; GNU tar would extract nothing and succeed.
		return errors.New("empty archive")
	}

	// Unpack into a fresh directory beside dest.
	parent := filepath.Dir(dest)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dest)+".extract-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = removeAll(tmp)
		}
	}()
	root, err := os.OpenRoot(tmp)
	if err != nil {
		return err
	}
	x := &extractor{
		ctx:     ctx,
		root:    root,
		archive: archivePath,
		opts:    opts,
		isRoot:  os.Geteuid() == 0,
		dirs:    map[string]dirMeta{},
		known:   map[string]bool{},
		buf:     make([]byte, copyBufSize),
	}
	err = x.run(f)
	x.dropParent()
	if cerr := root.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}

	// Swap it into place.
	return replaceDir(tmp, dest)
}

// dirMeta is what is applied to a directory once everything inside it has been written.
type dirMeta struct {
	mode  fs.FileMode
	mtime time.Time
}

type extractor struct {
	ctx     context.Context
	root    *os.Root
	archive string
	opts    ExtractOptions
	isRoot  bool
	dirs    map[string]dirMeta // directory entries, applied by finish
	known   map[string]bool    // directories known to exist (a cache; reset when a symlink goes)
	total   int64              // bytes of regular files so far
	buf     []byte

	// A Root on the directory of the last regular file written, so files in the same
	// directory are created with one openat instead of a walk from the top. Dropped, like
	// known, when a symlink is removed.
	parentName string
	parent     *os.Root
}

// parentRoot returns a Root on the directory dir (inside x.root), reusing the last one.
func (x *extractor) parentRoot(dir string) (*os.Root, error) {
	if dir == "." {
		return x.root, nil
	}
	if x.parent != nil && x.parentName == dir {
		return x.parent, nil
	}
	x.dropParent()
	r, err := x.root.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	x.parent, x.parentName = r, dir
	return r, nil
}

func (x *extractor) dropParent() {
	if x.parent != nil {
		_ = x.parent.Close()
		x.parent, x.parentName = nil, ""
	}
}

// drainLimit bounds how much is read after the end-of-archive marker (padding, mostly).
const drainLimit = 1 << 20

func (x *extractor) run(r io.Reader) error {
	zr, closeZ, err := decompress(r, x.archive)
	if err != nil {
		return err
	}
	defer closeZ()
	tr := tar.NewReader(ctxReader{x.ctx, zr})
	var last string
	for {
		if err := x.ctx.Err(); err != nil {
			return err
		}
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if last != "" {
				return fmt.Errorf("read the entry after %q: %w", last, err)
			}
			return fmt.Errorf("read: %w", err)
		}
		if err := x.entry(hdr, tr); err != nil {
			return &EntryError{Archive: x.archive, Entry: hdr.Name, Err: classify(err)}
		}
		last = hdr.Name
	}
	// Read what follows the end-of-archive marker so gzip checks its CRC. Trailing garbage
	// after the compressed stream is ignored, as GNU tar and gzip do.
	if _, err := io.CopyN(io.Discard, zr, drainLimit); errors.Is(err, pgzip.ErrChecksum) {
		return fmt.Errorf("gzip: %w", err)
	}
	return x.finish()
}

// cleanName turns an entry name into a slash-separated path relative to the root, "." for
// the root itself. Absolute names (other than "/") and ".." components are errors.
func cleanName(name string) (string, error) {
	switch {
	case name == "":
		return "", errors.New("empty name")
	case name == "/":
		return ".", nil
	case strings.HasPrefix(name, "/"):
		return "", ErrEscape
	case strings.ContainsRune(name, 0):
		return "", errors.New("name contains a NUL byte")
	}
	parts := make([]string, 0, strings.Count(name, "/")+1)
	for p := range strings.SplitSeq(name, "/") {
		switch p {
		case "", ".":
		case "..":
			return "", ErrEscape
		default:
			parts = append(parts, p)
		}
	}
	if len(parts) == 0 {
		return ".", nil
	}
	return strings.Join(parts, "/"), nil
}

func (x *extractor) entry(hdr *tar.Header, r io.Reader) error {
	if hdr.Typeflag == tar.TypeXGlobalHeader {
		return nil
	}
	name, err := cleanName(hdr.Name)
	if err != nil {
		return err
	}
	if name == "." {
		if hdr.Typeflag != tar.TypeDir {
			return errors.New("the root entry is not a directory")
		}
		return x.dir(name, hdr)
	}
	if err := x.mkdirParents(path.Dir(name)); err != nil {
		return err
	}
	switch hdr.Typeflag {
	case tar.TypeDir:
		return x.dir(name, hdr)
	case tar.TypeReg, tar.TypeCont, tar.TypeGNUSparse:
		return x.file(name, hdr, r)
	case tar.TypeSymlink:
		return x.symlink(name, hdr)
	case tar.TypeLink:
		return x.hardlink(name, hdr)
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		return x.device(name, hdr)
	default:
		return fmt.Errorf("%w %q", ErrUnsupportedEntry, hdr.Typeflag)
	}
}

// ids returns the owner to give an entry, and whether to change it at all.
func (x *extractor) ids(hdr *tar.Header) (uid, gid int, ok bool) {
	if o := x.opts.Owner; o != nil {
		return o.UID, o.GID, true
	}
	if x.isRoot {
		return hdr.Uid, hdr.Gid, true
	}
	return 0, 0, false
}

const modeBits = fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky

// mode returns the permission bits (setuid, setgid and sticky included) to give an entry.
func (x *extractor) mode(hdr *tar.Header) fs.FileMode {
	m := hdr.FileInfo().Mode() & modeBits
	if x.opts.Owner != nil {
		switch hdr.Typeflag {
		case tar.TypeDir:
			m |= 0o550
		case tar.TypeReg, tar.TypeCont, tar.TypeGNUSparse:
			m |= 0o660
		}
	}
	return m
}

// mkdirParents makes sure dir exists as a directory, creating missing ones with mode 0755 (and
// Owner, if set).
func (x *extractor) mkdirParents(dir string) error {
	if dir == "." || x.known[dir] {
		return nil
	}
	if err := x.mkdirParents(path.Dir(dir)); err != nil {
		return err
	}
	err := x.root.Mkdir(dir, 0o755)
	switch {
	case err == nil:
		if err := x.root.Chmod(dir, 0o755); err != nil { // undo the umask
			return err
		}
		if o := x.opts.Owner; o != nil {
			if err := x.root.Lchown(dir, o.UID, o.GID); err != nil {
				return err
			}
		}
	case errors.Is(err, fs.ErrExist):
		fi, err := x.root.Stat(dir)
		if err != nil {
			return err
		}
		if !fi.IsDir() {
			return fmt.Errorf("%s is not a directory", dir)
		}
	default:
		return err
	}
	x.known[dir] = true
	return nil
}

// clear removes the non-directory at name so an entry can take its place.
func (x *extractor) clear(name string) error {
	fi, err := x.root.Lstat(name)
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return ErrReplacesDir
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		// Paths through this symlink may now lead elsewhere.
		clear(x.known)
		x.dropParent()
	}
	return x.root.Remove(name)
}

// replacing runs create, and if name exists, clears it and runs create again.
func (x *extractor) replacing(name string, create func() error) error {
	err := create()
	if errors.Is(err, fs.ErrExist) {
		if err := x.clear(name); err != nil {
			return err
		}
		err = create()
	}
	return err
}

func (x *extractor) dir(name string, hdr *tar.Header) error {
	if name != "." {
		err := x.root.Mkdir(name, 0o700)
		if errors.Is(err, fs.ErrExist) {
			var fi fs.FileInfo
			if fi, err = x.root.Lstat(name); err == nil && !fi.IsDir() {
				if err = x.clear(name); err == nil {
					err = x.root.Mkdir(name, 0o700)
				}
			}
		}
		if err != nil {
			return err
		}
		x.known[name] = true
	}
	if uid, gid, ok := x.ids(hdr); ok {
		if err := x.root.Lchown(name, uid, gid); err != nil {
			return err
		}
	}
	// Mode and time wait until the directory's contents are written (a 0555 directory could
	// not be filled, and every new entry would bump its mtime).
	x.dirs[name] = dirMeta{mode: x.mode(hdr), mtime: hdr.ModTime}
	return nil
}

func (x *extractor) file(name string, hdr *tar.Header, r io.Reader) error {
	if hdr.Size < 0 {
		return fmt.Errorf("negative size %d", hdr.Size)
	}
	if x.opts.MaxSize > 0 && hdr.Size > x.opts.MaxSize-x.total {
		return fmt.Errorf("%w of %d bytes", ErrTooLarge, x.opts.MaxSize)
	}
	x.total += hdr.Size
	var f *os.File
	err := x.replacing(name, func() error {
		dir, err := x.parentRoot(path.Dir(name))
		if err != nil {
			return err
		}
		// O_EXCL: never opens an existing file or follows a symlink at name.
		f, err = dir.OpenFile(path.Base(name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		return err
	})
	if err != nil {
		return err
	}
	n, err := io.CopyBuffer(onlyWriter{f}, r, x.buf)
	if err == nil && n != hdr.Size {
		err = io.ErrUnexpectedEOF
	}
	if err == nil {
		err = x.finishFile(f, hdr)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// finishFile sets the owner, mode and time of a regular file through its descriptor.
func (x *extractor) finishFile(f *os.File, hdr *tar.Header) error {
	if uid, gid, ok := x.ids(hdr); ok {
		if err := f.Chown(uid, gid); err != nil {
			return err
		}
	}
	// After the chown, which clears setuid and setgid.
	if err := f.Chmod(x.mode(hdr)); err != nil {
		return err
	}
	sc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	ts := timespecs(hdr.ModTime)
	var uerr error
	if err := sc.Control(func(fd uintptr) {
		// futimens: utimensat with a NULL path acts on fd itself.
		_, _, errno := unix.Syscall6(unix.SYS_UTIMENSAT, fd, 0, uintptr(unsafe.Pointer(&ts[0])), 0, 0, 0)
		if errno != 0 {
			uerr = &os.PathError{Op: "futimens", Path: f.Name(), Err: errno}
		}
	}); err != nil {
		return err
	}
	return uerr
}

func timespecs(t time.Time) [2]unix.Timespec {
	ts := unix.Timespec{Sec: t.Unix(), Nsec: int64(t.Nanosecond())}
	return [2]unix.Timespec{ts, ts}
}

// onlyWriter hides *os.File's ReadFrom so io.CopyBuffer uses the given buffer.
type onlyWriter struct{ io.Writer }

func (x *extractor) symlink(name string, hdr *tar.Header) error {
	if hdr.Linkname == "" {
		return errors.New("symlink with an empty target")
	}
	err := x.replacing(name, func() error { return x.root.Symlink(hdr.Linkname, name) })
	if err != nil {
		return err
	}
	uid, gid, chown := x.ids(hdr)
	return x.atParent(name, func(dirfd int, base string) error {
		if chown {
			if err := unix.Fchownat(dirfd, base, uid, gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
				return &os.PathError{Op: "lchown", Path: name, Err: err}
			}
		}
		ts := timespecs(hdr.ModTime)
		if err := unix.UtimesNanoAt(dirfd, base, ts[:], unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return &os.PathError{Op: "lutimes", Path: name, Err: err}
		}
		return nil
	})
}

func (x *extractor) hardlink(name string, hdr *tar.Header) error {
	target, err := cleanName(hdr.Linkname)
	if err != nil {
		return fmt.Errorf("link target %q: %w", hdr.Linkname, err)
	}
	if target == "." {
		return fmt.Errorf("link target %q is the root", hdr.Linkname)
	}
	return x.replacing(name, func() error { return x.root.Link(target, name) })
}

func (x *extractor) device(name string, hdr *tar.Header) error {
	var typ uint32
	var kind string
	switch hdr.Typeflag {
	case tar.TypeChar:
		typ, kind = unix.S_IFCHR, "character device"
	case tar.TypeBlock:
		typ, kind = unix.S_IFBLK, "block device"
	default:
		typ, kind = unix.S_IFIFO, "fifo"
	}
	if !x.opts.AllowDevices {
		return fmt.Errorf("%w (%s)", ErrDevice, kind)
	}
	dev := unix.Mkdev(uint32(hdr.Devmajor), uint32(hdr.Devminor))
	err := x.replacing(name, func() error {
		return x.atParent(name, func(dirfd int, base string) error {
			if err := unix.Mknodat(dirfd, base, typ|0o600, int(dev)); err != nil {
				return &os.PathError{Op: "mknod", Path: name, Err: err}
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	uid, gid, chown := x.ids(hdr)
	return x.atParent(name, func(dirfd int, base string) error {
		if chown {
			if err := unix.Fchownat(dirfd, base, uid, gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
				return &os.PathError{Op: "lchown", Path: name, Err: err}
			}
		}
		// The node was just created by mknod in a directory only we write, so it is no symlink.
		if err := unix.Fchmodat(dirfd, base, uint32(x.mode(hdr).Perm())|modeSpecial(x.mode(hdr)), 0); err != nil {
			return &os.PathError{Op: "chmod", Path: name, Err: err}
		}
		ts := timespecs(hdr.ModTime)
		if err := unix.UtimesNanoAt(dirfd, base, ts[:], unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return &os.PathError{Op: "lutimes", Path: name, Err: err}
		}
		return nil
	})
}

func modeSpecial(m fs.FileMode) uint32 {
	var s uint32
	if m&fs.ModeSetuid != 0 {
		s |= unix.S_ISUID
	}
	if m&fs.ModeSetgid != 0 {
		s |= unix.S_ISGID
	}
	if m&fs.ModeSticky != 0 {
		s |= unix.S_ISVTX
	}
	return s
}

// atParent opens name's parent directory inside the root and calls fn with its descriptor
// and name's last component, for the *at calls os.Root has no method for.
func (x *extractor) atParent(name string, fn func(dirfd int, base string) error) error {
	d, err := x.root.Open(path.Dir(name))
	if err != nil {
		return err
	}
	defer d.Close()
	sc, err := d.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := sc.Control(func(fd uintptr) { ferr = fn(int(fd), path.Base(name)) }); err != nil {
		return err
	}
	return ferr
}

// finish applies the directories' modes and times, deepest first, and gives the root
// directory its default mode (0755) and Owner when the archive had no root entry.
func (x *extractor) finish() error {
	if _, ok := x.dirs["."]; !ok {
		m := fs.FileMode(0o755)
		if o := x.opts.Owner; o != nil {
			if err := x.root.Lchown(".", o.UID, o.GID); err != nil {
				return err
			}
		}
		x.dirs["."] = dirMeta{mode: m, mtime: time.Now()}
	}
	names := make([]string, 0, len(x.dirs))
	for n := range x.dirs {
		names = append(names, n)
	}
	slices.SortFunc(names, func(a, b string) int {
		if da, db := depth(a), depth(b); da != db {
			return db - da
		}
		return strings.Compare(a, b)
	})
	for _, n := range names {
		m := x.dirs[n]
		if err := x.root.Chmod(n, m.mode); err != nil {
			return fmt.Errorf("directory %q: %w", n, classify(err))
		}
		if err := x.root.Chtimes(n, m.mtime, m.mtime); err != nil {
			return fmt.Errorf("directory %q: %w", n, classify(err))
		}
	}
	return nil
}

func depth(name string) int {
	if name == "." {
		return 0
	}
	return strings.Count(name, "/") + 1
}

// classify turns os.Root's "path escapes from parent" (a symlink that leads outside the root)
// into ErrEscape. os does not export that error, so it is recognised by its text; a test
// breaks if that ever changes.
func classify(err error) error {
	for e := err; e != nil; e = errors.Unwrap(e) {
		if errors.Unwrap(e) == nil && e.Error() == "path escapes from parent" {
			return fmt.Errorf("%w (through a symlink)", ErrEscape)
		}
	}
	return err
}

// replaceDir puts the directory tmp at dest, atomically where the filesystem allows, and
// removes what was at dest before.
func replaceDir(tmp, dest string) error {
	for range 3 {
		err := unix.Renameat2(unix.AT_FDCWD, tmp, unix.AT_FDCWD, dest, unix.RENAME_EXCHANGE)
		switch {
		case err == nil:
			// tmp now holds the previous tree.
			if err := removeAll(tmp); err != nil {
				return fmt.Errorf("extracted, but could not remove the previous %s: %w", dest, err)
			}
			return nil
		case errors.Is(err, unix.ENOENT):
			// Nothing at dest (or it vanished meanwhile): a plain rename.
			err = unix.Renameat2(unix.AT_FDCWD, tmp, unix.AT_FDCWD, dest, unix.RENAME_NOREPLACE)
			if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) {
				err = os.Rename(tmp, dest)
			}
			if err == nil {
				return nil
			}
			if errors.Is(err, unix.EEXIST) || errors.Is(err, unix.ENOTEMPTY) {
				continue // dest appeared meanwhile: exchange with it
			}
			return &os.LinkError{Op: "rename", Old: tmp, New: dest, Err: err}
		case errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS):
			return replaceDirTwoRenames(tmp, dest)
		default:
			return &os.LinkError{Op: "exchange", Old: tmp, New: dest, Err: err}
		}
	}
	return fmt.Errorf("replace %s: it keeps changing", dest)
}

// replaceDirTwoRenames is replaceDir for filesystems without RENAME_EXCHANGE: dest is moved
// aside, tmp moved in, and dest moved back if that fails.
func replaceDirTwoRenames(tmp, dest string) error {
	old := tmp + ".old"
	if err := os.Rename(dest, old); err != nil {
		return err
	}
	if err := os.Rename(tmp, dest); err != nil {
		_ = os.Rename(old, dest)
		return err
	}
	if err := removeAll(old); err != nil {
		return fmt.Errorf("extracted, but could not remove the previous %s: %w", dest, err)
	}
	return nil
}

// removeAll is os.RemoveAll that also copes with directories without write or search
// permission (an archive's 0555 directories, extracted by a user other than root).
func removeAll(p string) error {
	if err := os.RemoveAll(p); err == nil {
		return nil
	}
	_ = filepath.WalkDir(p, func(q string, d fs.DirEntry, err error) error {
		if d != nil && d.IsDir() {
			_ = os.Chmod(q, 0o700)
		}
		return nil
	})
	return os.RemoveAll(p)
}
