package testutil

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// BusyboxPath is where Debian's busybox-static installs its binary.
const BusyboxPath = "/bin/busybox"

// BusyboxRootfs assembles a minimal root filesystem in a new temporary directory: the static
// busybox binary with one symlink per applet under /bin, the usual empty directories, and
// /etc/passwd and /etc/group with root, nobody (65534) and a test user "app" (1000).
// It needs busybox-static (scripts/deps.sh installs it).
func BusyboxRootfs(t testing.TB) string {
	t.Helper()
	RequireBinary(t, "busybox")
	dir := t.TempDir()
	if err := MakeBusyboxRootfs(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

// MakeBusyboxRootfs assembles the busybox root filesystem described at BusyboxRootfs in dir.
func MakeBusyboxRootfs(dir string) error {
	for _, d := range []string{"bin", "sbin", "usr/bin", "usr/sbin", "etc", "dev", "proc", "sys", "tmp", "root", "app", "run", "var/tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	if err := os.Chmod(filepath.Join(dir, "tmp"), 0o777|os.ModeSticky); err != nil {
		return err
	}
	src, err := os.ReadFile(BusyboxPath)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "bin/busybox"), src, 0o755); err != nil {
		return err
	}
	out, err := exec.Command(BusyboxPath, "--list").Output()
	if err != nil {
		return err
	}
	for _, applet := range strings.Fields(string(out)) {
		if applet == "busybox" {
			continue
		}
		if err := os.Symlink("busybox", filepath.Join(dir, "bin", applet)); err != nil && !os.IsExist(err) {
			return err
		}
	}
	files := map[string]string{
		"etc/passwd":      "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/app:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
		"etc/group":       "root:x:0:\napp:x:1000:\nnogroup:x:65534:\n",
		"etc/hostname":    "busybox\n",
		"etc/hosts":       "127.0.0.1 localhost\n",
		"etc/resolv.conf": "",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}
