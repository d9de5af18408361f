// Package testutil holds helpers shared by vr's tests: gates for tests that need root, LXC or
// system binaries (skipped with a clear message on a machine that lacks them, failed instead
// when VR_TEST_REQUIRE asks for them, as CI does), and small file helpers.
package testutil

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// RequireEnv is the environment variable that turns skips into failures. Its value is a
// comma-separated list of features ("root", "lxc", "bin") or "all".
const RequireEnv = "VR_TEST_REQUIRE"

func required(feature string) bool {
	for _, f := range strings.Split(os.Getenv(RequireEnv), ",") {
		f = strings.TrimSpace(f)
		if f == "all" || f == feature {
			return true
		}
	}
	return false
}

// Missing skips the test with a message saying what is missing, or fails it when
// VR_TEST_REQUIRE names the feature ("root", "lxc", "bin") or is "all".
func Missing(t testing.TB, feature, format string, args ...any) {
	t.Helper()
	skipOrFail(t, feature, format, args...)
}

// skipOrFail skips the test with msg, or fails it when the feature is required.
func skipOrFail(t testing.TB, feature, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if required(feature) {
		t.Fatalf("%s (required by %s=%s)", msg, RequireEnv, os.Getenv(RequireEnv))
	}
	t.Skip(msg)
}

// RequireRoot skips the test unless it runs as root.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	skipOrFail(t, "root", "needs root (euid %d); run: sudo -E make test", os.Geteuid())
}

// RequireBinary skips the test unless every named program is on PATH.
func RequireBinary(t testing.TB, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			skipOrFail(t, "bin", "needs %s on PATH; run: scripts/deps.sh", n)
		}
	}
}

// RequireLXC skips the test unless it runs as root on a host where liblxc is installed and a
// memory cgroup controller (v1 or v2) is mounted.
func RequireLXC(t testing.TB) {
	t.Helper()
	RequireRoot(t)
	if _, err := os.Stat("/usr/share/lxc"); err != nil {
		skipOrFail(t, "lxc", "needs liblxc (apt-get install lxc lxc-dev); run: make test")
	}
	if !memoryCgroup() {
		skipOrFail(t, "lxc", "needs a memory cgroup controller (v1 /sys/fs/cgroup/memory or v2)")
	}
}

func memoryCgroup() bool {
	if _, err := os.Stat("/sys/fs/cgroup/memory/memory.limit_in_bytes"); err == nil {
		return true
	}
	b, err := os.ReadFile("/sys/fs/cgroup/cgroup.controllers")
	return err == nil && strings.Contains(string(b), "memory")
}
