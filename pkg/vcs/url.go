package vcs

import (
	"context"
	"crypto/md5" //nolint:gosec // the original's folder-name hash, not a security check
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Kind is a version control system.
type Kind string

// The supported kinds, spelled as app_repo_type spells them.
const (
	Git Kind = "git"
	Hg  Kind = "hg"
)

// ParseKind returns the Kind named s ("git" or "hg").
func ParseKind(s string) (Kind, error) {
	switch Kind(s) {
	case Git, Hg:
		return Kind(s), nil
	}
	return "", fmt.Errorf("unknown repository type %q: expected git or hg", s)
}

// SplitFragment returns the URL without its "#fragment", and the fragment ("" when none).
func SplitFragment(rawURL string) (base, fragment string) {
	base, fragment, _ = strings.Cut(rawURL, "#")
	return base, fragment
}

// IsLocal reports whether rawURL is a local path (not a URL with a scheme, nor git's
// scp-like "host:path").
func IsLocal(rawURL string) bool {
	base, _ := SplitFragment(rawURL)
	if strings.Contains(base, "://") {
		return false
	}
	if strings.HasPrefix(base, "/") || strings.HasPrefix(base, ".") {
		return true
	}
	colon := strings.Index(base, ":")
	slash := strings.Index(base, "/")
	return colon < 0 || (slash >= 0 && slash < colon)
}

// LocalPath returns the path of a local repository URL (a plain path or a file:// URL), and
// whether it is one.
func LocalPath(rawURL string) (string, bool) {
	base, _ := SplitFragment(rawURL)
	if strings.HasPrefix(base, "file://") {
		u, err := url.Parse(base)
		if err != nil || (u.Host != "" && u.Host != "localhost") {
			return "", false
		}
		return u.Path, true
	}
	if IsLocal(base) {
		return base, true
	}
	return "", false
}

// Normalize makes a relative local path absolute (against the working directory), keeping its
// fragment; other URLs are returned as they are. Folder names are computed from the
// normalized URL, so the same relative path from two directories is two repositories.
func Normalize(rawURL string) (string, error) {
	base, frag := SplitFragment(rawURL)
	if !IsLocal(base) || filepath.IsAbs(base) {
		return rawURL, nil
	}
	abs, err := filepath.Abs(base)
	if err != nil {
		return "", fmt.Errorf("repository path %s: %w", base, err)
	}
	if frag != "" || strings.Contains(rawURL, "#") {
		return abs + "#" + frag, nil
	}
	return abs, nil
}

// Basename is the original's repository base name: surrounding whitespace, the fragment and
// one trailing "/" dropped, the last path element, without a trailing ".git".
func Basename(rawURL string) string {
	s := strings.TrimSpace(rawURL)
	s, _ = SplitFragment(s)
	s = strings.TrimSuffix(s, "/")
	if i := strings.LastIndex(s, "/"); i >= 0 {
		s = s[i+1:]
	}
	if i := strings.LastIndex(s, ":"); i >= 0 && !strings.Contains(s[i:], "/") {
		s = s[i+1:] // scp-like "host:name"
	}
	return strings.TrimSuffix(s, ".git")
}

// URLHash is the hex MD5 of the URL without its fragment (no other normalisation: a trailing
// slash changes it), the suffix of the original's folder names.
func URLHash(rawURL string) string {
	base, _ := SplitFragment(rawURL)
	sum := md5.Sum([]byte(base)) //nolint:gosec // see import
	return hex.EncodeToString(sum[:])
}

// FolderName is "<Basename>-<URLHash>", the name of a repository's folder under
// builder/repo or builder/buildpacks. A basename that is empty or unusable as a file name
// becomes "repo".
func FolderName(rawURL string) string {
	b := Basename(rawURL)
	if b == "" || b == "." || b == ".." || strings.ContainsAny(b, "/\x00") {
		b = "repo"
	}
	return b + "-" + URLHash(rawURL)
}

// Guess tells the kind of the repository at rawURL, for buildpack URLs, which have no type:
// a local repository by its metadata folder (.git, .hg, or a bare git repository); a URL with
// a git scheme, ending in .git or on github.com is git; an http(s) URL that answers
// Mercurial's "capabilities" command is hg; any other is git. client may be nil.
func Guess(ctx context.Context, rawURL string, client *http.Client) (Kind, error) {
	base, _ := SplitFragment(rawURL)
	if p, ok := LocalPath(base); ok {
		if k, ok := kindOfFolder(p); ok {
			return k, nil
		}
		return "", fmt.Errorf("%s is not a git or hg repository (no .git or .hg folder)", base)
	}
	if strings.HasSuffix(strings.TrimSuffix(base, "/"), ".git") {
		return Git, nil
	}
	u, err := url.Parse(base)
	if err != nil || u.Scheme == "" {
		return Git, nil // scp-like host:path
	}
	switch strings.ToLower(u.Scheme) {
	case "git", "git+ssh", "ssh+git":
		return Git, nil
	case "http", "https":
	default:
		return Git, nil
	}
	if h := strings.ToLower(u.Hostname()); h == "github.com" || strings.HasSuffix(h, ".github.com") {
		return Git, nil
	}
	if isHgServer(ctx, base, client) {
		return Hg, nil
	}
	return Git, nil
}

// kindOfFolder recognises a repository folder.
func kindOfFolder(dir string) (Kind, bool) {
	if isDir(filepath.Join(dir, ".hg")) {
		return Hg, true
	}
	if exists(filepath.Join(dir, ".git")) {
		return Git, true
	}
	if exists(filepath.Join(dir, "HEAD")) && isDir(filepath.Join(dir, "objects")) && isDir(filepath.Join(dir, "refs")) {
		return Git, true // bare
	}
	return "", false
}

// isHgServer asks an http(s) URL Mercurial's "capabilities" wire command.
func isHgServer(ctx context.Context, base string, client *http.Client) bool {
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+sep+"cmd=capabilities", nil)
	if err != nil {
		return false
	}
	req.Header.Set("Accept", "application/mercurial-0.1")
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	return resp.StatusCode == http.StatusOK && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/mercurial")
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}
