package imager

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestEnviron(t *testing.T) {
	got := Environ(map[string]string{"PATH": "/opt/bin", "LANG": "C.UTF-8"}, "")
	want := []string{"HOME=/root", "LANG=C.UTF-8", "PATH=/opt/bin"}
	if !slices.Equal(got, want) {
		t.Errorf("Environ = %v, want %v", got, want)
	}
	got = Environ(nil, "xterm")
	want = []string{"HOME=/root", "PATH=" + DefaultPath, "TERM=xterm"}
	if !slices.Equal(got, want) {
		t.Errorf("Environ = %v, want %v", got, want)
	}
}

func TestContainerName(t *testing.T) {
	for in, want := range map[string]string{
		"my_awesome_image_20141031": "vimage-build-my_awesome_image_20141031",
		"é+x:y":                     "vimage-build-__x_y",
	} {
		if got := ContainerName("build", in); got != want {
			t.Errorf("ContainerName(%q) = %q, want %q", in, got, want)
		}
	}
	if got := ContainerName("shell", strings.Repeat("x", 300)); len(got) != 200 {
		t.Errorf("long name not cut: %d bytes", len(got))
	}
}

func TestFileName(t *testing.T) {
	for in, want := range map[string]string{
		"http://cdn.example.com/build/ubuntu.tar.gz?x=1": "ubuntu.tar.gz",
		"file:///srv/images/base.tar.xz":                 "base.tar.xz",
		"/path/to/provision.sh":                          "provision.sh",
		"provision.sh":                                   "provision.sh",
		"http://example.com/":                            "",
		"http://example.com":                             "",
	} {
		got, err := fileName(in)
		if got != want || (want == "") != (err != nil) {
			t.Errorf("fileName(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestNewestModTime(t *testing.T) {
	dir := t.TempDir()
	old, newer := time.Unix(1_000_000_000, 0), time.Unix(1_500_000_000, 500)
	for name, mt := range map[string]time.Time{"a": old, "sub/b": newer} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mt, mt); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chtimes(filepath.Join(dir, "sub"), old, old); err != nil {
		t.Fatal(err)
	}
	got, err := newestModTime(dir) // dir itself (now) does not count
	if err != nil || !got.Equal(time.Unix(1_500_000_000, 0)) {
		t.Errorf("newestModTime = %v, %v", got, err)
	}
}

// TestPrepareMountPoint covers each kind of /etc/resolv.conf a base may have, and an /etc that
// is a symlink leading out of the image, which must not make it touch the host.
func TestPrepareMountPoint(t *testing.T) {
	const name = "etc/resolv.conf"
	t.Run("file", func(t *testing.T) {
		root := t.TempDir()
		mkfile(t, filepath.Join(root, name), "nameserver 1.1.1.1\n")
		restore, err := prepareMountPoint(root, name)
		if err != nil {
			t.Fatal(err)
		}
		if err := restore(); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(filepath.Join(root, name)); string(b) != "nameserver 1.1.1.1\n" {
			t.Errorf("file changed: %q", b)
		}
	})
	t.Run("symlink", func(t *testing.T) {
		root := t.TempDir()
		mkfile(t, filepath.Join(root, "etc/x"), "")
		if err := os.Symlink("../run/systemd/resolve/stub-resolv.conf", filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
		restore, err := prepareMountPoint(root, name)
		if err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Lstat(filepath.Join(root, name)); err != nil || !fi.Mode().IsRegular() || fi.Size() != 0 {
			t.Fatalf("mount point: %v %v", fi, err)
		}
		if err := restore(); err != nil {
			t.Fatal(err)
		}
		if err := restore(); err != nil { // twice is fine
			t.Fatal(err)
		}
		if target, err := os.Readlink(filepath.Join(root, name)); err != nil || target != "../run/systemd/resolve/stub-resolv.conf" {
			t.Errorf("symlink not restored: %q %v", target, err)
		}
	})
	t.Run("missing", func(t *testing.T) {
		root := t.TempDir()
		restore, err := prepareMountPoint(root, name)
		if err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Lstat(filepath.Join(root, name)); err != nil || !fi.Mode().IsRegular() {
			t.Fatalf("mount point: %v %v", fi, err)
		}
		if err := restore(); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Lstat(filepath.Join(root, "etc")); !os.IsNotExist(err) {
			t.Errorf("etc created for the mount point is still there: %v", err)
		}
	})
	t.Run("directory", func(t *testing.T) {
		root := t.TempDir()
		if err := os.MkdirAll(filepath.Join(root, name), 0o755); err != nil {
			t.Fatal(err)
		}
		if _, err := prepareMountPoint(root, name); err == nil || !strings.Contains(err.Error(), "not a file") {
			t.Errorf("got %v", err)
		}
	})
	t.Run("etc-escapes", func(t *testing.T) {
		root, host := t.TempDir(), t.TempDir()
		if err := os.Symlink(host, filepath.Join(root, "etc")); err != nil {
			t.Fatal(err)
		}
		if _, err := prepareMountPoint(root, name); err == nil {
			t.Error("an /etc leading out of the image was followed")
		}
		if ents, _ := os.ReadDir(host); len(ents) != 0 {
			t.Errorf("wrote outside the image: %v", ents)
		}
	})
}

func mkfile(t *testing.T, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
