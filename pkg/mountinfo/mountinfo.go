// Package mountinfo reads the mount table of this process's mount namespace from Linux's
// /proc/self/mountinfo (see proc(5)). It is pure Go: on other systems Below fails because the
// file is not there.
package mountinfo

import (
	"io"
	"os"
	"slices"
	"strings"
)

// File is the mount table Below reads.
const File = "/proc/self/mountinfo"

// Below lists the mount points at or below dir (dir itself, or paths under dir+"/") in this
// process's mount namespace, unescaped, most recently mounted first. A mount comes after the
// mount it was mounted on in mountinfo, so this lists the deepest mounts first, and a mount
// stacked on top of another before it: the order to unmount them in. dir is compared as
// given, so pass a clean absolute path.
func Below(dir string) ([]string, error) {
	f, err := os.Open(File)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parse(f, dir)
}

// parse does Below's work on the mountinfo content read from r.
func parse(r io.Reader, dir string) ([]string, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	var mps []string
	for _, line := range strings.Split(string(data), "\n") {
		// ID parent-ID major:minor root mount-point options ...
		f := strings.Fields(line)
		if len(f) < 5 {
			continue
		}
		mp := Unescape(f[4])
		if mp == dir || strings.HasPrefix(mp, dir+"/") {
			mps = append(mps, mp)
		}
	}
	slices.Reverse(mps)
	return mps, nil
}

// Unescape undoes mountinfo's octal escapes of the bytes that would break its fields (\040
// for a space, \011 for a tab, \012 for a newline, \134 for a backslash). A backslash not
// followed by three octal digits making a byte is kept as it is.
func Unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if v, ok := octal(s[i+1 : i+4]); ok {
				b.WriteByte(v)
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// octal decodes three octal digits worth at most one byte (\377).
func octal(s string) (byte, bool) {
	v := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '7' {
			return 0, false
		}
		v = v*8 + int(c-'0')
	}
	return byte(v), v <= 0o377
}
