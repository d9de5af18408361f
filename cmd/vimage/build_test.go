package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vr-paas/vr/pkg/cli"
	"github.com/vr-paas/vr/pkg/cli/clitest"
	"github.com/vr-paas/vr/pkg/schema"
	"github.com/vr-paas/vr/pkg/testutil"
)

// writeSpec writes an image.yaml into dir.
func writeSpec(t *testing.T, dir, body string) string {
	t.Helper()
	p := filepath.Join(dir, "image.yaml")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// busyboxBase makes a busybox base tarball in a new directory.
func busyboxBase(t *testing.T) string {
	t.Helper()
	testutil.RequireBinary(t, "busybox", "tar")
	dir := t.TempDir()
	if err := testutil.MakeBusyboxRootfs(filepath.Join(dir, "rootfs")); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "busybox.tgz")
	if b, err := exec.Command("tar", "--numeric-owner", "-C", filepath.Join(dir, "rootfs"), "-czf", out, ".").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v\n%s", err, b)
	}
	return out
}

// project is a working directory with an image.yaml over a busybox base and a script.
func project(t *testing.T, name, script string, extra string) (dir, spec string) {
	t.Helper()
	testutil.RequireLXC(t)
	dir = t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "provision.sh"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	spec = writeSpec(t, dir, "base_image_url: "+busyboxBase(t)+"\nbase_image_name: busybox\nnew_image_name: "+name+
		"\nscript_url: "+filepath.Join(dir, "provision.sh")+"\n"+extra)
	t.Chdir(dir)
	return dir, spec
}

func TestBuildBadSpec(t *testing.T) {
	testutil.RequireRoot(t) // the root check comes first
	dir := t.TempDir()
	missing := writeSpec(t, t.TempDir(), "base_image_url: x.tar.gz\nbase_image_name: b\nnew_image_name: n\n")
	typo := writeSpec(t, t.TempDir(), "base_image_url: x.tar.gz\nbase_image_name: b\nnew_image_name: n\nscript_url: s.sh\nbase_image_md: abc\n")
	badMD5 := writeSpec(t, t.TempDir(), "base_image_url: x.tar.gz\nbase_image_name: b\nnew_image_name: n\nscript_url: s.sh\nbase_image_md5: abc\n")
	clitest.RunTable(t, newRootCmd, []clitest.Case{
		{Args: []string{"build", missing}, Code: cli.ExitBadInput, Stderr: `key "script_url": required key is missing`, StderrLine: true},
		{Args: []string{"build", typo}, Code: cli.ExitBadInput, Stderr: `:5: key "base_image_md"`, StderrLine: true},
		{Args: []string{"build", badMD5}, Code: cli.ExitBadInput, Stderr: `:5: key "base_image_md5"`, StderrLine: true},
		{Args: []string{"build", filepath.Join(dir, "nope.yaml")}, Code: cli.ExitBadInput, Stderr: "nope.yaml: cannot read", StderrLine: true},
	})
}

func TestBuildCommand(t *testing.T) {
	dir, spec := project(t, "cmdtest-build", "#!/bin/sh\necho provisioning with $GREETING\necho hi > /hello\n", "env:\n  GREETING: hola\n")
	root := t.TempDir()
	r := clitest.Run(t, newRootCmd, "--root", root, "build", spec)
	if r.Code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", r.Code, r.Stdout, r.Stderr)
	}
	if !strings.Contains(r.Stdout, "provisioning with hola\n") {
		t.Errorf("script output not on stdout: %q", r.Stdout)
	}
	for _, f := range []string{"cmdtest-build.tar.gz", "cmdtest-build.log", "cmdtest-build.yaml"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	rec, err := schema.LoadImageResult(filepath.Join(dir, "cmdtest-build.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if rec.Env["GREETING"] != "hola" || rec.NewImageMD5 == "" {
		t.Errorf("record %+v", rec)
	}
	if _, err := os.Stat(filepath.Join(root, "images", "busybox", "busybox.tgz")); err != nil {
		t.Errorf("base not cached under --root: %v", err)
	}
	if log, _ := os.ReadFile(filepath.Join(dir, "cmdtest-build.log")); string(log) != "provisioning with hola\n" {
		t.Errorf("log %q", log)
	}
}

func TestBuildCommandFailures(t *testing.T) {
	t.Run("script", func(t *testing.T) {
		dir, spec := project(t, "cmdtest-fail", "#!/bin/sh\necho broken\nexit 9\n", "")
		r := clitest.Run(t, newRootCmd, "--root", t.TempDir(), "build", spec)
		if r.Code != cli.ExitFailure || !strings.Contains(r.Stderr, "vimage: provisioning script "+filepath.Join(dir, "provision.sh")+" exited with status 9 (output in cmdtest-fail.log)\n") {
			t.Fatalf("exit %d\nstderr: %s", r.Code, r.Stderr)
		}
		if _, err := os.Stat(filepath.Join(dir, "cmdtest-fail.tar.gz")); !os.IsNotExist(err) {
			t.Errorf("tarball written: %v", err)
		}
		if log, _ := os.ReadFile(filepath.Join(dir, "cmdtest-fail.log")); string(log) != "broken\n" {
			t.Errorf("log %q", log)
		}
	})
	t.Run("md5", func(t *testing.T) {
		_, spec := project(t, "cmdtest-md5", "#!/bin/sh\ntrue\n", "base_image_md5: ffffffffffffffffffffffffffffffff\n")
		r := clitest.Run(t, newRootCmd, "--root", t.TempDir(), "build", spec)
		if r.Code != cli.ExitFailure || !strings.Contains(r.Stderr, "does not match base_image_md5") {
			t.Fatalf("exit %d\nstderr: %s", r.Code, r.Stderr)
		}
	})
}
