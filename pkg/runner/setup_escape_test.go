package runner_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vr-paas/vr/pkg/container/containertest"
	"github.com/vr-paas/vr/pkg/fetch"
	"github.com/vr-paas/vr/pkg/runner"
	"github.com/vr-paas/vr/pkg/schema"
	"github.com/vr-paas/vr/pkg/testutil"
)

// escapeSetup writes a build tarball of the files made by mkBuild and a precise proc.yaml
// using it (changed by change), and returns a runner over a fake backend and the proc.
func escapeSetup(t *testing.T, mkBuild func(dir string), change func(c *schema.ProcConfig)) (*runner.Runner, *runner.Proc) {
	t.Helper()
	testutil.RequireRoot(t) // setup chowns the build
	tmp := t.TempDir()
	src := filepath.Join(tmp, "src")
	if err := os.Mkdir(src, 0o755); err != nil {
		t.Fatal(err)
	}
	mkBuild(src)
	build := filepath.Join(tmp, "app-v1-build.tar.gz")
	sums, err := fetch.CreateTarGz(context.Background(), build, src, fetch.TarOptions{Level: 1})
	if err != nil {
		t.Fatal(err)
	}
	c := &schema.ProcConfig{
		AppName: "esc", Version: "v1", ConfigName: "test", ReleaseHash: "abcd1234", ProcName: "web",
		Port: 5000, User: "nobody", BuildURL: build, BuildMD5: sums.MD5,
	}
	change(c)
	path := filepath.Join(tmp, "proc.yaml")
	if err := c.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	p, err := runner.Load(path, runner.Precise)
	if err != nil {
		t.Fatal(err)
	}
	r := &runner.Runner{Root: filepath.Join(tmp, "root"), Variant: runner.Precise, Backend: &containertest.Backend{}}
	return r, p
}

// A symlink of the build on the way to a volume's mount point must not make setup create
// folders outside the proc's root filesystem.
func TestSetupVolumeMountPointDoesNotFollowBuildSymlinks(t *testing.T) {
	outside := t.TempDir()
	r, p := escapeSetup(t, func(dir string) {
		if err := os.WriteFile(filepath.Join(dir, "Procfile"), []byte("web: sleep 1\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(outside, filepath.Join(dir, "data")); err != nil {
			t.Fatal(err)
		}
	}, func(c *schema.ProcConfig) {
		c.Volumes = []schema.Volume{{Host: t.TempDir(), Container: "/app/data/sub"}}
	})
	if err := r.Setup(context.Background(), p); err != nil {
		t.Fatalf("Setup: %v", err)
	}
	if _, err := os.Lstat(filepath.Join(outside, "sub")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("setup created %s through the build's symlink app/data (err %v)", filepath.Join(outside, "sub"), err)
	}
}

// A Procfile that is a symlink to a host file must not be read.
func TestSetupProcfileSymlinkIsNotFollowedOutOfApp(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secret, []byte("web: HOST_SECRET_VALUE\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r, p := escapeSetup(t, func(dir string) {
		if err := os.Symlink(secret, filepath.Join(dir, "Procfile")); err != nil {
			t.Fatal(err)
		}
	}, func(*schema.ProcConfig) {})
	err := r.Setup(context.Background(), p)
	if err == nil {
		l := runner.LayoutOf(r.Root, p.Name)
		data, _ := os.ReadFile(filepath.Join(l.Rootfs(), "proc.sh"))
		t.Fatalf("Setup read the host file behind the build's Procfile symlink; proc.sh:\n%s", data)
	}
	if strings.Contains(err.Error(), "HOST_SECRET_VALUE") {
		t.Errorf("error shows the host file: %v", err)
	}
}

// Setup must not write env.sh (the proc's secrets) through a symlink left at env.sh.new.
func TestSetupDoesNotWriteThroughPlantedSymlink(t *testing.T) {
	r, p := escapeSetup(t, func(dir string) {
		if err := os.WriteFile(filepath.Join(dir, "Procfile"), []byte("web: sleep 1\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}, func(c *schema.ProcConfig) { c.Env = map[string]string{"SECRET": "s3cr3t"} })
	if err := r.Setup(context.Background(), p); err != nil {
		t.Fatalf("Setup: %v", err)
	}
	victim := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(victim, []byte("untouched"), 0o644); err != nil {
		t.Fatal(err)
	}
	l := runner.LayoutOf(r.Root, p.Name)
	if err := os.Symlink(victim, filepath.Join(l.Rootfs(), "env.sh.new")); err != nil {
		t.Fatal(err)
	}
	if err := r.Setup(context.Background(), p); err != nil {
		t.Fatalf("second Setup: %v", err)
	}
	if data, _ := os.ReadFile(victim); string(data) != "untouched" {
		t.Errorf("setup wrote through the symlink env.sh.new: %s now holds %q", victim, data)
	}
	fi, err := os.Lstat(filepath.Join(l.Rootfs(), "env.sh"))
	if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm()&0o004 != 0 {
		t.Errorf("env.sh: %v %v; want a regular file not readable by others", fi, err)
	}
}

// The uptests folder of the build may be a symlink to a host folder: its names must not be
// listed (they would show in the JSON results).
func TestUptestListingStaysInApp(t *testing.T) {
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "HOST_FILE_NAME"), nil, 0o755); err != nil {
		t.Fatal(err)
	}
	r, p := escapeSetup(t, func(dir string) {
		if err := os.WriteFile(filepath.Join(dir, "Procfile"), []byte("web: sleep 1\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Mkdir(filepath.Join(dir, "uptests"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(outside, filepath.Join(dir, "uptests", "web")); err != nil {
			t.Fatal(err)
		}
	}, func(*schema.ProcConfig) {})
	if err := r.Setup(context.Background(), p); err != nil {
		t.Fatalf("Setup: %v", err)
	}
	results, err := r.Uptest(context.Background(), p)
	for _, res := range results {
		if res.Name == "HOST_FILE_NAME" {
			t.Errorf("uptest listed the host folder behind the build's symlink uptests/web: %+v", results)
		}
	}
	if err == nil {
		t.Errorf("Uptest: no error for uptests/web escaping /app (results %+v)", results)
	}
}
