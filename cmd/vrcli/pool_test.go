package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/vr-paas/vr/pkg/cli/clitest"
)

// writePlatform writes a platform file with a dummy balancer "lb" (state in a temp dir) and
// returns its path.
func writePlatform(t *testing.T, extra string) string {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, "platform.yaml")
	text := fmt.Sprintf("BALANCERS:\n  lb:\n    BACKEND: vr.common.balancer.dummy.DummyBalancer\n    state_file: %s\n%s", filepath.Join(dir, "pools.json"), extra)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPool(t *testing.T) {
	cfg := writePlatform(t, "")
	clitest.RunTable(t, newRootCmd, []clitest.Case{
		{Args: []string{"--config", cfg, "pool", "list", "lb", "web"}, Code: 0},
		{Args: []string{"--config", cfg, "pool", "add", "lb", "web", "10.0.0.2:5001", "10.0.0.1:5000"}, Code: 0},
		{Args: []string{"--config", cfg, "pool", "add", "lb", "web", "10.0.0.3:5002"}, Code: 0},
		{Args: []string{"--config", cfg, "pool", "remove", "lb", "web", "10.0.0.2:5001"}, Code: 0},
		{Args: []string{"--config", cfg, "pool", "list", "lb", "web"}, Code: 0, Stdout: "10.0.0.1:5000\n10.0.0.3:5002\n"},
	})
	r := clitest.Run(t, newRootCmd, "--config", cfg, "pool", "list", "lb", "web")
	if r.Stdout != "10.0.0.1:5000\n10.0.0.3:5002\n" {
		t.Fatalf("list: %q", r.Stdout)
	}
	// VR_CONFIG names the platform file too.
	t.Setenv("VR_CONFIG", cfg)
	if r := clitest.Run(t, newRootCmd, "pool", "list", "lb", "web"); r.Code != 0 || r.Stdout != "10.0.0.1:5000\n10.0.0.3:5002\n" {
		t.Fatalf("VR_CONFIG: %+v", r)
	}
}

func TestPoolErrors(t *testing.T) {
	cfg := writePlatform(t, "")
	missing := filepath.Join(t.TempDir(), "none.yaml")
	clitest.RunTable(t, newRootCmd, []clitest.Case{
		{Args: []string{"pool", "add", "lb", "web"}, Code: 2, Stderr: "vrcli: add: missing argument NODE", StderrLine: true},
		{Args: []string{"pool", "list", "lb"}, Code: 2, Stderr: "missing argument POOL", StderrLine: true},
		{Args: []string{"--config", cfg, "pool", "add", "lb", "web", "nohost"}, Code: 2, Stderr: `vrcli: invalid node "nohost": want host:port`, StderrLine: true},
		{Args: []string{"--config", cfg, "pool", "add", "lb", "../web", "h:1"}, Code: 2, Stderr: `invalid pool "../web"`, StderrLine: true},
		{Args: []string{"--config", cfg, "pool", "list", "nolb", "web"}, Code: 2, Stderr: `no such balancer "nolb" (configured: lb)`, StderrLine: true},
		{Args: []string{"--config", missing, "pool", "list", "lb", "web"}, Code: 2, Stderr: "none.yaml: cannot read the platform file: no such file or directory", StderrLine: true},
	})
}

func TestPoolFailureIsExit1(t *testing.T) {
	// A balancer whose validator fails: the update is attempted and fails (exit 1), naming
	// the host and the validator's message.
	dir := t.TempDir()
	cfg := filepath.Join(dir, "platform.yaml")
	text := fmt.Sprintf("BALANCERS:\n  lb:\n    BACKEND: nginx\n    include_dir: %s\n    check_cmd: \"echo 'emerg: broken config' >&2; false\"\n    reload_cmd: 'true'\n    pid_file: none\n", dir)
	if err := os.WriteFile(cfg, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	clitest.RunTable(t, newRootCmd, []clitest.Case{
		{Args: []string{"--config", cfg, "pool", "add", "lb", "web", "10.0.0.1:5000"}, Code: 1, Stderr: "vrcli: nginx: host localhost: pool web: add nodes: configuration check", StderrLine: true},
		{Args: []string{"--config", cfg, "pool", "add", "lb", "web", "10.0.0.1:5000"}, Code: 1, Stderr: "emerg: broken config; previous configuration put back"},
		{Args: []string{"--config", cfg, "pool", "list", "lb", "web"}, Code: 0, Stdout: ""},
	})
}
