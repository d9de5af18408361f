package builder_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/vr-paas/vr/pkg/builder"
	"github.com/vr-paas/vr/pkg/container/lxc"
	"github.com/vr-paas/vr/pkg/schema"
	"github.com/vr-paas/vr/pkg/testutil"
	"github.com/vr-paas/vr/pkg/vcs"
)

// testdata is the repository's shared testdata folder.
func testdata(t testing.TB, rel string) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata", rel)
}

// run runs a shell script in dir with a fixed identity and dates.
func run(t testing.TB, dir, script string) string {
	t.Helper()
	cmd := exec.Command("sh", "-ec", script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"GIT_AUTHOR_NAME=vr", "GIT_AUTHOR_EMAIL=vr@example.com", "GIT_COMMITTER_NAME=vr", "GIT_COMMITTER_EMAIL=vr@example.com",
		"GIT_AUTHOR_DATE=2021-02-03T04:05:06Z", "GIT_COMMITTER_DATE=2021-02-03T04:05:06Z",
		"GIT_CONFIG_NOSYSTEM=1", "HOME="+dir, "HGUSER=vr <vr@example.com>", "HGPLAIN=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", script, err, out)
	}
	return strings.TrimSpace(string(out))
}

// copyDir copies a testdata folder (modes kept) to a new folder and returns it.
func copyDir(t testing.TB, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), filepath.Base(src))
	if out, err := exec.Command("cp", "-a", src, dst).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v\n%s", err, out)
	}
	return dst
}

// gitRepo turns a copy of the testdata folder rel into a git repository with one commit on
// master, and returns its path and the commit.
func gitRepo(t testing.TB, rel string) (string, string) {
	t.Helper()
	testutil.RequireBinary(t, "git")
	dir := copyDir(t, testdata(t, rel))
	rev := run(t, dir, `git init -q -b master . && git add -A . && git commit -qm initial && git rev-parse HEAD`)
	return dir, rev
}

// hgRepo does the same with Mercurial.
func hgRepo(t testing.TB, rel string) (string, string) {
	t.Helper()
	testutil.RequireBinary(t, "hg")
	dir := copyDir(t, testdata(t, rel))
	rev := run(t, dir, `hg init -q . && hg add -q . && hg commit -qm initial -d '1612325106 0' && hg log -r . -T '{node}'`)
	return dir, rev
}

// commit changes a repository: script runs in it, then everything is committed.
func gitCommit(t testing.TB, dir, script, msg string) string {
	t.Helper()
	return run(t, dir, script+` && git add -A . && git commit -qm '`+msg+`' && git rev-parse HEAD`)
}

// env is a test's VR_ROOT with a real LXC backend.
type env struct {
	root    string
	out     string
	backend *lxc.Backend
}

func newEnv(t testing.TB) *env {
	t.Helper()
	testutil.RequireLXC(t)
	testutil.RequireBinary(t, "git", "busybox")
	b, err := lxc.New(lxc.Options{LXCPath: filepath.Join(t.TempDir(), "lxc")})
	if err != nil {
		t.Fatalf("lxc.New: %v", err)
	}
	return &env{root: filepath.Join(t.TempDir(), "root"), out: t.TempDir(), backend: b}
}

// opts returns build options writing the log to log.
func (e *env) opts(log io.Writer) builder.Options {
	return builder.Options{Root: e.root, Backend: e.backend, OutputDir: e.out, Log: log, Timeout: 2 * time.Minute, StopTimeout: 2 * time.Second}
}

// job parses a build job written as YAML.
func job(t testing.TB, text string) *schema.BuildJob {
	t.Helper()
	j, err := schema.ParseBuildJob("app.yaml", []byte(text))
	if err != nil {
		t.Fatalf("job: %v\n%s", err, text)
	}
	return j
}

// build runs a build and fails the test on error; it returns the result and the log.
func (e *env) build(t testing.TB, j *schema.BuildJob, mod func(*builder.Options)) (*builder.Result, string) {
	t.Helper()
	var log testutil.SyncBuffer
	o := e.opts(&log)
	if mod != nil {
		mod(&o)
	}
	res, err := builder.Build(context.Background(), j, o)
	if err != nil {
		t.Fatalf("build: %v\nlog:\n%s", err, log.String())
	}
	return res, log.String()
}

// tarList lists the names in a tarball with tar tvzf-like lines (mode owner size name).
func tarList(t testing.TB, path string) string {
	t.Helper()
	out, err := exec.Command("tar", "--numeric-owner", "-tvzf", path).CombinedOutput()
	if err != nil {
		t.Fatalf("tar: %v\n%s", err, out)
	}
	return string(out)
}

// tarFile returns the content of one file of a tarball.
func tarFile(t testing.TB, path, name string) string {
	t.Helper()
	out, err := exec.Command("tar", "-xOzf", path, name).CombinedOutput()
	if err != nil {
		t.Fatalf("tar %s: %v\n%s", name, err, out)
	}
	return string(out)
}

func readFile(t testing.TB, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

// busyboxImage makes a busybox root filesystem tarball (an OS image for image_url).
func busyboxImage(t testing.TB) string {
	t.Helper()
	testutil.RequireBinary(t, "busybox", "tar")
	dir := t.TempDir()
	if err := testutil.MakeBusyboxRootfs(filepath.Join(dir, "rootfs")); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "busybox.tar.gz")
	if b, err := exec.Command("tar", "--numeric-owner", "-C", filepath.Join(dir, "rootfs"), "-czf", out, ".").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v\n%s", err, b)
	}
	return out
}

// debianImage returns the minimal Debian tarball of scripts/mkbase-debian.sh (made once per
// machine with debootstrap, then cached).
func debianImage(t testing.TB) string {
	t.Helper()
	testutil.RequireBinary(t, "debootstrap")
	script := filepath.Join(testdata(t, ""), "..", "scripts", "mkbase-debian.sh")
	cmd := exec.Command(script)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		testutil.Missing(t, "debian", "needs a debootstrapped Debian image (%s failed: %v: %s)", script, err, stderr.String())
	}
	return strings.TrimSpace(string(out))
}

// appKey is "<app>-<md5 of url>", the name of an app's folders under builder/.
func appKey(app, url string) string { return app + "-" + vcs.URLHash(url) }
