package builder

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
)

// buildUser is the unprivileged user the buildpack runs as.
type buildUser struct {
	Name     string
	UID, GID int
}

// resolveUser finds spec (a name, "uid" or "uid:gid") in the passwd file of the container's
// root filesystem, read through root (so that a symlink in an image cannot point at a host
// file). Root (uid 0) is refused.
func resolveUser(spec string, root *os.Root) (buildUser, error) {
	u, err := lookupUser(spec, root)
	if err != nil {
		return u, &userError{err}
	}
	if u.UID == 0 {
		return u, &userError{fmt.Errorf("build user %q is root; buildpacks must run as an unprivileged user", spec)}
	}
	if u.GID == 0 {
		return u, &userError{fmt.Errorf("build user %q has group root; use uid:gid with another group", spec)}
	}
	return u, nil
}

// userError is a bad build user (--user, VR_BUILD_USER): the caller's input, which vbuild
// exits 2 for (BadInput), not a failed build.
type userError struct{ err error }

func (e *userError) Error() string  { return e.err.Error() + " (--user, VR_BUILD_USER)" }
func (e *userError) Unwrap() error  { return e.err }
func (e *userError) BadInput() bool { return true }

func lookupUser(spec string, root *os.Root) (buildUser, error) {
	if spec == "" {
		return buildUser{}, errors.New("build user is empty")
	}
	uidStr, gidStr, hasGID := strings.Cut(spec, ":")
	if uid, err := strconv.Atoi(uidStr); err == nil {
		if uid < 0 {
			return buildUser{}, fmt.Errorf("build user %q: negative uid", spec)
		}
		u := buildUser{Name: uidStr, UID: uid, GID: uid}
		if hasGID {
			gid, err := strconv.Atoi(gidStr)
			if err != nil || gid < 0 {
				return buildUser{}, fmt.Errorf("build user %q: expected uid:gid with numbers", spec)
			}
			u.GID = gid
		} else {
			for _, e := range passwdEntries(root) {
				if e.UID == uid {
					u.Name, u.GID = e.Name, e.GID
					break
				}
			}
		}
		return u, nil
	}
	if hasGID {
		return buildUser{}, fmt.Errorf("build user %q: expected a name, a uid or uid:gid", spec)
	}
	if e, ok := passwdEntries(root)[spec]; ok {
		return e, nil
	}
	return buildUser{}, fmt.Errorf("build user %q is not in the container's /etc/passwd; give a uid or uid:gid", spec)
}

// passwdEntries reads etc/passwd under root, by name (unreadable: none).
func passwdEntries(root *os.Root) map[string]buildUser {
	out := map[string]buildUser{}
	if root == nil {
		return out
	}
	data, err := readRootFile(root, "etc/passwd")
	if err != nil {
		return out
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Split(sc.Text(), ":")
		if len(f) < 4 || strings.HasPrefix(f[0], "#") {
			continue
		}
		uid, err1 := strconv.Atoi(f[2])
		gid, err2 := strconv.Atoi(f[3])
		if err1 != nil || err2 != nil {
			continue
		}
		if _, dup := out[f[0]]; !dup {
			out[f[0]] = buildUser{Name: f[0], UID: uid, GID: gid}
		}
	}
	return out
}

// readRootFile reads name inside root, at most 4 MiB.
func readRootFile(root *os.Root, name string) ([]byte, error) {
	f, err := root.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file: %w", name, fs.ErrInvalid)
	}
	return io.ReadAll(io.LimitReader(f, 4<<20))
}

// rootHas reports whether name exists under root as an executable regular file (following
// symlinks inside root only).
func rootHas(root *os.Root, name string) bool {
	if root == nil {
		return false
	}
	fi, err := root.Stat(name)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}
