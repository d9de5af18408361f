package buildpack

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
)

// SlugignoreFile is the name of the file, at the root of an app, listing what is left out
// of the build.
const SlugignoreFile = ".slugignore"

// Slugignore is a parsed .slugignore: Heroku's semantics, which are .gitignore's without
// negation. One pattern per line; blank lines and lines starting with "#" are ignored;
// trailing spaces are dropped (unless escaped with "\"); a pattern ending in "/" matches
// directories only; a pattern with a "/" elsewhere is relative to the app's root (a leading
// "/" is dropped), one without matches a name at any depth; "*", "?" and "[...]" match
// within one path element and "**" matches any number of them. A line starting with "!"
// (negation) is not supported, as on Heroku: it is ignored and reported in Warnings.
//
// The original applied the lines as plain globs after compile, ignored nested matches and
// deleted the whole app for a blank line; none of that happens here.
type Slugignore struct {
	Patterns []Pattern
	Warnings []string // lines that were ignored, and why
}

// Pattern is one line of a .slugignore.
type Pattern struct {
	Line     int    // 1-based line number
	Text     string // the line as written (trailing spaces dropped)
	segs     []string
	dirOnly  bool
	anchored bool
}

// ParseSlugignore parses the text of a .slugignore.
func ParseSlugignore(data []byte) *Slugignore {
	s := &Slugignore{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSuffix(sc.Text(), "\r")
		line = trimTrailingSpaces(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "!") {
			s.Warnings = append(s.Warnings, fmt.Sprintf("%s:%d: %q: negation (!) is not supported (as on Heroku); line ignored", SlugignoreFile, n, line))
			continue
		}
		p := Pattern{Line: n, Text: line}
		body := line
		if strings.HasPrefix(body, `\#`) || strings.HasPrefix(body, `\!`) {
			body = body[1:]
		}
		if strings.HasSuffix(body, "/") {
			p.dirOnly = true
			body = strings.TrimRight(body, "/")
		}
		if strings.Contains(body, "/") {
			p.anchored = true
			body = strings.TrimLeft(body, "/")
		}
		if body == "" {
			s.Warnings = append(s.Warnings, fmt.Sprintf("%s:%d: %q matches nothing; line ignored", SlugignoreFile, n, line))
			continue
		}
		p.segs = strings.Split(body, "/")
		bad := false
		for _, seg := range p.segs {
			if _, err := path.Match(seg, ""); err != nil {
				bad = true
			}
		}
		if bad {
			s.Warnings = append(s.Warnings, fmt.Sprintf("%s:%d: %q is not a valid pattern; line ignored", SlugignoreFile, n, line))
			continue
		}
		s.Patterns = append(s.Patterns, p)
	}
	return s
}

// trimTrailingSpaces drops trailing spaces that are not escaped with a backslash.
func trimTrailingSpaces(s string) string {
	for strings.HasSuffix(s, " ") && !strings.HasSuffix(s, `\ `) {
		s = s[:len(s)-1]
	}
	if strings.HasSuffix(s, `\ `) {
		s = s[:len(s)-2] + " "
	}
	return s
}

// ReadSlugignore reads dir/.slugignore; a missing file is an empty Slugignore. Anything but
// a regular file (a symlink to a file of the host, say) is ignored with a warning, never
// followed: the app is untrusted and the warnings quote lines.
func ReadSlugignore(dir string) (*Slugignore, error) {
	p := filepath.Join(dir, SlugignoreFile)
	fi, err := os.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return &Slugignore{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", SlugignoreFile, err)
	}
	if !fi.Mode().IsRegular() || fi.Size() > 1<<20 {
		return &Slugignore{Warnings: []string{SlugignoreFile + " is not a regular file of at most 1 MiB; ignored"}}, nil
	}
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", SlugignoreFile, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", SlugignoreFile, err)
	}
	return ParseSlugignore(data), nil
}

// Match reports whether the entry at rel (slash-separated, relative to the app's root) is
// matched by a pattern. isDir says whether it is a directory.
func (s *Slugignore) Match(rel string, isDir bool) bool {
	for _, p := range s.Patterns {
		if p.Match(rel, isDir) {
			return true
		}
	}
	return false
}

// Match reports whether the pattern matches the entry at rel.
func (p Pattern) Match(rel string, isDir bool) bool {
	if p.dirOnly && !isDir {
		return false
	}
	segs := strings.Split(strings.Trim(rel, "/"), "/")
	if !p.anchored {
		ok, _ := path.Match(p.segs[0], segs[len(segs)-1])
		return ok
	}
	return matchSegs(p.segs, segs)
}

// matchSegs matches pattern elements against path elements. "**" matches any number of
// elements (at least one when it ends the pattern). Results are memoised, so that patterns
// with many "**" cost O(len(pat)·len(segs)), not an exponential search: .slugignore comes
// from the app, which is not trusted.
func matchSegs(pat, segs []string) bool {
	memo := make([]int8, (len(pat)+1)*(len(segs)+1)) // 0 unknown, 1 match, 2 no match
	var match func(i, j int) bool
	match = func(i, j int) bool {
		k := i*(len(segs)+1) + j
		if memo[k] != 0 {
			return memo[k] == 1
		}
		ok := false
		switch {
		case i == len(pat):
			ok = j == len(segs)
		case pat[i] == "**":
			first := j
			if i == len(pat)-1 {
				first = j + 1 // a trailing "/**" matches what is inside, not the folder
			}
			for jj := first; jj <= len(segs) && !ok; jj++ {
				ok = match(i+1, jj)
			}
		case j < len(segs):
			if m, _ := path.Match(pat[i], segs[j]); m {
				ok = match(i+1, j+1)
			}
		}
		memo[k] = 2
		if ok {
			memo[k] = 1
		}
		return ok
	}
	return match(0, 0)
}

// Apply removes from dir every entry the patterns match (a matched directory with all it
// holds) and returns their relative paths, in walk order. Symlinks are removed, never
// followed.
func (s *Slugignore) Apply(dir string) ([]string, error) {
	if len(s.Patterns) == 0 {
		return nil, nil
	}
	var removed []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == dir {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if !s.Match(rel, d.IsDir()) {
			return nil
		}
		if err := os.RemoveAll(p); err != nil {
			return err
		}
		removed = append(removed, rel)
		if d.IsDir() {
			return filepath.SkipDir
		}
		return nil
	})
	if err != nil {
		return removed, fmt.Errorf("apply %s: %w", SlugignoreFile, err)
	}
	return removed, nil
}
