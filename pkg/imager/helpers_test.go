package imager_test

import (
	"archive/tar"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/klauspost/pgzip"

	"github.com/vr-paas/vr/pkg/container/lxc"
	"github.com/vr-paas/vr/pkg/imager"
	"github.com/vr-paas/vr/pkg/schema"
	"github.com/vr-paas/vr/pkg/testutil"
)

// newBackend returns an LXC backend with its own lxcpath, or skips without root and LXC.
func newBackend(t testing.TB) *lxc.Backend {
	t.Helper()
	testutil.RequireLXC(t)
	testutil.RequireBinary(t, "busybox", "tar")
	b, err := lxc.New(lxc.Options{LXCPath: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var nameRE = regexp.MustCompile(`[^A-Za-z0-9_]+`)

// imageName is a new_image_name unique to the test (container names are global on the host,
// and cmd/vimage's tests use "cmdtest-").
func imageName(t testing.TB) string {
	n := "pkgtest-" + strings.Trim(nameRE.ReplaceAllString(t.Name(), "_"), "_")
	if len(n) > 80 {
		n = n[:80]
	}
	return n
}

// busyboxTree makes a busybox root filesystem and lets edit change it.
func busyboxTree(t testing.TB, edit func(dir string)) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "base")
	if err := testutil.MakeBusyboxRootfs(dir); err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(dir)
	}
	return dir
}

// tarball packs dir with GNU tar into a tarball whose compression follows name's suffix.
func tarball(t testing.TB, dir, name string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), name)
	flag := map[string]string{".tar.gz": "-z", ".tgz": "-z", ".tar.bz2": "-j", ".tar.xz": "-J", ".tar": ""}
	var f string
	for suffix, fl := range flag {
		if strings.HasSuffix(name, suffix) {
			f = fl
		}
	}
	args := []string{"--numeric-owner", "-C", dir, "-cf", out}
	if f != "" {
		args = append([]string{f}, args...)
	}
	args = append(args, ".")
	if b, err := exec.Command("tar", args...).CombinedOutput(); err != nil {
		t.Fatalf("tar %v: %v\n%s", args, err, b)
	}
	return out
}

// busyboxBase is a busybox base tarball (.tar.gz), made once per test binary.
func busyboxBase(t testing.TB) string {
	t.Helper()
	baseOnce.Do(func() {
		dir, err := os.MkdirTemp("", "vimage-test-base-")
		if err != nil {
			baseErr = err
			return
		}
		cleanups = append(cleanups, func() { _ = os.RemoveAll(dir) })
		root := filepath.Join(dir, "rootfs")
		if err := testutil.MakeBusyboxRootfs(root); err != nil {
			baseErr = err
			return
		}
		basePath = filepath.Join(dir, "busybox.tar.gz")
		if b, err := exec.Command("tar", "--numeric-owner", "-C", root, "-czf", basePath, ".").CombinedOutput(); err != nil {
			baseErr = errors.New(string(b))
		}
	})
	if baseErr != nil {
		t.Fatal(baseErr)
	}
	return basePath
}

var (
	baseOnce sync.Once
	basePath string
	baseErr  error
	cleanups []func()
)

func TestMain(m *testing.M) {
	code := m.Run()
	for _, c := range cleanups {
		c()
	}
	os.Exit(code)
}

// writeScript writes a provisioning script into a new directory and returns its path.
func writeScript(t testing.TB, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil { // not executable: vimage makes it so
		t.Fatal(err)
	}
	return p
}

// env is a test's directories and options.
type env struct {
	out, root, work string
	stdout, stderr  testutil.SyncBuffer
	opts            imager.Options
}

func newEnv(t testing.TB, b *lxc.Backend) *env {
	t.Helper()
	e := &env{out: t.TempDir(), root: t.TempDir(), work: t.TempDir()}
	resolv := filepath.Join(t.TempDir(), "resolv.conf")
	if err := os.WriteFile(resolv, []byte("nameserver 192.0.2.53 # host resolv.conf for vimage tests\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	e.opts = imager.Options{
		Backend:    b,
		Root:       e.root,
		OutDir:     e.out,
		WorkDir:    e.work,
		Out:        &e.stdout,
		Err:        &e.stderr,
		ResolvConf: resolv,
	}
	return e
}

func (e *env) build(t testing.TB, spec *schema.ImageSpec) (*imager.Result, error) {
	t.Helper()
	if err := spec.Validate(); err != nil {
		t.Fatal(err)
	}
	return imager.Build(context.Background(), spec, e.opts)
}

// outputs lists the files in the output directory.
func (e *env) outputs(t testing.TB) []string {
	t.Helper()
	ents, err := os.ReadDir(e.out)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range ents {
		names = append(names, d.Name())
	}
	return names
}

// leftInWork lists what is left in the work directory besides lock files.
func (e *env) leftInWork(t testing.TB) []string {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(e.work, "vr-vimage"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range ents {
		if !strings.HasSuffix(d.Name(), ".lock") {
			names = append(names, d.Name())
		}
	}
	return names
}

// entry is one member of an image tarball.
type entry struct {
	hdr  *tar.Header
	data string
}

// readImage returns the members of a .tar.gz by name ("./" for the root, "etc/passwd", ...).
func readImage(t testing.TB, path string) map[string]entry {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := pgzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	out := map[string]entry{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		var data []byte
		if h.Typeflag == tar.TypeReg && h.Size < 1<<20 {
			if data, err = io.ReadAll(tr); err != nil {
				t.Fatal(err)
			}
		}
		out[strings.TrimSuffix(h.Name, "/")] = entry{hdr: h, data: string(data)}
	}
}
