package builder_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vr-paas/vr/pkg/builder"
	"github.com/vr-paas/vr/pkg/buildpack"
	"github.com/vr-paas/vr/pkg/flock"
	"github.com/vr-paas/vr/pkg/schema"
	"github.com/vr-paas/vr/pkg/testutil"
)

// helloJob is the job of the hello app with the given buildpack lines.
func helloJob(t *testing.T, app, buildpacks string, extra ...string) *schema.BuildJob {
	t.Helper()
	return job(t, "app_name: hello\napp_repo_type: git\napp_repo_url: "+app+"\nversion: master\n"+buildpacks+"\n"+strings.Join(extra, "\n"))
}

// tarNames returns the entry names of a tarball, one a line.
func tarNames(t *testing.T, path string) []string {
	t.Helper()
	var names []string
	for _, l := range strings.Split(strings.TrimSpace(tarList(t, path)), "\n") {
		f := strings.Fields(l)
		names = append(names, f[len(f)-1])
	}
	return names
}

func TestBuildHostLayout(t *testing.T) {
	e := newEnv(t)
	app, appRev := gitRepo(t, "apps/hello")
	never, _ := gitRepo(t, "buildpacks/never")
	hello, helloRev := gitRepo(t, "buildpacks/hello")
	j := helloJob(t, app, "buildpack_urls:\n- "+never+"\n- "+hello, "env:\n  GREETING: hi there\n  EMPTY: ''")
	res, log := e.build(t, j, nil)

	// Detection order: never was tried first and said no; hello was chosen.
	if i, k := strings.Index(log, never+": exit 1 (never: this buildpack detects nothing)"), strings.Index(log, hello+`: detected "HelloFramework"`); i < 0 || k < i {
		t.Errorf("detect lines missing or out of order:\n%s", log)
	}
	sum := res.Summary
	if len(sum.Buildpacks) != 2 || sum.Buildpacks[0].Chosen || !sum.Buildpacks[1].Chosen ||
		sum.Buildpacks[0].Detect == nil || sum.Buildpacks[0].Detect.ExitCode != 1 || sum.Buildpacks[1].Detect.ExitCode != 0 {
		t.Errorf("summary buildpacks = %+v", sum.Buildpacks)
	}
	if sum.Detected != "HelloFramework" || sum.User != "nobody" || sum.Cache != "saved" || sum.Size == 0 || sum.Timings["compile"] <= 0 {
		t.Errorf("summary = %+v", sum)
	}

	// build_result.yaml: the original's keys, the buildpack pinned, the app revision.
	got, err := schema.LoadBuildJob(res.ResultFile)
	if err != nil {
		t.Fatal(err)
	}
	if got.AppRevision != appRev || got.BuildpackVersion != helloRev || got.BuildpackURL != hello+"#"+helloRev ||
		got.Version != "master" || len(got.BuildpackURLs) != 2 || got.Env["GREETING"] != "hi there" {
		t.Errorf("build_result.yaml = %+v", got)
	}
	sums, _ := os.ReadFile(res.Tarball)
	md := md5.Sum(sums)
	if got.BuildMD5 != hex.EncodeToString(md[:]) {
		t.Errorf("build_md5 %s is not the tarball's md5", got.BuildMD5)
	}
	rd := got.ReleaseData
	if pt, _ := rd["default_process_types"].(map[string]any); pt["web"] != "busybox httpd -f -p $PORT -h public" {
		t.Errorf("release_data = %#v", rd)
	}

	// The tarball: the built app, without VCS metadata or what .slugignore names, owned by
	// the build user, every time clamped to the commit's.
	names := strings.Join(tarNames(t, res.Tarball), " ")
	for _, want := range []string{"./", "Procfile", "goodbye.txt", "public/index.html", "uptests/web/01_alive", "env.txt", ".slugignore"} {
		if !strings.Contains(" "+names+" ", " "+want+" ") {
			t.Errorf("tarball lacks %s: %s", want, names)
		}
	}
	for _, bad := range []string{".git", "docs", "mockup.psd", ".compile.log", ".release.yaml"} {
		if strings.Contains(names, bad) {
			t.Errorf("tarball has %s: %s", bad, names)
		}
	}
	list := tarList(t, res.Tarball)
	if strings.Count(list, "65534/65534") != len(tarNames(t, res.Tarball)) || strings.Count(list, "2021-02-03 04:05") != len(tarNames(t, res.Tarball)) {
		t.Errorf("owners or times are not uniform:\n%s", list)
	}
	if got := tarFile(t, res.Tarball, "env.txt"); got != "EMPTY=\nGREETING=hi there\n" {
		t.Errorf("env.txt (from ENV_DIR) = %q", got)
	}
	if got := tarFile(t, res.Tarball, "public/index.html"); !strings.Contains(got, "Goodbye, world!") {
		t.Errorf("index.html = %q", got)
	}
	if cl := readFile(t, res.CompileLog); !strings.Contains(cl, "0 earlier build(s)") || !strings.Contains(log, cl) {
		t.Errorf("compile.log %q should be in the log too", cl)
	}

	// A second build sees the cache of the first.
	_, log = e.build(t, j, nil)
	if !strings.Contains(log, "1 earlier build(s)") {
		t.Errorf("second build did not see the cache:\n%s", log)
	}
	assertClean(t, e, "hello", app)
}

// assertClean checks that nothing of an app's builds is left: no container, no mount, no
// work folder.
func assertClean(t *testing.T, e *env, app, url string) {
	t.Helper()
	key := appKey(app, url)
	left, err := e.backend.Leftovers(context.Background(), "vbuild-"+key)
	if err != nil || len(left) > 0 {
		t.Errorf("container leftovers: %v %v", left, err)
	}
	mounts := readFile(t, "/proc/self/mountinfo")
	if strings.Contains(mounts, e.root) {
		t.Errorf("mounts left under %s:\n%s", e.root, mounts)
	}
	if exists(filepath.Join(e.root, "builder", "work", key)) {
		t.Errorf("work folder left")
	}
}

func TestReplayIsByteIdentical(t *testing.T) {
	e := newEnv(t)
	app, appRev := gitRepo(t, "apps/hello")
	hello, helloRev := gitRepo(t, "buildpacks/hello")
	j := helloJob(t, app, "buildpack_urls: ["+hello+"]")
	first, _ := e.build(t, j, nil)
	firstTar := readFile(t, first.Tarball)
	replay := filepath.Join(t.TempDir(), "build_result.yaml")
	if err := os.Rename(first.ResultFile, replay); err != nil {
		t.Fatal(err)
	}

	// Both repositories move on.
	newApp := gitCommit(t, app, `echo 'Hello again!' > hello.txt`, "v2")
	newBP := gitCommit(t, hello, `sed -i 's/Goodbye/Farewell/' bin/compile`, "farewell")

	// The recorded build: same revisions, same bytes, and no detect (buildpack_url is set).
	rj, err := schema.LoadBuildJob(replay)
	if err != nil {
		t.Fatal(err)
	}
	again, log := e.build(t, rj, nil)
	if again.Job.AppRevision != appRev || again.Job.BuildpackVersion != helloRev {
		t.Errorf("replay built %s with %s, want %s with %s", again.Job.AppRevision, again.Job.BuildpackVersion, appRev, helloRev)
	}
	if readFile(t, again.Tarball) != firstTar || again.Job.BuildMD5 != first.Job.BuildMD5 {
		t.Errorf("replay tarball differs (md5 %s, first %s)", again.Job.BuildMD5, first.Job.BuildMD5)
	}
	if strings.Contains(log, "Detecting") || again.Summary.Buildpacks[0].Detect != nil {
		t.Errorf("replay ran detect although buildpack_url is set:\n%s", log)
	}
	if again.Job.BuildpackURL != first.Job.BuildpackURL || again.Job.Version != "master" {
		t.Errorf("replay result: %+v", again.Job)
	}

	// The original job builds the new revisions.
	latest, _ := e.build(t, j, nil)
	if latest.Job.AppRevision != newApp || latest.Job.BuildpackVersion != newBP || latest.Job.BuildMD5 == first.Job.BuildMD5 {
		t.Errorf("latest built %s with %s (md5 %s)", latest.Job.AppRevision, latest.Job.BuildpackVersion, latest.Job.BuildMD5)
	}
	if got := tarFile(t, latest.Tarball, "goodbye.txt"); got != "Farewell again!\n" {
		t.Errorf("goodbye.txt = %q", got)
	}
}

func TestFragmentPinsBuildpack(t *testing.T) {
	e := newEnv(t)
	app, _ := gitRepo(t, "apps/hello")
	hello, oldRev := gitRepo(t, "buildpacks/hello")
	gitCommit(t, hello, `sed -i 's/Goodbye/Farewell/' bin/compile`, "farewell")
	for _, line := range []string{"buildpack_url: " + hello + "#" + oldRev[:10], "buildpack_urls: [" + hello + "#" + oldRev + "]"} {
		res, _ := e.build(t, helloJob(t, app, line), nil)
		if res.Job.BuildpackVersion != oldRev || res.Job.BuildpackURL != hello+"#"+oldRev {
			t.Errorf("%s: built with %s (%s)", line, res.Job.BuildpackVersion, res.Job.BuildpackURL)
		}
		if got := tarFile(t, res.Tarball, "goodbye.txt"); got != "Goodbye, world!\n" {
			t.Errorf("%s: goodbye.txt = %q (not the pinned revision's)", line, got)
		}
	}
}

// cacheFiles lists the names of every file in an app's cache layers.
func cacheFiles(t *testing.T, e *env, app, url string) string {
	t.Helper()
	var names []string
	_ = filepath.WalkDir(filepath.Join(e.root, "builder", "cache", appKey(app, url)), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			names = append(names, d.Name())
		}
		return nil
	})
	return strings.Join(names, " ")
}

func TestCompileFailure(t *testing.T) {
	e := newEnv(t)
	app, _ := gitRepo(t, "apps/hello")
	hello, _ := gitRepo(t, "buildpacks/hello")
	failing, _ := gitRepo(t, "buildpacks/failing")
	e.build(t, helloJob(t, app, "buildpack_url: "+hello), nil)
	before := cacheFiles(t, e, "hello", app)

	out := t.TempDir()
	var log testutil.SyncBuffer
	o := e.opts(&log)
	o.OutputDir = out
	res, err := builder.Build(context.Background(), helloJob(t, app, "buildpack_urls: ["+failing+"]"), o)
	var se *buildpack.StepError
	if !errors.As(err, &se) || se.Step != "compile" || se.ExitCode != 3 {
		t.Fatalf("err = %v, want a compile StepError with exit code 3", err)
	}
	if !strings.Contains(err.Error(), "compile with "+failing+" failed with exit code 3") {
		t.Errorf("message: %v", err)
	}
	if cl := readFile(t, filepath.Join(out, "compile.log")); !strings.Contains(cl, "failing: starting") || !strings.Contains(cl, "failing: giving up") {
		t.Errorf("compile.log = %q", cl)
	}
	if exists(filepath.Join(out, "build.tar.gz")) || exists(filepath.Join(out, "build_result.yaml")) {
		t.Errorf("a failed build wrote build.tar.gz or build_result.yaml")
	}
	if res.Summary.Error == "" || res.Summary.Cache != "untouched" {
		t.Errorf("summary = %+v", res.Summary)
	}
	if after := cacheFiles(t, e, "hello", app); after != before || strings.Contains(after, "poison") {
		t.Errorf("cache changed by a failed build: %q, was %q", after, before)
	}
	_, log2 := e.build(t, helloJob(t, app, "buildpack_url: "+hello), nil)
	if !strings.Contains(log2, "1 earlier build(s)") {
		t.Errorf("the cache of the good build is gone:\n%s", log2)
	}
	assertClean(t, e, "hello", app)
}

func TestNoBuildpackDetected(t *testing.T) {
	e := newEnv(t)
	app, _ := gitRepo(t, "apps/hello")
	never, _ := gitRepo(t, "buildpacks/never")
	hello, _ := gitRepo(t, "buildpacks/hello")
	run(t, app, `git rm -q hello.txt && git commit -qm 'no hello'`)
	var log testutil.SyncBuffer
	res, err := builder.Build(context.Background(), helloJob(t, app, "buildpack_urls: ["+never+", "+hello+"]"), e.opts(&log))
	var nm *buildpack.NoMatchError
	for _, r := range nm2(err) {
		t.Logf("%+v", r)
	}
	if !errors.As(err, &nm) || len(nm.Results) != 2 {
		t.Fatalf("err = %v, want NoMatchError over 2 buildpacks", err)
	}
	msg := err.Error()
	for _, want := range []string{"no buildpack detected the app; tried 2", never + ": exit 1 (never: this buildpack detects nothing)", hello + ": exit 1 (no hello.txt)"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q: %s", want, msg)
		}
	}
	if exists(filepath.Join(e.out, "compile.log")) || res.CompileLog != "" {
		t.Errorf("compile.log written without a compile")
	}
	assertClean(t, e, "hello", app)
}

func TestHgAppAndBuildpack(t *testing.T) {
	e := newEnv(t)
	app, appRev := hgRepo(t, "apps/hello")
	hello, helloRev := hgRepo(t, "buildpacks/hello")
	j := job(t, "app_name: hello_hg\napp_repo_type: hg\napp_repo_url: "+app+"\nversion: default\nbuildpack_urls: ["+hello+"]\n")
	res, _ := e.build(t, j, nil)
	t.Logf("timings: %v", res.Summary.Timings)
	if res.Job.AppRevision != appRev || res.Job.BuildpackVersion != helloRev || res.Job.BuildpackURL != hello+"#"+helloRev {
		t.Errorf("hg build: %+v", res.Job)
	}
	if names := strings.Join(tarNames(t, res.Tarball), " "); strings.Contains(names, ".hg") || !strings.Contains(names, "goodbye.txt") {
		t.Errorf("tarball: %s", names)
	}
}

func TestBusyboxImage(t *testing.T) {
	e := newEnv(t)
	app, _ := gitRepo(t, "apps/hello")
	hello, _ := gitRepo(t, "buildpacks/hello")
	img := busyboxImage(t)
	j := helloJob(t, app, "buildpack_url: "+hello, "image_url: "+img, "image_name: busybox_test")
	res, log := e.build(t, j, nil)
	if !exists(filepath.Join(e.root, "images", "busybox_test", "contents", "bin", "busybox")) {
		t.Errorf("image not unpacked under images/busybox_test")
	}
	if got := tarFile(t, res.Tarball, "goodbye.txt"); got != "Goodbye, world!\n" {
		t.Errorf("goodbye.txt = %q\n%s", got, log)
	}
	if res.Job.ImageName != "busybox_test" || res.Job.ImageURL != img {
		t.Errorf("image keys not echoed: %+v", res.Job)
	}
	assertClean(t, e, "hello", app)
}

func TestDebianImageWithBashBuildpack(t *testing.T) {
	if testing.Short() {
		t.Skip("unpacks a 200 MB Debian image")
	}
	e := newEnv(t)
	img := debianImage(t)
	app, _ := gitRepo(t, "apps/hello")
	bash, _ := gitRepo(t, "buildpacks/bash")
	j := helloJob(t, app, "buildpack_urls: ["+bash+"]", "image_url: "+img, "image_name: debian_test")
	res, log := e.build(t, j, nil)
	if got := tarFile(t, res.Tarball, "bash.txt"); !strings.HasPrefix(got, "bash 5\ndebian 12") {
		t.Errorf("bash.txt = %q\n%s", got, log)
	}
	if got := tarFile(t, res.Tarball, "stack.txt"); got != "debian_test\n" {
		t.Errorf("STACK = %q", got)
	}
}

func TestContainment(t *testing.T) {
	e := newEnv(t)
	escape, _ := gitRepo(t, "buildpacks/escape")
	secretDir := t.TempDir()
	secret := filepath.Join(secretDir, "secret.txt")
	if err := os.WriteFile(secret, []byte("host secret\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// The app names host paths to try: a secret, the app's own cached checkout, a file of
	// the test's VR_ROOT, the lxc path.
	app := copyDir(t, testdata(t, "apps/hello"))
	repoFile := filepath.Join(e.root, "builder", "locks")
	targets := strings.Join([]string{secret, repoFile, e.backend.LXCPath()}, "\n")
	if err := os.WriteFile(filepath.Join(app, "targets"), []byte(targets+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, app, `git init -q -b master . && git add -A . && git commit -qm initial`)
	img := busyboxImage(t)
	for _, layout := range []string{"host", "image"} {
		t.Run(layout, func(t *testing.T) {
			extra := "env: {SECRET: s3cret}"
			if layout == "image" {
				extra += "\nimage_url: " + img + "\nimage_name: busybox_escape"
			}
			var log testutil.SyncBuffer
			res, err := builder.Build(context.Background(), helloJob(t, app, "buildpack_url: "+escape, extra), e.opts(&log))
			if err != nil {
				t.Fatalf("the escape buildpack got out (or failed): %v\n%s", err, log.String())
			}
			report := tarFile(t, res.Tarball, "escape-report.txt")
			t.Logf("%s", report)
			if strings.Contains(report, "ESCAPED") || !strings.Contains(report, "ALLOWED build, cache, tmp, env") ||
				!strings.Contains(report, "BLOCKED runs as uid 65534") || strings.Count(report, "BLOCKED") < 30 {
				t.Errorf("report:\n%s", report)
			}
		})
	}
	// The host is unchanged.
	if readFile(t, secret) != "host secret\n" {
		t.Errorf("secret changed")
	}
	for _, p := range []string{"/etc/vr-escape", "/usr/vr-escape", "/opt/vr-escape", "/usr/lib/vr-escape", "/vr-escape", "/etc/vr-escape-dir", secret + ".new"} {
		if exists(p) {
			t.Errorf("%s was created on the host", p)
			_ = os.RemoveAll(p)
		}
	}
}

func TestLimits(t *testing.T) {
	e := newEnv(t)
	app, _ := gitRepo(t, "apps/hello")
	hog, _ := gitRepo(t, "buildpacks/hog")
	for _, tc := range []struct {
		mode string
		mod  func(*builder.Options)
		want string
	}{
		{"memory", func(o *builder.Options) { o.Limits.Memory = 64 << 20 }, "failed with exit code"},
		{"pids", func(o *builder.Options) { o.Limits.Pids = 40 }, "exit code 7"},
		{"sleep", func(o *builder.Options) { o.Timeout = 1500 * time.Millisecond }, "build timed out after 1.5s"},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			var log testutil.SyncBuffer
			o := e.opts(&log)
			tc.mod(&o)
			start := time.Now()
			_, err := builder.Build(context.Background(), helloJob(t, app, "buildpack_url: "+hog, "env: {HOG: "+tc.mode+"}"), o)
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(log.String(), "survived") {
				t.Fatalf("err = %v, want %q\n%s", err, tc.want, log.String())
			}
			if tc.mode == "sleep" && (!errors.Is(err, builder.ErrTimedOut) || time.Since(start) > 30*time.Second) {
				t.Errorf("timeout: %v after %s", err, time.Since(start))
			}
			t.Logf("%s: %v", tc.mode, err)
			assertClean(t, e, "hello", app)
		})
	}
}

func TestConcurrentBuildsOfOneApp(t *testing.T) {
	e := newEnv(t)
	app, _ := gitRepo(t, "apps/hello")
	hello, _ := gitRepo(t, "buildpacks/hello")
	j := helloJob(t, app, "buildpack_url: "+hello)
	var wg sync.WaitGroup
	logs := make([]testutil.SyncBuffer, 2)
	errs := make([]error, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o := e.opts(&logs[i])
			o.OutputDir = t.TempDir()
			_, errs[i] = builder.Build(context.Background(), j, o)
		}()
	}
	wg.Wait()
	all := logs[0].String() + logs[1].String()
	if errs[0] != nil || errs[1] != nil {
		t.Fatalf("errors: %v, %v\n%s", errs[0], errs[1], all)
	}
	if !strings.Contains(all, "Waiting for another build of hello to finish") ||
		!strings.Contains(all, "0 earlier build(s)") || !strings.Contains(all, "1 earlier build(s)") {
		t.Errorf("the builds did not run one after the other:\n%s", all)
	}

	// A build that cannot get the lock in time says so.
	lockPath := filepath.Join(e.root, "builder", "locks", md5hex(filepath.Join(e.root, "builder", "cache", appKey("hello", app))))
	l, err := flock.Acquire(context.Background(), lockPath)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unlock()
	var log testutil.SyncBuffer
	o := e.opts(&log)
	o.LockTimeout = 300 * time.Millisecond
	_, err = builder.Build(context.Background(), j, o)
	if err == nil || !strings.Contains(err.Error(), "another build of hello still holds lock "+lockPath+" after 300ms") {
		t.Errorf("err = %v", err)
	}
}

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestBuildUser(t *testing.T) {
	e := newEnv(t)
	app, _ := gitRepo(t, "apps/hello")
	hello, _ := gitRepo(t, "buildpacks/hello")
	j := helloJob(t, app, "buildpack_url: "+hello)
	for user, want := range map[string]string{"root": "is root", "0:100": "is root", "no_such_user": "is not in the container's /etc/passwd", "1000:0": "has group root"} {
		o := e.opts(nil)
		o.User = user
		_, err := builder.Build(context.Background(), j, o)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("user %s: err = %v, want %q", user, err, want)
		}
		// A bad --user is the caller's input: exit 2 (BadInput), naming the flag.
		var bi interface{ BadInput() bool }
		if err == nil || !errors.As(err, &bi) || !bi.BadInput() || !strings.Contains(err.Error(), "--user") {
			t.Errorf("user %s: err = %v is not a bad-input error naming --user", user, err)
		}
	}
	// Another unprivileged user: the tarball's owner follows.
	res, _ := e.build(t, j, func(o *builder.Options) { o.User = "4321:4322" })
	if list := tarList(t, res.Tarball); !strings.Contains(list, "4321/4322") {
		t.Errorf("tarball owners:\n%s", list)
	}
	assertClean(t, e, "hello", app)
}

func nm2(err error) []buildpack.DetectResult {
	var nm *buildpack.NoMatchError
	if errors.As(err, &nm) {
		return nm.Results
	}
	return nil
}
