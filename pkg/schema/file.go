package schema

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// readFile reads path for a Load function; a read error is an *Error about that file (a
// missing or unreadable input file is bad input).
func readFile(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{File: path, Msg: "cannot read: " + unwrapPathError(err), Err: err}
	}
	return data, nil
}

func unwrapPathError(err error) string {
	if pe, ok := err.(*fs.PathError); ok { //nolint:errorlint // os.ReadFile returns *PathError itself
		return pe.Err.Error()
	}
	return err.Error()
}

// WriteFileAtomic writes data to path so that readers see either the old file or the whole
// new one: it writes a temporary file in the same directory, syncs it, sets perm, and renames
// it over path (then syncs the directory, best effort). The temporary file is removed on
// failure. Note that the rename replaces the inode: a lock (flock) held on the old file does
// not carry over.
func WriteFileAtomic(path string, data []byte, perm fs.FileMode) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = f.Chmod(perm); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}

// envFileMode is the mode of a file that echoes an env map: readable by its owner only when the
// map has values, since they are often secrets (passwords, tokens).
func envFileMode(env map[string]string) os.FileMode {
	if len(env) > 0 {
		return 0o600
	}
	return 0o644
}
