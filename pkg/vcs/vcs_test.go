package vcs_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vr-paas/vr/pkg/testutil"
	"github.com/vr-paas/vr/pkg/vcs"
)

// sh runs a shell script in dir with a fixed identity and dates, and returns its stdout.
func sh(t *testing.T, dir, script string) string {
	t.Helper()
	cmd := exec.Command("sh", "-ec", script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com",
		"GIT_AUTHOR_DATE=2020-01-02T03:04:05Z", "GIT_COMMITTER_DATE=2020-01-02T03:04:05Z",
		"HGUSER=t <t@example.com>", "HGPLAIN=1", "GIT_CONFIG_NOSYSTEM=1", "HOME="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", script, err, out)
	}
	return strings.TrimSpace(string(out))
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

func TestNames(t *testing.T) {
	for _, tc := range []struct{ url, base string }{
		{"https://github.com/btubbs/vr_python_example.git", "vr_python_example"},
		{"https://github.com/btubbs/vr_python_example.git#16c1dba07", "vr_python_example"},
		{"ssh://hg@bitbucket.org/yougov/velociraptor ", "velociraptor"},
		{"https://example.com/x/bp/", "bp"},
		{"git@github.com:heroku/heroku-buildpack-python.git", "heroku-buildpack-python"},
		{"/srv/repos/hello", "hello"},
	} {
		if got := vcs.Basename(tc.url); got != tc.base {
			t.Errorf("Basename(%q) = %q, want %q", tc.url, got, tc.base)
		}
	}
	// The hash ignores the fragment, not a trailing slash (as the original).
	a := vcs.FolderName("https://example.com/bp.git#abc")
	if a != vcs.FolderName("https://example.com/bp.git") {
		t.Errorf("fragment changes the folder name")
	}
	if a == vcs.FolderName("https://example.com/bp.git/") {
		t.Errorf("a trailing slash should change the folder name (original's rule)")
	}
	// md5("https://example.com/bp.git")
	if want := "bp-d55f1ed0fce0b7e74a3bbdc4d5e6f9a7"; !strings.HasPrefix(a, "bp-") || len(a) != len(want) {
		t.Errorf("FolderName = %q, want bp-<32 hex>", a)
	}
	if b, f := vcs.SplitFragment("x.git#rev"); b != "x.git" || f != "rev" {
		t.Errorf("SplitFragment = %q %q", b, f)
	}
	for url, local := range map[string]bool{"/a/b": true, "./a": true, "a/b": true, "file:///a": false, "host:path": false, "https://h/x": false, "a/b:c": true} {
		if got := vcs.IsLocal(url); got != local {
			t.Errorf("IsLocal(%q) = %v, want %v", url, got, local)
		}
	}
	t.Chdir(t.TempDir())
	n, err := vcs.Normalize("rel/bp#v1")
	if err != nil || !filepath.IsAbs(strings.TrimSuffix(n, "#v1")) || !strings.HasSuffix(n, "/rel/bp#v1") {
		t.Errorf("Normalize = %q, %v", n, err)
	}
	if k, err := vcs.ParseKind("svn"); err == nil {
		t.Errorf("ParseKind(svn) = %q", k)
	}
}

func TestGuess(t *testing.T) {
	ctx := context.Background()
	hgSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("cmd") == "capabilities" {
			w.Header().Set("Content-Type", "application/mercurial-0.1")
			_, _ = w.Write([]byte("lookup branchmap"))
			return
		}
		http.NotFound(w, r)
	}))
	defer hgSrv.Close()
	plain := httptest.NewServer(http.NotFoundHandler())
	defer plain.Close()

	for url, want := range map[string]vcs.Kind{
		"https://example.invalid/x.git":        vcs.Git,
		"git://example.invalid/x":              vcs.Git,
		"https://github.com/heroku/bp":         vcs.Git,
		"git@github.com:heroku/bp.git":         vcs.Git,
		hgSrv.URL + "/repo#abc":                vcs.Hg,
		plain.URL + "/repo":                    vcs.Git,
		"https://example.invalid/buildpack-go": vcs.Git, // unreachable: git
	} {
		got, err := vcs.Guess(ctx, url, nil)
		if err != nil || got != want {
			t.Errorf("Guess(%q) = %q, %v; want %q", url, got, err, want)
		}
	}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "h", ".hg"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "g", ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	if k, err := vcs.Guess(ctx, filepath.Join(dir, "h"), nil); k != vcs.Hg || err != nil {
		t.Errorf("hg folder: %q %v", k, err)
	}
	if k, err := vcs.Guess(ctx, "file://"+filepath.Join(dir, "g")+"#x", nil); k != vcs.Git || err != nil {
		t.Errorf("git folder: %q %v", k, err)
	}
	if _, err := vcs.Guess(ctx, dir, nil); err == nil || !strings.Contains(err.Error(), "not a git or hg repository") {
		t.Errorf("plain folder: %v", err)
	}
}

// gitUpstream makes the upstream repository of the git tests, mirroring the original's
// vr_python_example cases: v1 has newfile, v2 does not, detached-tag is on no branch, and
// master is later rewritten (diverges from what a checkout saw before).
type gitUpstream struct {
	dir                         string
	v1, v2, detached, oldMaster string
	annotated                   string
}

func newGitUpstream(t *testing.T) *gitUpstream {
	t.Helper()
	testutil.RequireBinary(t, "git")
	dir := filepath.Join(t.TempDir(), "app.git")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	u := &gitUpstream{dir: dir}
	sh(t, dir, `git init -q -b master . && echo one > Procfile && echo new > newfile && git add . && git commit -qm v1 && git tag v1`)
	u.v1 = sh(t, dir, `git rev-parse HEAD`)
	sh(t, dir, `git rm -q newfile && echo two > Procfile && git commit -qam v2 && git tag -a v2a -m annotated && git tag v2`)
	u.v2 = sh(t, dir, `git rev-parse HEAD`)
	u.annotated = u.v2
	sh(t, dir, `git checkout -q --detach && echo det > detached && git add detached && git commit -qm det && git tag detached-tag && git checkout -q master`)
	u.detached = sh(t, dir, `git rev-parse detached-tag`)
	sh(t, dir, `echo three > Procfile && git commit -qam m3 && git checkout -q -b feature && echo f > f && git add f && git commit -qm f && git checkout -q master`)
	u.oldMaster = sh(t, dir, `git rev-parse master`)
	return u
}

func update(t *testing.T, kind vcs.Kind, url, dir, rev string) vcs.Revision {
	t.Helper()
	r, err := vcs.Update(context.Background(), kind, url, dir, rev, vcs.Options{})
	if err != nil {
		t.Fatalf("Update(%s, rev %q): %v", url, rev, err)
	}
	cur, err := vcs.Current(context.Background(), kind, dir)
	if err != nil || cur.ID != r.ID {
		t.Fatalf("Current = %v, %v; Update said %s", cur, err, r.ID)
	}
	return r
}

func TestGitCheckouts(t *testing.T) {
	u := newGitUpstream(t)
	co := filepath.Join(t.TempDir(), "repo", vcs.FolderName(u.dir))

	// No revision: the default branch's tip.
	if r := update(t, vcs.Git, u.dir, co, ""); r.ID != u.oldMaster {
		t.Errorf("default = %s, want master %s", r.ID, u.oldMaster)
	}
	if r := update(t, vcs.Git, u.dir, co, ""); r.Time.Year() != 2020 {
		t.Errorf("commit time = %v", r.Time)
	}
	// Full and short SHA, tags (lightweight, annotated, on no branch), branches.
	for _, tc := range []struct{ rev, want string }{
		{u.v1, u.v1},
		{u.v2[:9], u.v2},
		{"v1", u.v1},
		{"v2a", u.annotated},
		{"detached-tag", u.detached},
		{"master", u.oldMaster},
		{"feature", ""},
	} {
		r := update(t, vcs.Git, u.dir, co, tc.rev)
		if tc.want != "" && r.ID != tc.want {
			t.Errorf("rev %q = %s, want %s", tc.rev, r.ID, tc.want)
		}
	}
	// Switching revisions switches the files, untracked ones are removed.
	update(t, vcs.Git, u.dir, co, u.v1)
	if !exists(filepath.Join(co, "newfile")) {
		t.Errorf("v1 should have newfile")
	}
	if err := os.WriteFile(filepath.Join(co, "junk"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(co, "Procfile"), []byte("changed"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := update(t, vcs.Git, u.dir, co, "v2"); r.ID != u.v2 {
		t.Errorf("v2 = %s, want %s", r.ID, u.v2)
	}
	if exists(filepath.Join(co, "newfile")) || exists(filepath.Join(co, "junk")) {
		t.Errorf("v2 should have neither newfile nor the untracked junk")
	}
	if b, _ := os.ReadFile(filepath.Join(co, "Procfile")); string(b) != "two\n" {
		t.Errorf("Procfile = %q, want the committed content", b)
	}

	// master diverges upstream (rewritten): the checkout follows the remote.
	sh(t, u.dir, `git reset -q --hard v2 && echo rewritten > Procfile && git commit -qam rewritten`)
	newMaster := sh(t, u.dir, `git rev-parse master`)
	if r := update(t, vcs.Git, u.dir, co, "master"); r.ID != newMaster {
		t.Errorf("diverged master = %s, want %s", r.ID, newMaster)
	}
	// A tag moved upstream is followed too.
	sh(t, u.dir, `git tag -f v1 `+u.v2)
	if r := update(t, vcs.Git, u.dir, co, "v1"); r.ID != u.v2 {
		t.Errorf("moved tag v1 = %s, want %s", r.ID, u.v2)
	}

	// A fragment pins the revision when none is asked for.
	if r := update(t, vcs.Git, u.dir+"#"+u.v1, co, ""); r.ID != u.v1 {
		t.Errorf("fragment = %s, want %s", r.ID, u.v1)
	}

	// Unknown revisions are named.
	_, err := vcs.Update(context.Background(), vcs.Git, u.dir, co, "no-such-rev", vcs.Options{})
	if !errors.Is(err, vcs.ErrRevisionNotFound) || !strings.Contains(err.Error(), "no-such-rev") {
		t.Errorf("unknown rev: %v", err)
	}

	// A known full revision needs no remote: the upstream can be gone.
	if err := os.RemoveAll(u.dir); err != nil {
		t.Fatal(err)
	}
	if r := update(t, vcs.Git, u.dir, co, u.v2); r.ID != u.v2 {
		t.Errorf("offline full id = %s", r.ID)
	}
	if _, err := vcs.Update(context.Background(), vcs.Git, u.dir, co, "master", vcs.Options{}); err == nil {
		t.Errorf("a branch needs the remote, which is gone: no error")
	}
}

func TestGitCloneFailureLeavesNothing(t *testing.T) {
	testutil.RequireBinary(t, "git")
	parent := t.TempDir()
	co := filepath.Join(parent, "x")
	_, err := vcs.Update(context.Background(), vcs.Git, filepath.Join(parent, "missing"), co, "", vcs.Options{})
	if err == nil {
		t.Fatal("no error cloning a missing repository")
	}
	ents, _ := os.ReadDir(parent)
	if len(ents) != 0 {
		t.Errorf("left behind: %v", ents)
	}
}

func TestHgCheckouts(t *testing.T) {
	testutil.RequireBinary(t, "hg")
	up := filepath.Join(t.TempDir(), "app")
	if err := os.Mkdir(up, 0o755); err != nil {
		t.Fatal(err)
	}
	sh(t, up, `hg init -q . && echo one > Procfile && echo new > newfile && hg add -q && hg commit -qm v1 -d '1577934245 0' && hg tag -q -d '1577934246 0' v1`)
	v1 := sh(t, up, `hg log -r v1 -T '{node}'`)
	sh(t, up, `hg rm -q newfile && echo two > Procfile && hg commit -qm v2 -d '1577934247 0'`)
	v2 := sh(t, up, `hg log -r . -T '{node}'`)
	sh(t, up, `hg branch -q other && echo o > o && hg add -q o && hg commit -qm other -d '1577934248 0'`)
	tip := sh(t, up, `hg log -r tip -T '{node}'`)

	co := filepath.Join(t.TempDir(), vcs.FolderName(up))
	if r := update(t, vcs.Hg, up, co, ""); r.ID != tip {
		t.Errorf("default = %s, want tip %s", r.ID, tip)
	}
	r := update(t, vcs.Hg, up, co, v1)
	if r.ID != v1 || !exists(filepath.Join(co, "newfile")) || r.Time.Unix() != 1577934245 {
		t.Errorf("v1: %+v newfile=%v", r, exists(filepath.Join(co, "newfile")))
	}
	if r := update(t, vcs.Hg, up, co, v2[:12]); r.ID != v2 || exists(filepath.Join(co, "newfile")) {
		t.Errorf("short v2: %s", r.ID)
	}
	if r := update(t, vcs.Hg, up, co, "v1"); r.ID != v1 {
		t.Errorf("tag v1: %s", r.ID)
	}
	if r := update(t, vcs.Hg, up, co, "default"); r.ID != v2 {
		t.Errorf("branch default: %s, want %s", r.ID, v2)
	}
	if err := os.WriteFile(filepath.Join(co, "junk"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if r := update(t, vcs.Hg, up+"#"+v1, co, ""); r.ID != v1 || exists(filepath.Join(co, "junk")) {
		t.Errorf("fragment: %s junk=%v", r.ID, exists(filepath.Join(co, "junk")))
	}
	// New upstream changesets are pulled.
	sh(t, up, `hg up -q default && echo three > Procfile && hg commit -qm v3 -d '1577934249 0'`)
	v3 := sh(t, up, `hg log -r . -T '{node}'`)
	if r := update(t, vcs.Hg, up, co, "default"); r.ID != v3 {
		t.Errorf("pulled default = %s, want %s", r.ID, v3)
	}
	_, err := vcs.Update(context.Background(), vcs.Hg, up, co, "nope", vcs.Options{})
	if !errors.Is(err, vcs.ErrRevisionNotFound) {
		t.Errorf("unknown rev: %v", err)
	}
	if k, ok := vcs.Detect(co); !ok || k != vcs.Hg {
		t.Errorf("Detect = %q %v", k, ok)
	}
}

// A revision (the job's version, or a buildpack URL's fragment) is one argument: a NUL in it
// must not split it into more on the hg command server's wire, which would let a job pass
// "--config hooks...=CMD" and run CMD as root.
func TestHgRevisionNULIsNotAnOption(t *testing.T) {
	testutil.RequireBinary(t, "hg")
	up := filepath.Join(t.TempDir(), "app")
	if err := os.Mkdir(up, 0o755); err != nil {
		t.Fatal(err)
	}
	sh(t, up, `hg init -q . && echo one > Procfile && hg add -q && hg commit -qm v1 -d '1577934245 0'`)
	pwned := filepath.Join(t.TempDir(), "pwned")
	co := filepath.Join(t.TempDir(), vcs.FolderName(up))
	update(t, vcs.Hg, up, co, "")
	for _, rev := range []string{
		"tip\x00--config\x00hooks.update=touch " + pwned,
		"tip\x00--config\x00hooks.pre-update=touch " + pwned,
	} {
		if _, err := vcs.Update(context.Background(), vcs.Hg, up, co, rev, vcs.Options{}); err == nil {
			t.Errorf("revision %q accepted", rev)
		}
		if exists(pwned) {
			t.Fatalf("revision %q ran a hook", rev)
		}
	}
	if _, err := vcs.Update(context.Background(), vcs.Hg, up+"#tip\x00--config\x00hooks.update=touch "+pwned, co, "", vcs.Options{}); err == nil || exists(pwned) {
		t.Errorf("fragment with NUL: err %v, hook ran %v", err, exists(pwned))
	}
}

// A .hgsub in the repository must not make the checkout clone what it names: here a host
// repository the app's author cannot read otherwise.
func TestHgSubrepoNotFollowed(t *testing.T) {
	testutil.RequireBinary(t, "hg")
	secret := filepath.Join(t.TempDir(), "secret")
	if err := os.Mkdir(secret, 0o755); err != nil {
		t.Fatal(err)
	}
	sh(t, secret, `hg init -q . && echo s3cret > key && hg add -q && hg commit -qm s -d '1 0'`)
	up := filepath.Join(t.TempDir(), "app")
	if err := os.Mkdir(up, 0o755); err != nil {
		t.Fatal(err)
	}
	sh(t, up, `hg init -q . && hg clone -q `+secret+` sub && echo "sub = `+secret+`" > .hgsub && hg add -q .hgsub && hg commit -qm 1 -d '1 0' && rm -rf sub`)
	co := filepath.Join(t.TempDir(), "co")
	_, err := vcs.Update(context.Background(), vcs.Hg, up, co, "", vcs.Options{})
	if exists(filepath.Join(co, "sub", "key")) {
		t.Fatalf("the subrepository %s was cloned into the checkout (err %v)", secret, err)
	}
}
