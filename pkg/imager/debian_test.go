package imager_test

import (
	"archive/tar"
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vr-paas/vr/pkg/container"
	"github.com/vr-paas/vr/pkg/fetch"
	"github.com/vr-paas/vr/pkg/schema"
	"github.com/vr-paas/vr/pkg/testutil"
)

// debianBase returns the minimal Debian base tarball of scripts/mkbase-debian.sh, which makes
// it once per machine (about 30 s) and caches it in $VR_TEST_CACHE (/var/cache/vr-test).
func debianBase(t testing.TB) string {
	t.Helper()
	testutil.RequireRoot(t)
	testutil.RequireBinary(t, "debootstrap")
	requireMirror(t)
	out, err := exec.Command("../../scripts/mkbase-debian.sh").Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("scripts/mkbase-debian.sh: %v\n%s", err, stderr)
	}
	return strings.TrimSpace(string(out))
}

// requireMirror skips (fails with VR_TEST_REQUIRE=all) when Debian's mirror cannot be
// reached: debootstrap and apt-get need it.
func requireMirror(t testing.TB) {
	t.Helper()
	mirror := os.Getenv("VR_DEBIAN_MIRROR")
	if mirror == "" {
		mirror = "http://deb.debian.org/debian"
	}
	c := &http.Client{Timeout: 15 * time.Second}
	resp, err := c.Head(mirror + "/dists/bookworm/Release")
	if err == nil {
		_ = resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return
		}
	}
	testutil.Missing(t, "net", "needs Debian's mirror %s (set VR_DEBIAN_MIRROR): %v", mirror, err)
}

// TestDebianImageRunsInstalledPackage is the real thing: a debootstrap Debian base provisioned
// by a script that installs a package with apt-get (host network, name resolution), then that
// package's binary run in a container over the resulting image, with an overlay as the
// runners do.
func TestDebianImageRunsInstalledPackage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Debian image (network, about 30 s)")
	}
	b := newBackend(t)
	base := debianBase(t)
	e := newEnv(t, b)
	e.opts.ResolvConf = "" // the host's own, for real name resolution
	spec := &schema.ImageSpec{
		BaseImageURL:  base,
		BaseImageName: "debian-bookworm-minbase",
		NewImageName:  imageName(t),
		ScriptURL:     "../../testdata/images/provision-hello.sh",
		Env:           map[string]string{"DEBIAN_FRONTEND": "noninteractive"},
	}
	res, err := e.build(t, spec)
	if err != nil {
		t.Fatalf("build: %v\n%s", err, e.stderr.String())
	}
	t.Logf("timings %+v", res.Timings)
	log, err := os.ReadFile(res.Log)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(log), "Setting up hello") || !strings.Contains(string(log), "provisioned: hello (GNU Hello)") {
		t.Errorf("log:\n%s", log)
	}

	// What the image holds: owners kept, the base's resolv.conf, no script.
	img := readImage(t, res.Image)
	if sh := img["etc/shadow"].hdr; sh == nil || sh.Gid != 42 || sh.Mode&0o777 != 0o640 {
		t.Errorf("etc/shadow %+v, want group shadow (42), mode 0640", sh)
	}
	if rc := img["etc/resolv.conf"]; rc.hdr == nil || rc.hdr.Typeflag != tar.TypeReg || rc.data != "" {
		t.Errorf("etc/resolv.conf %+v %q, want the base's empty file", rc.hdr, rc.data)
	}
	if _, ok := img["usr/bin/hello"]; !ok {
		t.Error("usr/bin/hello not in the image")
	}
	for n := range img {
		if strings.Contains(n, "provision-hello") {
			t.Errorf("the script is in the image: %s", n)
		}
	}

	// Run the package's binary over the image.
	contents := filepath.Join(t.TempDir(), "contents")
	if err := fetch.Extract(context.Background(), res.Image, contents, fetch.ExtractOptions{AllowDevices: true}); err != nil {
		t.Fatal(err)
	}
	var out, errb testutil.SyncBuffer
	code, err := b.Run(context.Background(), container.Spec{
		Name:   imageName(t) + "-run",
		Rootfs: container.Rootfs{Overlay: &container.Overlay{Lower: contents, Upper: filepath.Join(t.TempDir(), "upper")}},
		Process: container.Process{
			Argv: []string{"hello", "-g", "hello from a vimage image"},
			UID:  65534, GID: 65534,
		},
	}, container.Streams{Out: &out, Err: &errb})
	if err != nil || code != 0 || out.String() != "hello from a vimage image\n" {
		t.Fatalf("hello in the image: code %d, err %v, stdout %q, stderr %q", code, err, out.String(), errb.String())
	}
}
