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
	"runtime"
	"syscall"
	"time"

	"github.com/klauspost/pgzip"
	"golang.org/x/sys/unix"
)

// gzipBlockSize is the pgzip block size. The compressed bytes depend on it (each block is
// deflated on its own, primed with the previous block's tail), so it is fixed; the number of
// blocks compressed at once is not part of the output and follows GOMAXPROCS.
const gzipBlockSize = 1 << 20

// TarOptions configure [WriteTarGz] and [CreateTarGz]. The zero value writes a "./" root entry,
// owner 0:0 and modification time 0 (1970-01-01) everywhere, at gzip's default level.
type TarOptions struct {
	// Exclude, when set, leaves out the entry at rel (slash-separated, relative to the source
	// directory, e.g. "bin/x"); an excluded directory is not entered. d is the entry as read
	// from its directory (not following symlinks).
	Exclude func(rel string, d fs.DirEntry) bool

	// OmitRoot leaves out the first entry, "./", which carries the source directory's own
	// mode (the original wrote it as "/").
	OmitRoot bool

	// UID and GID are the numeric owner stored for every entry; no user or group names are
	// stored.
	UID, GID int

	// KeepOwners stores each entry's own numeric owner and group instead of UID and GID, as
	// OS images need (/etc/shadow's group, _apt's directories); the bytes then depend on the
	// tree's owners too.
	KeepOwners bool

	// ModTime is the modification time stored for every entry, whole seconds; the zero value
	// means the Unix epoch. With ClampModTime, entries keep their own time when it is older
	// (GNU tar's --clamp-mtime); the bytes then depend on the tree's mtimes too.
	ModTime      time.Time
	ClampModTime bool

	// Level is the gzip level, 1 (fastest) to 9 (smallest); 0 means the default (6). The
	// bytes depend on it.
	Level int
}

// WriteTarGz writes the tree at srcDir to w as a gzip-compressed tar (PAX format).
//
// The bytes depend only on the tree and the options: entries come in lexical order (the
// root, then each directory's entries sorted by name, depth first), every entry has the
// options' owner and modification time and no user or group name, the gzip header has no
// name and time 0, and the parallel gzip writer uses a fixed block size. The mode (permission
// bits and setuid, setgid, sticky) is kept. Symlinks are stored as symlinks; regular files
// with more than one link are stored once and then as hard links to the first name. Devices
// and fifos are stored as such; sockets are left out. Extended attributes are not stored.
// The tree must not change while it is archived: a file that shrinks is an error, and one
// replaced by a symlink is not followed. srcDir itself may be a symlink.
func WriteTarGz(ctx context.Context, w io.Writer, srcDir string, opts TarOptions) error {
	if err := writeTarGz(ctx, w, srcDir, opts, nil); err != nil {
		return fmt.Errorf("write tar.gz of %s: %w", srcDir, err)
	}
	return nil
}

// CreateTarGz writes the tree at srcDir (see [WriteTarGz]) to the file at path, atomically:
// it writes a temporary file beside path, syncs it and renames it over path, and removes it on
// error. The file gets mode 0644. It returns the checksums of what it wrote. path may be inside
// srcDir; the file being written is not archived.
func CreateTarGz(ctx context.Context, path, srcDir string, opts TarOptions) (Sums, error) {
	sums, err := createTarGz(ctx, path, srcDir, opts)
	if err != nil {
		return Sums{}, fmt.Errorf("create %s: %w", path, err)
	}
	return sums, nil
}

func createTarGz(ctx context.Context, path, srcDir string, opts TarOptions) (_ Sums, err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".part-*")
	if err != nil {
		return Sums{}, err
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	var self *syscall.Stat_t
	if fi, err := tmp.Stat(); err == nil {
		self, _ = fi.Sys().(*syscall.Stat_t)
	}
	h := newHasher()
	if err := writeTarGz(ctx, io.MultiWriter(tmp, h), srcDir, opts, self); err != nil {
		return Sums{}, err
	}
	if err := tmp.Chmod(0o644); err != nil {
		return Sums{}, err
	}
	if err := tmp.Sync(); err != nil {
		return Sums{}, err
	}
	if err := tmp.Close(); err != nil {
		return Sums{}, err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return Sums{}, err
	}
	syncDir(filepath.Dir(path))
	return h.sums(), nil
}

// newGzipWriter returns a pgzip writer whose output depends only on the input and level.
func newGzipWriter(w io.Writer, level, blocks int) (*pgzip.Writer, error) {
	if level == 0 {
		level = 6
	}
	gz, err := pgzip.NewWriterLevel(w, level)
	if err != nil {
		return nil, err
	}
	if err := gz.SetConcurrency(gzipBlockSize, blocks); err != nil {
		return nil, err
	}
	gz.Name = ""
	gz.Comment = ""
	gz.ModTime = time.Unix(0, 0) // pgzip would write the zero time.Time as a non-zero value
	gz.OS = 255                  // unknown, whatever the build host
	return gz, nil
}

// tarWriter walks a tree into a tar stream.
type tarWriter struct {
	ctx   context.Context
	tw    *tar.Writer
	src   string
	opts  TarOptions
	mtime time.Time
	links map[devIno]string // first name of each multiply-linked file
	self  *syscall.Stat_t   // the output file, when it may be inside the tree
	buf   []byte
}

type devIno struct{ dev, ino uint64 }

func writeTarGz(ctx context.Context, w io.Writer, srcDir string, opts TarOptions, self *syscall.Stat_t) error {
	fi, err := os.Stat(srcDir) // srcDir itself may be a symlink to the tree
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", srcDir)
	}
	gz, err := newGzipWriter(w, opts.Level, max(2, runtime.GOMAXPROCS(0)))
	if err != nil {
		return err
	}
	mtime := opts.ModTime
	if mtime.IsZero() {
		mtime = time.Unix(0, 0)
	}
	t := &tarWriter{
		ctx:   ctx,
		tw:    tar.NewWriter(gz),
		src:   srcDir,
		opts:  opts,
		mtime: mtime.Truncate(time.Second),
		links: map[devIno]string{},
		self:  self,
		buf:   make([]byte, copyBufSize),
	}
	err = t.walk(fi)
	if cerr := t.tw.Close(); err == nil {
		err = cerr
	}
	if cerr := gz.Close(); err == nil {
		err = cerr
	}
	return err
}

func (t *tarWriter) walk(rootInfo fs.FileInfo) error {
	if !t.opts.OmitRoot {
		if err := t.add("./", "", rootInfo); err != nil {
			return fmt.Errorf("./: %w", err)
		}
	}
	return t.walkDir("")
}

// walkDir adds the entries of the directory rel ("" for the root), sorted by name.
func (t *tarWriter) walkDir(rel string) error {
	ents, err := os.ReadDir(filepath.Join(t.src, filepath.FromSlash(rel)))
	if err != nil {
		return err
	}
	for _, d := range ents {
		if err := t.ctx.Err(); err != nil {
			return err
		}
		r := path.Join(rel, d.Name())
		if t.opts.Exclude != nil && t.opts.Exclude(r, d) {
			continue
		}
		fi, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed since the directory was read
		}
		if err != nil {
			return err
		}
		name := r
		if fi.IsDir() {
			name += "/"
		}
		if err := t.add(name, r, fi); err != nil {
			return fmt.Errorf("%s: %w", r, err)
		}
		if fi.IsDir() {
			if err := t.walkDir(r); err != nil {
				return err
			}
		}
	}
	return nil
}

// add writes the entry name for the file rel ("" for the root) described by fi.
func (t *tarWriter) add(name, rel string, fi fs.FileInfo) error {
	st, _ := fi.Sys().(*syscall.Stat_t)
	if st != nil && t.self != nil && st.Dev == t.self.Dev && st.Ino == t.self.Ino {
		return nil // the archive being written
	}
	hdr := &tar.Header{
		Name:    name,
		Mode:    tarMode(fi.Mode()),
		Uid:     t.opts.UID,
		Gid:     t.opts.GID,
		ModTime: t.modTime(fi),
		Format:  tar.FormatPAX,
	}
	if t.opts.KeepOwners && st != nil {
		hdr.Uid, hdr.Gid = int(st.Uid), int(st.Gid)
	}
	full := filepath.Join(t.src, filepath.FromSlash(rel))
	m := fi.Mode()
	switch {
	case m.IsDir():
		hdr.Typeflag = tar.TypeDir
	case m.IsRegular():
		hdr.Typeflag = tar.TypeReg
		hdr.Size = fi.Size()
		if st != nil && st.Nlink > 1 {
			key := devIno{uint64(st.Dev), st.Ino}
			if first, ok := t.links[key]; ok {
				hdr.Typeflag, hdr.Linkname, hdr.Size = tar.TypeLink, first, 0
			} else {
				t.links[key] = name
			}
		}
	case m&fs.ModeSymlink != 0:
		target, err := os.Readlink(full)
		if err != nil {
			return err
		}
		hdr.Typeflag, hdr.Linkname = tar.TypeSymlink, target
	case m&fs.ModeNamedPipe != 0:
		hdr.Typeflag = tar.TypeFifo
	case m&fs.ModeDevice != 0 && st != nil:
		hdr.Typeflag = tar.TypeBlock
		if m&fs.ModeCharDevice != 0 {
			hdr.Typeflag = tar.TypeChar
		}
		hdr.Devmajor = int64(unix.Major(uint64(st.Rdev))) //nolint:unconvert // Rdev is uint32 on some platforms
		hdr.Devminor = int64(unix.Minor(uint64(st.Rdev))) //nolint:unconvert // see above
	default:
		return nil // sockets and anything else cannot be archived
	}
	if err := t.tw.WriteHeader(hdr); err != nil {
		return err
	}
	if hdr.Typeflag != tar.TypeReg || hdr.Size == 0 {
		return nil
	}
	// O_NOFOLLOW: a file swapped for a symlink since it was listed is not followed.
	f, err := os.OpenFile(full, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	n, err := io.CopyBuffer(onlyWriter{t.tw}, io.LimitReader(f, hdr.Size), t.buf)
	if err != nil {
		return err
	}
	if n != hdr.Size {
		return fmt.Errorf("file shrank from %d to %d bytes while being archived", hdr.Size, n)
	}
	return nil
}

func (t *tarWriter) modTime(fi fs.FileInfo) time.Time {
	if t.opts.ClampModTime {
		if mt := fi.ModTime().Truncate(time.Second); mt.Before(t.mtime) {
			return mt
		}
	}
	return t.mtime
}

// tarMode converts a file mode to tar's: permission bits plus setuid (04000), setgid (02000)
// and sticky (01000).
func tarMode(m fs.FileMode) int64 {
	mode := int64(m.Perm())
	if m&fs.ModeSetuid != 0 {
		mode |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		mode |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		mode |= 0o1000
	}
	return mode
}
