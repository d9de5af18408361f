package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/vr-paas/vr/pkg/builder"
	"github.com/vr-paas/vr/pkg/cli"
	"github.com/vr-paas/vr/pkg/cli/clitest"
	"github.com/vr-paas/vr/pkg/container"
	"github.com/vr-paas/vr/pkg/testutil"
)

// rootWith returns a root command whose build, shell and cache purge record their options
// instead of running.
func rootWith(build *buildOptions, shell *shellOptions, purge *cachePurgeOptions) func(*cli.Deps) *cobra.Command {
	return func(d *cli.Deps) *cobra.Command {
		root := newRootCmd(d)
		for _, c := range root.Commands() {
			root.RemoveCommand(c)
		}
		root.AddCommand(
			newBuildCmd(d, func(_ context.Context, o buildOptions) error { *build = o; return nil }),
			newShellCmd(d, func(_ context.Context, o shellOptions) error { *shell = o; return nil }),
			newCacheCmd(d, func(_ context.Context, o cachePurgeOptions) error { *purge = o; return nil }),
		)
		return root
	}
}

func TestBuildFlags(t *testing.T) {
	var b buildOptions
	var s shellOptions
	var p cachePurgeOptions
	t.Setenv("VR_BUILD_USER", "app")
	t.Setenv("VR_BUILD_PIDS", "77")
	r := clitest.Run(t, rootWith(&b, &s, &p), "build", "-o", "out", "--json", "-q", "--shell-on-failure", "--memory", "512M",
		"--timeout", "5m", "--pids", "99", "--network", "none", "app.yaml")
	if r.Code != 0 {
		t.Fatalf("%+v", r)
	}
	want := buildOptions{File: "app.yaml", OutputDir: "out", JSON: true, Quiet: true, ShellOnFailure: true, Timeout: 5 * time.Minute,
		Container: containerFlags{User: "app", Memory: "512M", MemorySwap: "none", Pids: 99, CPUShares: 512, LockTimeout: time.Hour, Network: "none"}}
	if b != want {
		t.Errorf("build options:\n%+v\nwant\n%+v", b, want)
	}
	var o builder.Options
	if err := b.Container.apply(&o); err != nil || o.User != "app" || o.Limits.Memory != 512<<20 || o.Limits.MemorySwap != -1 ||
		o.Limits.Pids != 99 || o.Limits.CPUShares != 512 || o.Network != container.NetworkNone {
		t.Errorf("apply: %+v %v", o, err)
	}

	// The shell has the same container flags; the defaults apply.
	t.Setenv("VR_BUILD_PIDS", "")
	if r := clitest.Run(t, rootWith(&b, &s, &p), "shell", "--user", "1000:1000", "--memory", "none", "x.yaml"); r.Code != 0 {
		t.Fatalf("%+v", r)
	}
	if s.File != "x.yaml" || s.Container.User != "1000:1000" || s.Container.Memory != "none" || s.Container.Pids != builder.DefaultPids {
		t.Errorf("shell options: %+v", s)
	}
	if r := clitest.Run(t, rootWith(&b, &s, &p), "cache", "purge", "--lock-timeout", "3s", "hello"); r.Code != 0 || p.App != "hello" || p.LockTimeout != 3*time.Second {
		t.Errorf("purge: %+v %+v", r, p)
	}
}

func TestBuildBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := "app_name: hello\napp_repo_type: git\napp_repo_url: /nowhere\nversion: v1\nbuildpack_url: /nowhere\n"
	ok := write("ok.yaml", good)
	clitest.RunTable(t, newRootCmd, []clitest.Case{
		{Args: []string{"build", filepath.Join(dir, "missing.yaml")}, Code: 2, Stderr: "missing.yaml: cannot read", StderrLine: true},
		{Args: []string{"build", write("typo.yaml", good+"buildpack_ulrs: [x]\n")}, Code: 2, Stderr: `key "buildpack_ulrs"`, StderrLine: true},
		{Args: []string{"build", write("float.yaml", strings.Replace(good, "v1", "9.0", 1))}, Code: 2, Stderr: `key "version"`, StderrLine: true},
		{Args: []string{"build", write("nobp.yaml", "app_name: hello\napp_repo_type: git\napp_repo_url: /x\nversion: v1\n")}, Code: 2, Stderr: "buildpack_url", StderrLine: true},
		{Args: []string{"build", write("svn.yaml", strings.Replace(good, "git", "svn", 1))}, Code: 2, Stderr: `key "app_repo_type"`, StderrLine: true},
		{Args: []string{"build", "--memory", "lots", ok}, Code: 2, Stderr: `vbuild: --memory "lots": expected a size`, StderrLine: true},
		{Args: []string{"build", "--network", "bridge", ok}, Code: 2, Stderr: `--network "bridge": expected host or none`, StderrLine: true},
		{Args: []string{"build", "--cpu-shares", "1", ok}, Code: 2, Stderr: "--cpu-shares 1", StderrLine: true},
		{Args: []string{"build", "--memory", "1G", "--memory-swap", "512M", ok}, Code: 2, Stderr: "is less than --memory", StderrLine: true},
		{Args: []string{"cache", "purge", "a-b"}, Code: 2, StderrLine: true},
		{Args: []string{"build", "--timeout", "-5m", ok}, Code: 2, Stderr: "vbuild: --timeout -5m0s: expected a duration of 0 (no limit) or more", StderrLine: true},
	})
}

// repoRoot is the repository's root folder.
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// gitRepo copies a testdata folder into a new git repository with one commit.
func gitRepo(t *testing.T, rel string) string {
	t.Helper()
	testutil.RequireBinary(t, "git")
	dir := filepath.Join(t.TempDir(), filepath.Base(rel))
	if out, err := exec.Command("cp", "-a", filepath.Join(repoRoot(), "testdata", rel), dir).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
	cmd := exec.Command("sh", "-ec", "git init -q -b master . && git add -A . && git -c user.name=vr -c user.email=vr@example.com commit -qm initial")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git: %v %s", err, out)
	}
	return dir
}

// project makes a working directory (the current one for the test) with app.yaml for the
// hello app built by the given testdata buildpacks, and a VR_ROOT.
func project(t *testing.T, buildpacks ...string) (dir, root string) {
	t.Helper()
	testutil.RequireLXC(t)
	app := gitRepo(t, "apps/hello")
	var urls []string
	for _, bp := range buildpacks {
		urls = append(urls, gitRepo(t, "buildpacks/"+bp))
	}
	dir, root = t.TempDir(), t.TempDir()
	job := "app_name: hello\napp_repo_type: git\napp_repo_url: " + app + "\nversion: master\nbuildpack_urls: [" + strings.Join(urls, ", ") + "]\n"
	if err := os.WriteFile(filepath.Join(dir, "app.yaml"), []byte(job), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	return dir, root
}

func TestBuild(t *testing.T) {
	dir, root := project(t, "never", "hello")
	r := clitest.Run(t, newRootCmd, "--root", root, "build", "app.yaml")
	if r.Code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.Code, r.Stdout, r.Stderr)
	}
	for _, f := range []string{"build.tar.gz", "build_result.yaml", "compile.log"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	for _, want := range []string{"-----> Building hello (version master) on ", "-----> Container: the host's /bin /etc /lib /lib64 /usr /opt read-only; user nobody (65534:65534); memory 2G, pids 1024, cpu shares 512, timeout 30m0s, network host",
		`detected "HelloFramework"`, "-----> Compiling the hello app", "-----> Wrote "} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.Stdout)
		}
	}
	if r.Stderr != "" {
		t.Errorf("stderr: %s", r.Stderr)
	}
	first, _ := os.ReadFile(filepath.Join(dir, "build.tar.gz"))

	// build_result.yaml fed back, quietly, with a JSON summary.
	r = clitest.Run(t, newRootCmd, "--root", root, "build", "-q", "--json", "build_result.yaml")
	if r.Code != 0 {
		t.Fatalf("replay: exit %d\n%s\n%s", r.Code, r.Stdout, r.Stderr)
	}
	var sum builder.Summary
	if err := json.Unmarshal([]byte(r.Stdout), &sum); err != nil {
		t.Fatalf("--json output: %v\n%s", err, r.Stdout)
	}
	again, _ := os.ReadFile(filepath.Join(dir, "build.tar.gz"))
	if string(again) != string(first) || sum.BuildMD5 == "" || len(sum.Buildpacks) != 1 || sum.Buildpacks[0].Detect != nil || !sum.Buildpacks[0].Chosen {
		t.Errorf("replay differs or summary wrong: %+v", sum)
	}
	for _, k := range []string{`"timings_ms"`, `"compile"`, `"buildpack_url"`, `"size"`, `"app_revision"`} {
		if !strings.Contains(r.Stdout, k) {
			t.Errorf("--json lacks %s:\n%s", k, r.Stdout)
		}
	}
	if r.Stderr != "" {
		t.Errorf("-q printed: %s", r.Stderr)
	}

	// vbuild cache purge frees the cache.
	r = clitest.Run(t, newRootCmd, "--root", root, "cache", "purge", "hello")
	if r.Code != 0 || !strings.Contains(r.Stdout, "Purged "+filepath.Join(root, "builder", "cache", "hello-")) {
		t.Errorf("purge: %+v", r)
	}
	if ents, _ := os.ReadDir(filepath.Join(root, "builder", "cache")); len(ents) != 0 {
		t.Errorf("cache left: %v", ents)
	}
	r = clitest.Run(t, newRootCmd, "--root", root, "cache", "purge", "hello")
	if r.Code != 0 || !strings.Contains(r.Stdout, "No build cache of hello in") {
		t.Errorf("second purge: %+v", r)
	}
}

func TestBuildFailures(t *testing.T) {
	dir, root := project(t, "never", "failing")
	r := clitest.Run(t, newRootCmd, "--root", root, "build", "--json", "app.yaml")
	if r.Code != 1 || !strings.Contains(r.Stderr, "vbuild: compile with ") || !strings.Contains(r.Stderr, "failed with exit code 3") {
		t.Errorf("compile failure: exit %d\nstderr: %s", r.Code, r.Stderr)
	}
	if lines := strings.Split(strings.TrimSpace(r.Stderr), "\n"); !strings.HasPrefix(lines[len(lines)-1], "vbuild: compile with") {
		t.Errorf("last stderr line: %q", lines[len(lines)-1])
	}
	var sum builder.Summary
	if err := json.Unmarshal([]byte(r.Stdout), &sum); err != nil || !strings.Contains(sum.Error, "exit code 3") {
		t.Errorf("--json on failure: %v %+v", err, sum)
	}
	if _, err := os.Stat(filepath.Join(dir, "compile.log")); err != nil {
		t.Errorf("compile.log: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "build.tar.gz")); err == nil {
		t.Errorf("build.tar.gz written by a failed build")
	}
	// No buildpack detects: the message lists what each detect said.
	job, _ := os.ReadFile("app.yaml")
	if err := os.WriteFile("never.yaml", []byte(strings.Replace(string(job), ", ", "]\n#", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	r = clitest.Run(t, newRootCmd, "--root", root, "build", "-q", "never.yaml")
	if r.Code != 1 || !strings.Contains(r.Stderr, "vbuild: no buildpack detected the app; tried 1: ") || !strings.Contains(r.Stderr, "exit 1 (never: this buildpack detects nothing)") {
		t.Errorf("no detect: exit %d\n%s", r.Code, r.Stderr)
	}
}
