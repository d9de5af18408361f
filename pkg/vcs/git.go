package vcs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// originHead is the symbolic reference recording the remote's default branch.
const originHead = plumbing.ReferenceName("refs/remotes/origin/HEAD")

// gitRepo is a git checkout driven by go-git.
type gitRepo struct {
	url, dir string
	progress io.Writer
}

func (g *gitRepo) open() (*git.Repository, error) {
	r, err := git.PlainOpen(g.dir)
	if err != nil {
		return nil, fmt.Errorf("open git checkout %s: %w", g.dir, err)
	}
	return r, nil
}

func (g *gitRepo) cloneInto(ctx context.Context, dir string) error {
	r, err := git.PlainCloneContext(ctx, dir, false, &git.CloneOptions{
		URL:        g.url,
		NoCheckout: true,
		Tags:       git.AllTags,
		Progress:   g.progress,
	})
	if err != nil {
		return err
	}
	// Record the remote's default branch (the clone's HEAD) as origin/HEAD.
	head, err := r.Reference(plumbing.HEAD, false)
	if err != nil {
		return err
	}
	if head.Type() == plumbing.SymbolicReference && head.Target().IsBranch() {
		target := plumbing.NewRemoteReferenceName("origin", head.Target().Short())
		if err := r.Storer.SetReference(plumbing.NewSymbolicReference(originHead, target)); err != nil {
			return err
		}
	}
	return nil
}

func (g *gitRepo) hasRevision(_ context.Context, rev string) bool {
	if !isFullID(rev) {
		return false
	}
	r, err := g.open()
	if err != nil {
		return false
	}
	_, err = r.CommitObject(plumbing.NewHash(strings.ToLower(rev)))
	return err == nil
}

func (g *gitRepo) fetch(ctx context.Context) error {
	r, err := g.open()
	if err != nil {
		return err
	}
	err = r.FetchContext(ctx, &git.FetchOptions{
		RemoteName: "origin",
		RemoteURL:  g.url,
		RefSpecs:   []config.RefSpec{"+refs/heads/*:refs/remotes/origin/*"},
		Tags:       git.AllTags,
		Force:      true,
		Prune:      true,
		Progress:   g.progress,
	})
	if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
		return err
	}
	return nil
}

// resolve finds the commit rev names: the default branch, a remote branch, a tag, a full or
// abbreviated commit id, in that order.
func (g *gitRepo) resolve(r *git.Repository, rev string) (*object.Commit, error) {
	var candidates []plumbing.ReferenceName
	if rev == "" {
		candidates = []plumbing.ReferenceName{originHead, "refs/remotes/origin/master", "refs/remotes/origin/main", plumbing.HEAD}
	} else {
		candidates = []plumbing.ReferenceName{
			plumbing.NewRemoteReferenceName("origin", rev),
			plumbing.NewTagReferenceName(rev),
		}
	}
	for _, name := range candidates {
		ref, err := r.Reference(name, true)
		if err != nil {
			continue
		}
		if c, err := commitOf(r, ref.Hash()); err == nil {
			return c, nil
		}
	}
	if len(rev) >= 4 && isHex(rev) {
		h, err := r.ResolveRevision(plumbing.Revision(strings.ToLower(rev)))
		if err == nil {
			if c, err := r.CommitObject(*h); err == nil && strings.HasPrefix(c.Hash.String(), strings.ToLower(rev)) {
				return c, nil
			}
		}
	}
	if rev == "" {
		return nil, fmt.Errorf("no default branch: %w", ErrRevisionNotFound)
	}
	return nil, fmt.Errorf("%q is not a branch, tag or commit of the repository: %w", rev, ErrRevisionNotFound)
}

// commitOf returns the commit h names, peeling annotated tags.
func commitOf(r *git.Repository, h plumbing.Hash) (*object.Commit, error) {
	if c, err := r.CommitObject(h); err == nil {
		return c, nil
	}
	t, err := r.TagObject(h)
	if err != nil {
		return nil, err
	}
	return t.Commit()
}

func (g *gitRepo) checkout(_ context.Context, rev string) (Revision, error) {
	r, err := g.open()
	if err != nil {
		return Revision{}, err
	}
	c, err := g.resolve(r, rev)
	if err != nil {
		return Revision{}, err
	}
	wt, err := r.Worktree()
	if err != nil {
		return Revision{}, err
	}
	if err := wt.Checkout(&git.CheckoutOptions{Hash: c.Hash, Force: true}); err != nil {
		return Revision{}, err
	}
	if err := wt.Clean(&git.CleanOptions{Dir: true}); err != nil {
		return Revision{}, err
	}
	return Revision{ID: c.Hash.String(), Time: c.Committer.When.UTC()}, nil
}

func (g *gitRepo) current(context.Context) (Revision, error) {
	r, err := g.open()
	if err != nil {
		return Revision{}, err
	}
	h, err := r.Head()
	if err != nil {
		return Revision{}, fmt.Errorf("git checkout %s: %w", g.dir, err)
	}
	c, err := r.CommitObject(h.Hash())
	if err != nil {
		return Revision{}, fmt.Errorf("git checkout %s: %w", g.dir, err)
	}
	return Revision{ID: c.Hash.String(), Time: c.Committer.When.UTC()}, nil
}

func (g *gitRepo) close() {}
