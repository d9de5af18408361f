package runner

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/vr-paas/vr/pkg/schema"
)

// Owner is the user and group a proc runs as and owns its build as, with their numbers in
// the proc's root filesystem.
type Owner struct {
	User  string
	Group string
	UID   int
	GID   int
}

// LookupOwner finds user and group in the passwd and group files of the root filesystem at
// sysroot (an image's contents, or "/" for the host's), not in the host's user database: an
// image's nobody need not be the host's. An empty user means DefaultUser; an empty group
// means the user's primary group. A user or group that is not found but is a number is taken
// as that number. A user or group that is not found is a *schema.Error naming the key (user
// or group) and the file that was searched.
func LookupOwner(sysroot, user, group string) (Owner, error) {
	if user == "" {
		user = DefaultUser
	}
	o := Owner{User: user, Group: group}
	passwd := ResolveIn(sysroot, "/etc/passwd")
	f, err := findEntry(passwd, user)
	switch {
	case err != nil:
		return Owner{}, err
	case f != nil && len(f) >= 4:
		uid, err1 := strconv.Atoi(f[2])
		gid, err2 := strconv.Atoi(f[3])
		if err1 != nil || err2 != nil {
			return Owner{}, &schema.Error{Key: "user", Msg: fmt.Sprintf("%q: malformed entry in %s", user, passwd)}
		}
		o.UID, o.GID = uid, gid
	default:
		n, err := strconv.Atoi(user)
		if err != nil || n < 0 {
			return Owner{}, &schema.Error{Key: "user", Msg: fmt.Sprintf("%q: no such user in %s", user, passwd)}
		}
		o.UID, o.GID = n, n
	}
	if group == "" {
		return o, nil
	}
	groupFile := ResolveIn(sysroot, "/etc/group")
	f, err = findEntry(groupFile, group)
	switch {
	case err != nil:
		return Owner{}, err
	case f != nil && len(f) >= 3:
		gid, err := strconv.Atoi(f[2])
		if err != nil {
			return Owner{}, &schema.Error{Key: "group", Msg: fmt.Sprintf("%q: malformed entry in %s", group, groupFile)}
		}
		o.GID = gid
	default:
		n, err := strconv.Atoi(group)
		if err != nil || n < 0 {
			return Owner{}, &schema.Error{Key: "group", Msg: fmt.Sprintf("%q: no such group in %s", group, groupFile)}
		}
		o.GID = n
	}
	return o, nil
}

// findEntry returns the colon-separated fields of the line of file whose first field is
// name, or nil. A missing file has no entries.
func findEntry(file, name string) ([]string, error) {
	data, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, name+":") {
			return strings.Split(line, ":"), nil
		}
	}
	return nil, sc.Err()
}

// ResolveIn returns the host path of p (absolute, as seen inside the root filesystem at
// sysroot), following symlinks as they resolve inside it: an absolute link target is taken
// relative to sysroot, and ".." never climbs above it. Components that do not exist are
// kept as they are. A path that takes more than 40 symlinks gives "" (nothing is there).
func ResolveIn(sysroot, p string) string {
	sysroot = filepath.Clean(sysroot)
	todo := strings.Split(strings.Trim(path.Clean("/"+p), "/"), "/")
	cur := "/"
	for hops := 0; len(todo) > 0; {
		el := todo[0]
		todo = todo[1:]
		switch el {
		case "", ".":
			continue
		case "..":
			cur = path.Dir(cur)
			continue
		}
		next := path.Join(cur, el)
		target, err := os.Readlink(filepath.Join(sysroot, next))
		if err != nil {
			cur = next
			continue
		}
		if hops++; hops > maxSymlinkHops {
			// Too many links (a loop, or a long chain): the path resolves to nothing, rather
			// than to a host path that still holds a link the host would follow.
			return ""
		}
		if strings.HasPrefix(target, "/") {
			cur = "/"
		}
		todo = append(strings.Split(target, "/"), todo...)
	}
	return filepath.Join(sysroot, cur)
}

// maxSymlinkHops is how many symlinks ResolveIn follows, as Linux's MAXSYMLINKS.
const maxSymlinkHops = 40

// existsIn reports whether p exists inside the root filesystem at sysroot.
func existsIn(sysroot, p string) bool {
	_, err := os.Stat(ResolveIn(sysroot, p))
	return err == nil
}
