package builder_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vr-paas/vr/pkg/builder"
	"github.com/vr-paas/vr/pkg/container/lxc"
	"github.com/vr-paas/vr/pkg/schema"
	"github.com/vr-paas/vr/pkg/testutil"
)

// TestMain lets the test binary play a vbuild that the test kills (helperBuild).
func TestMain(m *testing.M) {
	if os.Getenv("VR_BUILDER_HELPER") == "build" {
		os.Exit(helperBuild())
	}
	os.Exit(m.Run())
}

// helperBuild runs the build described by VR_HELPER_* variables.
func helperBuild() int {
	b, err := lxc.New(lxc.Options{LXCPath: os.Getenv("VR_HELPER_LXCPATH")})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	j, err := schema.ParseBuildJob("helper.yaml", []byte(os.Getenv("VR_HELPER_JOB")))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	_, err = builder.Build(context.Background(), j, builder.Options{
		Root: os.Getenv("VR_HELPER_ROOT"), Backend: b, OutputDir: os.Getenv("VR_HELPER_OUT"), Log: os.Stderr,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

func TestKilledBuildLeavesCacheIntact(t *testing.T) {
	e := newEnv(t)
	app, _ := gitRepo(t, "apps/hello")
	hello, _ := gitRepo(t, "buildpacks/hello")
	hog, _ := gitRepo(t, "buildpacks/hog")
	e.build(t, helloJob(t, app, "buildpack_url: "+hello), nil)
	manifest := readFile(t, filepath.Join(e.root, "builder", "cache", appKey("hello", app), "cache.json"))

	// A build whose compile poisons the cache and hangs, killed with SIGKILL.
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	var stderr testutil.SyncBuffer
	cmd.Stderr = &stderr
	cmd.Env = append(os.Environ(), "VR_BUILDER_HELPER=build", "VR_HELPER_LXCPATH="+e.backend.LXCPath(),
		"VR_HELPER_ROOT="+e.root, "VR_HELPER_OUT="+t.TempDir(),
		"VR_HELPER_JOB=app_name: hello\napp_repo_type: git\napp_repo_url: "+app+"\nversion: master\nbuildpack_url: "+hog+"\nenv: {HOG: poison}\n")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	key := appKey("hello", app)
	poisoned := filepath.Join(e.root, "builder", "work", key, "build", key, "poisoned")
	deadline := time.Now().Add(60 * time.Second)
	for !exists(poisoned) {
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatalf("the helper build never got to its compile:\n%s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if !strings.Contains(stderr.String(), "hog: poison") {
		t.Errorf("helper log:\n%s", stderr.String())
	}

	// Its container still runs and its overlay is still mounted; the cache itself is as it was.
	if got := readFile(t, filepath.Join(e.root, "builder", "cache", key, "cache.json")); got != manifest {
		t.Errorf("cache.json changed by a killed build: %s, was %s", got, manifest)
	}
	layers := filepath.Join(e.root, "builder", "cache", key, "layers")
	if out, _ := exec.Command("find", layers, "-name", "poison").Output(); len(out) > 0 {
		t.Errorf("poison in a cache layer: %s", out)
	}
	if !exists(filepath.Join(e.root, "builder", "work", key)) {
		t.Errorf("the killed build left nothing behind? (expected its work folder)")
	}

	// The next build cleans up after it and sees the previous cache, unpoisoned.
	_, log := e.build(t, helloJob(t, app, "buildpack_url: "+hello), nil)
	if !strings.Contains(log, "1 earlier build(s)") {
		t.Errorf("the previous cache is gone:\n%s", log)
	}
	if after := cacheFiles(t, e, "hello", app); strings.Contains(after, "poison") {
		t.Errorf("poison left in the cache: %s", after)
	}
	assertClean(t, e, "hello", app)
}
