package vcs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// ErrRevisionNotFound is wrapped by the error Update returns when the revision asked for is
// neither a branch, a tag nor a revision of the repository.
var ErrRevisionNotFound = errors.New("revision not found")

// Revision is a checked-out revision.
type Revision struct {
	ID   string    // full id: git SHA-1 or hg node, 40 lower-case hex digits
	Time time.Time // commit time (git: committer date; hg: changeset date)
}

// Options configure Update.
type Options struct {
	// Progress, when set, receives the VCS's progress output while cloning and pulling (for a
	// terminal).
	Progress io.Writer
}

// Update makes dir a checkout of the repository at rawURL (of the given kind) at rev and
// returns the revision checked out; see the package comment for how rev is chosen and
// looked up. dir's parent is created when missing. Callers serialise Updates of one dir
// (vbuild takes a lock per URL).
func Update(ctx context.Context, kind Kind, rawURL, dir, rev string, opts Options) (Revision, error) {
	base, frag := SplitFragment(rawURL)
	if rev == "" {
		rev = frag
	}
	if strings.HasPrefix(base, "-") || base == "" {
		return Revision{}, fmt.Errorf("repository URL %q: must not be empty or start with \"-\"", base)
	}
	if strings.HasPrefix(rev, "-") {
		return Revision{}, fmt.Errorf("revision %q: must not start with \"-\"", rev)
	}
	// A NUL would split an argument in two on hg's command-server wire (and cannot be in a
	// process argument): "x\x00--config\x00hooks.update=CMD" would run CMD.
	if strings.ContainsRune(base, 0) || strings.ContainsRune(rev, 0) || strings.ContainsRune(dir, 0) {
		return Revision{}, fmt.Errorf("repository URL %q or revision %q: must not contain a NUL byte", base, rev)
	}
	var r repo
	switch kind {
	case Git:
		r = &gitRepo{url: base, dir: dir, progress: opts.Progress}
	case Hg:
		r = &hgRepo{url: base, dir: dir, progress: opts.Progress}
	default:
		return Revision{}, fmt.Errorf("repository %s: unknown type %q: expected git or hg", base, kind)
	}
	defer r.close()
	if _, err := os.Stat(dir); err != nil {
		if err := clone(ctx, r, dir); err != nil {
			return Revision{}, fmt.Errorf("clone %s: %w", base, err)
		}
	} else if !r.hasRevision(ctx, rev) {
		if err := r.fetch(ctx); err != nil {
			return Revision{}, fmt.Errorf("update %s in %s: %w", base, dir, err)
		}
	}
	got, err := r.checkout(ctx, rev)
	if err != nil {
		return Revision{}, fmt.Errorf("check out %s at %s: %w", base, describeRev(rev), err)
	}
	return got, nil
}

// Current returns the revision checked out in dir.
func Current(ctx context.Context, kind Kind, dir string) (Revision, error) {
	switch kind {
	case Git:
		return (&gitRepo{dir: dir}).current(ctx)
	case Hg:
		h := &hgRepo{dir: dir}
		defer h.close()
		return h.current(ctx)
	}
	return Revision{}, fmt.Errorf("unknown repository type %q", kind)
}

// Detect returns the kind of the checkout in dir.
func Detect(dir string) (Kind, bool) { return kindOfFolder(dir) }

func describeRev(rev string) string {
	if rev == "" {
		return "the default revision"
	}
	return fmt.Sprintf("%q", rev)
}

// repo is one VCS's implementation of a checkout.
type repo interface {
	// cloneInto clones the repository into dir (which does not exist), without a checkout.
	cloneInto(ctx context.Context, dir string) error
	// hasRevision reports whether rev is a full revision id present locally.
	hasRevision(ctx context.Context, rev string) bool
	// fetch brings the local copy up to date with the remote.
	fetch(ctx context.Context) error
	// checkout checks rev out (empty: the default), discarding local changes and untracked
	// files.
	checkout(ctx context.Context, rev string) (Revision, error)
	current(ctx context.Context) (Revision, error)
	// close releases what the repo holds (hg's command server).
	close()
}

// clone clones r into a temporary folder beside dir and renames it into place.
func clone(ctx context.Context, r repo, dir string) error {
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".clone-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	into := filepath.Join(tmp, "repo")
	if err := r.cloneInto(ctx, into); err != nil {
		return err
	}
	return os.Rename(into, dir)
}

// isHex reports whether s is made of lower- or upper-case hex digits only.
func isHex(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// isFullID reports whether rev is a full 40-digit revision id.
func isFullID(rev string) bool { return len(rev) == 40 && isHex(rev) }
