// Package vcs keeps local checkouts of the git and Mercurial repositories vbuild builds from:
// apps (app_repo_url, app_repo_type) and buildpacks (buildpack_url(s), whose type is guessed).
//
// Git goes through go-git (github.com/go-git/go-git/v5), Mercurial through the hg command
// (HGPLAIN=1, arguments passed without a shell, "--" before every URL).
//
// # Checkouts
//
// [Update] clones a repository into a folder when it is missing (into a temporary folder
// renamed into place, so a clone killed half-way leaves nothing behind), brings it up to date
// and checks out a revision, discarding local changes and untracked files. The revision is,
// in order: the one asked for, else the URL's #fragment, else the default (git: the remote's
// default branch; hg: tip, as the original). A name is looked up as a remote branch first (so
// a branch that diverged from the local copy follows the remote), then as a tag (tags on no
// branch included), then as a full or abbreviated revision id. A full revision id that is
// already present locally is checked out without contacting the remote, so rebuilding a
// recorded build works offline.
//
// Folder names follow the original ([FolderName]): "<basename>-<md5 of the URL without its
// fragment>", e.g. builder/repo/vr_python_example-<md5> and builder/buildpacks/<name>-<md5>.
// Relative local paths are made absolute first.
//
// [Revision] IDs are full: a git SHA-1 (40 hex) or an hg node (40 hex; the original recorded
// the 12-digit short form, which still resolves here).
package vcs
