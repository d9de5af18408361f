package imager_test

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vr-paas/vr/pkg/container"
	"github.com/vr-paas/vr/pkg/fetch"
	"github.com/vr-paas/vr/pkg/imager"
	"github.com/vr-paas/vr/pkg/schema"
	"github.com/vr-paas/vr/pkg/testutil"
)

const envScript = `#!/bin/sh
echo "script is $0"
env > /env.out
cp /etc/resolv.conf /resolv.seen
echo "to stderr" >&2
echo done
`

// TestBuild builds over a busybox base and checks every output: the environment the script
// got, the log (stdout and stderr, also streamed), the record, what the image holds and
// what it does not (the host's resolv.conf, the script, the work tree).
func TestBuild(t *testing.T) {
	b := newBackend(t)
	e := newEnv(t, b)
	e.opts.Term = "xterm-test"
	base := busyboxBase(t)
	baseSums, err := fetch.HashFile(base)
	if err != nil {
		t.Fatal(err)
	}
	spec := &schema.ImageSpec{
		BaseImageURL:  base,
		BaseImageName: "busybox",
		BaseImageMD5:  strings.ToUpper(baseSums.MD5),
		NewImageName:  imageName(t),
		ScriptURL:     writeScript(t, "provision.sh", envScript),
		Env:           map[string]string{"GREETING": "hello world", "HOME": "/home/override"},
	}
	res, err := e.build(t, spec)
	if err != nil {
		t.Fatalf("build: %v\nstderr: %s", err, e.stderr.String())
	}

	// Outputs, in the output directory and nothing else there.
	name := spec.NewImageName
	if got, want := e.outputs(t), []string{name + ".log", name + ".tar.gz", name + ".yaml"}; !slices.Equal(got, want) {
		t.Errorf("output directory holds %v, want %v", got, want)
	}
	if res.Image != filepath.Join(e.out, name+".tar.gz") || res.Log != filepath.Join(e.out, name+".log") || res.Record != filepath.Join(e.out, name+".yaml") {
		t.Errorf("result paths %+v", res)
	}

	// The log has stdout and stderr, which were streamed to the terminal too.
	log, err := os.ReadFile(res.Log)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"script is " + imager.ScriptDir + "/provision.sh\n", "to stderr\n", "done\n"} {
		if !strings.Contains(string(log), want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	if !strings.Contains(e.stdout.String(), "done\n") || !strings.Contains(e.stderr.String(), "to stderr\n") {
		t.Errorf("script output not streamed: stdout %q stderr %q", e.stdout.String(), e.stderr.String())
	}

	// The record.
	rec, err := schema.LoadImageResult(res.Record)
	if err != nil {
		t.Fatal(err)
	}
	outSums, err := fetch.HashFile(res.Image)
	if err != nil {
		t.Fatal(err)
	}
	scriptSHA, err := fetch.FileSHA256(spec.ScriptURL)
	if err != nil {
		t.Fatal(err)
	}
	if rec.NewImageMD5 != outSums.MD5 || rec.NewImageSHA256 != outSums.SHA256 || rec.BaseImageMD5 != baseSums.MD5 ||
		rec.BaseImageSHA256 != baseSums.SHA256 || rec.ScriptSHA256 != scriptSHA || rec.BaseImageURL != base ||
		rec.ScriptURL != spec.ScriptURL || rec.Env["GREETING"] != "hello world" || rec.NewImageName != name {
		t.Errorf("record %+v\nimage %+v base %+v script %s", rec, outSums, baseSums, scriptSHA)
	}
	if res.Info == nil || res.Info.NewImageMD5 != outSums.MD5 {
		t.Errorf("result info %+v", res.Info)
	}

	// The image.
	img := readImage(t, res.Image)
	envOut := img["env.out"].data
	for _, want := range []string{
		"PATH=" + imager.DefaultPath + "\n", "HOME=/home/override\n", "GREETING=hello world\n", "TERM=xterm-test\n",
	} {
		if !strings.Contains(envOut, want) {
			t.Errorf("script environment lacks %q:\n%s", want, envOut)
		}
	}
	if got := img["resolv.seen"].data; !strings.Contains(got, "192.0.2.53") {
		t.Errorf("the script saw resolv.conf %q, want the host's", got)
	}
	if rc, ok := img["etc/resolv.conf"]; !ok || rc.hdr.Typeflag != tar.TypeReg || rc.data != "" {
		t.Errorf("image's etc/resolv.conf: %+v, want the base's empty file", rc)
	}
	for n := range img {
		if strings.Contains(n, "provision") || strings.HasPrefix(n, "dev/.vimage") {
			t.Errorf("the script is in the image: %s", n)
		}
	}
	if left := e.leftInWork(t); len(left) != 0 {
		t.Errorf("work directory not removed: %v", left)
	}
	if tm := res.Timings; tm.Unpack <= 0 || tm.Run <= 0 || tm.Pack <= 0 || tm.Total < tm.Unpack+tm.Run+tm.Pack {
		t.Errorf("timings %+v", tm)
	}
}

// TestBuildDeterministic: two builds of the same inputs give the same bytes (the second
// one from the cached base), and files the script did not touch keep their times.
func TestBuildDeterministic(t *testing.T) {
	b := newBackend(t)
	base := busyboxBase(t)
	script := writeScript(t, "provision.sh", "#!/bin/sh\nset -e\nmkdir -p /opt/app\necho v1 > /opt/app/version\nrm /etc/hostname\n")
	var md5s []string
	root := t.TempDir()
	for i := range 2 {
		e := newEnv(t, b)
		e.opts.Root = root
		res, err := e.build(t, &schema.ImageSpec{BaseImageURL: base, BaseImageName: "busybox", NewImageName: imageName(t), ScriptURL: script})
		if err != nil {
			t.Fatalf("build %d: %v\n%s", i, err, e.stderr.String())
		}
		if i == 1 && !strings.Contains(e.stderr.String(), "using ") {
			t.Errorf("second build did not use the cached base:\n%s", e.stderr.String())
		}
		md5s = append(md5s, res.Info.NewImageMD5)
		if i == 0 {
			img := readImage(t, res.Image)
			passwd, version := img["etc/passwd"].hdr.ModTime, img["opt/app/version"].hdr.ModTime
			if _, ok := img["etc/hostname"]; ok {
				t.Error("etc/hostname removed by the script is in the image")
			}
			if time.Since(passwd) > time.Hour || version.Before(passwd) || version.After(time.Now()) {
				t.Errorf("times: untouched etc/passwd %v, new opt/app/version %v", passwd, version)
			}
		}
		time.Sleep(1100 * time.Millisecond) // so that a time that leaked into the archive would show
	}
	if md5s[0] != md5s[1] {
		t.Fatalf("two builds differ: %v", md5s)
	}
}

// TestBuildScriptFailure: exit 1 material, the log is kept, no tarball or record.
func TestBuildScriptFailure(t *testing.T) {
	b := newBackend(t)
	e := newEnv(t, b)
	spec := &schema.ImageSpec{
		BaseImageURL: busyboxBase(t), BaseImageName: "busybox", NewImageName: imageName(t),
		ScriptURL: writeScript(t, "fail.sh", "#!/bin/sh\necho about to fail\necho oops >&2\nexit 7\n"),
	}
	// Outputs of an earlier build of the same image must not survive to pass for this one's.
	for _, ext := range []string{".tar.gz", ".yaml"} {
		if err := os.WriteFile(filepath.Join(e.out, spec.NewImageName+ext), []byte("old"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, err := e.build(t, spec)
	var se *imager.ScriptError
	if !errors.As(err, &se) || se.ExitCode != 7 || se.Log != filepath.Join(e.out, spec.NewImageName+".log") {
		t.Fatalf("got %v, want a ScriptError with status 7", err)
	}
	if !strings.Contains(err.Error(), "exited with status 7") || !strings.Contains(err.Error(), spec.NewImageName+".log") {
		t.Errorf("message %q", err)
	}
	if got, want := e.outputs(t), []string{spec.NewImageName + ".log"}; !slices.Equal(got, want) {
		t.Errorf("outputs %v, want only %v", got, want)
	}
	if log, _ := os.ReadFile(se.Log); string(log) != "about to fail\noops\n" && string(log) != "oops\nabout to fail\n" {
		t.Errorf("log %q", log)
	}
	if left := e.leftInWork(t); len(left) != 0 {
		t.Errorf("work directory not removed: %v", left)
	}
}

// TestBuildInterrupted: a cancelled build stops the script, keeps the log, writes no
// tarball and leaves nothing behind.
func TestBuildInterrupted(t *testing.T) {
	b := newBackend(t)
	e := newEnv(t, b)
	spec := &schema.ImageSpec{
		BaseImageURL: busyboxBase(t), BaseImageName: "busybox", NewImageName: imageName(t),
		ScriptURL: writeScript(t, "slow.sh", "#!/bin/sh\necho started\nexec sleep 600\n"),
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for deadline := time.Now().Add(time.Minute); !strings.Contains(e.stdout.String(), "started") && time.Now().Before(deadline); {
			time.Sleep(20 * time.Millisecond)
		}
		cancel()
	}()
	start := time.Now()
	_, err := imager.Build(ctx, spec, e.opts)
	if !errors.Is(err, container.ErrStopped) || !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want ErrStopped and context.Canceled", err)
	}
	if d := time.Since(start); d > 8*time.Second {
		t.Errorf("took %v to stop", d)
	}
	if got, want := e.outputs(t), []string{spec.NewImageName + ".log"}; !slices.Equal(got, want) {
		t.Errorf("outputs %v, want only %v", got, want)
	}
	if left := e.leftInWork(t); len(left) != 0 {
		t.Errorf("work directory not removed: %v", left)
	}
	left, err := b.Leftovers(context.Background(), imager.ContainerName("build", spec.NewImageName))
	if err != nil || len(left) != 0 {
		t.Errorf("container leftovers %v (%v)", left, err)
	}
}

// TestBuildMD5Mismatch: a base that does not match base_image_md5 fails before anything runs.
func TestBuildMD5Mismatch(t *testing.T) {
	b := newBackend(t)
	e := newEnv(t, b)
	spec := &schema.ImageSpec{
		BaseImageURL: busyboxBase(t), BaseImageName: "busybox", NewImageName: imageName(t),
		BaseImageMD5: strings.Repeat("0", 32),
		ScriptURL:    writeScript(t, "provision.sh", "#!/bin/sh\ntrue\n"),
	}
	_, err := e.build(t, spec)
	if !errors.Is(err, fetch.ErrChecksum) || !strings.Contains(err.Error(), "base_image_md5") || !strings.Contains(err.Error(), strings.Repeat("0", 32)) {
		t.Fatalf("got %v", err)
	}
	if got := e.outputs(t); len(got) != 0 {
		t.Errorf("outputs %v, want none", got)
	}
	if _, err := os.Stat(filepath.Join(e.root, "images", "busybox", filepath.Base(spec.BaseImageURL))); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a base that does not match was cached: %v", err)
	}
}

// TestBuildCompressions: .tar.gz, .tgz, .tar.bz2 and .tar.xz bases (the original rejected .tgz).
func TestBuildCompressions(t *testing.T) {
	b := newBackend(t)
	testutil.RequireBinary(t, "bzip2", "xz")
	tree := busyboxTree(t, nil)
	script := writeScript(t, "provision.sh", "#!/bin/sh\necho ok > /made\n")
	for _, ext := range []string{".tar.gz", ".tgz", ".tar.bz2", ".tar.xz"} {
		t.Run(ext, func(t *testing.T) {
			e := newEnv(t, b)
			base := tarball(t, tree, "busybox"+ext)
			res, err := e.build(t, &schema.ImageSpec{BaseImageURL: "file://" + base, BaseImageName: "busybox", NewImageName: imageName(t), ScriptURL: script})
			if err != nil {
				t.Fatalf("%v\n%s", err, e.stderr.String())
			}
			if got := readImage(t, res.Image)["made"].data; got != "ok\n" {
				t.Errorf("made = %q", got)
			}
			if _, err := os.Stat(filepath.Join(e.root, "images", "busybox", "busybox"+ext)); err != nil {
				t.Errorf("base not cached under its own name: %v", err)
			}
		})
	}
}

// TestBuildHostileBase: a base whose entries would land outside the tree is refused, and
// nothing is written outside it.
func TestBuildHostileBase(t *testing.T) {
	b := newBackend(t)
	victim := filepath.Join(t.TempDir(), "victim")
	if err := os.Mkdir(victim, 0o755); err != nil {
		t.Fatal(err)
	}
	cases := map[string][]tarEntry{
		"dotdot":   {{name: "./"}, {name: "../../../../../../../.." + victim + "/evil", body: "x"}},
		"absolute": {{name: "./"}, {name: victim + "/evil", body: "x"}},
		"symlink":  {{name: "./"}, {name: "etc", link: victim}, {name: "etc/evil", body: "x"}},
	}
	for name, ents := range cases {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, b)
			base := writeTarGz(t, ents)
			_, err := e.build(t, &schema.ImageSpec{BaseImageURL: base, BaseImageName: "hostile", NewImageName: imageName(t),
				ScriptURL: writeScript(t, "provision.sh", "#!/bin/sh\ntrue\n")})
			if !errors.Is(err, fetch.ErrEscape) {
				t.Fatalf("got %v, want ErrEscape", err)
			}
			if _, err := os.Stat(filepath.Join(victim, "evil")); err == nil {
				t.Fatal("the base wrote outside the tree")
			}
			if got := e.outputs(t); len(got) != 0 {
				t.Errorf("outputs %v, want none", got)
			}
		})
	}
}

// TestBuildResolvConfKinds: whatever the base has at /etc/resolv.conf (a symlink, nothing, no
// /etc at all), the script resolves with the host's file and the image gets the base's back.
func TestBuildResolvConfKinds(t *testing.T) {
	b := newBackend(t)
	script := writeScript(t, "provision.sh", "#!/bin/sh\ncat /etc/resolv.conf > /seen\n")
	cases := map[string]func(dir string){
		"symlink": func(dir string) {
			must(t, os.Remove(filepath.Join(dir, "etc/resolv.conf")))
			must(t, os.Symlink("../run/resolvconf/resolv.conf", filepath.Join(dir, "etc/resolv.conf")))
		},
		"missing": func(dir string) { must(t, os.Remove(filepath.Join(dir, "etc/resolv.conf"))) },
		"no-etc":  func(dir string) { must(t, os.RemoveAll(filepath.Join(dir, "etc"))) },
	}
	for name, edit := range cases {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, b)
			base := tarball(t, busyboxTree(t, edit), "base.tar.gz")
			res, err := e.build(t, &schema.ImageSpec{BaseImageURL: base, BaseImageName: "busybox-" + name, NewImageName: imageName(t), ScriptURL: script})
			if err != nil {
				t.Fatalf("%v\n%s", err, e.stderr.String())
			}
			img := readImage(t, res.Image)
			if !strings.Contains(img["seen"].data, "192.0.2.53") {
				t.Errorf("script saw %q", img["seen"].data)
			}
			rc, ok := img["etc/resolv.conf"]
			switch name {
			case "symlink":
				if !ok || rc.hdr.Typeflag != tar.TypeSymlink || rc.hdr.Linkname != "../run/resolvconf/resolv.conf" {
					t.Errorf("etc/resolv.conf %+v, want the base's symlink", rc.hdr)
				}
			case "missing":
				if ok {
					t.Errorf("etc/resolv.conf is in the image: %+v", rc.hdr)
				}
			case "no-etc":
				if _, ok := img["etc"]; ok {
					t.Errorf("etc is in the image")
				}
			}
		})
	}
}

// TestShellPipedStdin: `vimage shell` reads commands from a pipe and returns the shell's
// status; the base is not changed and nothing is left.
func TestShellPipedStdin(t *testing.T) {
	b := newBackend(t)
	e := newEnv(t, b)
	e.opts.In = strings.NewReader("echo hi from $0; test -x " + imager.ScriptDir + "/provision.sh && echo script-there; test -e /made || echo not-run; exit 3\n")
	spec := &schema.ImageSpec{
		BaseImageURL: busyboxBase(t), BaseImageName: "busybox", NewImageName: imageName(t),
		ScriptURL: writeScript(t, "provision.sh", "#!/bin/sh\ntouch /made\n"),
	}
	code, err := imager.Shell(context.Background(), spec, e.opts)
	if err != nil || code != 3 {
		t.Fatalf("Shell = %d, %v; want 3\n%s", code, err, e.stderr.String())
	}
	for _, want := range []string{"hi from /bin/sh\n", "script-there\n", "not-run\n"} {
		if !strings.Contains(e.stdout.String(), want) {
			t.Errorf("stdout %q lacks %q", e.stdout.String(), want)
		}
	}
	if got := e.outputs(t); len(got) != 0 {
		t.Errorf("shell wrote %v", got)
	}
	if left := e.leftInWork(t); len(left) != 0 {
		t.Errorf("work directory not removed: %v", left)
	}
}

// TestLeftoversOfAKilledRun: a container and a work tree left by a killed vimage of the same
// image do not stop the next build.
func TestLeftoversOfAKilledRun(t *testing.T) {
	b := newBackend(t)
	e := newEnv(t, b)
	name := imageName(t)
	cname := imager.ContainerName("build", name)
	stale := filepath.Join(e.work, "vr-vimage", cname, "rootfs")
	if err := testutil.MakeBusyboxRootfs(stale); err != nil {
		t.Fatal(err)
	}
	c, err := b.Start(context.Background(), container.Spec{Name: cname, Rootfs: container.Rootfs{Dir: stale}, Process: container.Process{Argv: []string{"true"}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Destroy(context.Background()) })
	_, err = e.build(t, &schema.ImageSpec{BaseImageURL: busyboxBase(t), BaseImageName: "busybox", NewImageName: name,
		ScriptURL: writeScript(t, "provision.sh", "#!/bin/sh\ntrue\n")})
	if err != nil {
		t.Fatalf("%v\n%s", err, e.stderr.String())
	}
}

type tarEntry struct {
	name, body, link string
}

func writeTarGz(t testing.TB, ents []tarEntry) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "base.tar.gz")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zw := gzip.NewWriter(f)
	tw := tar.NewWriter(zw)
	for _, en := range ents {
		h := &tar.Header{Name: en.name, Mode: 0o644, ModTime: time.Unix(1e9, 0)}
		switch {
		case strings.HasSuffix(en.name, "/"):
			h.Typeflag, h.Mode = tar.TypeDir, 0o755
		case en.link != "":
			h.Typeflag, h.Linkname = tar.TypeSymlink, en.link
		default:
			h.Typeflag, h.Size = tar.TypeReg, int64(len(en.body))
		}
		must(t, tw.WriteHeader(h))
		if h.Typeflag == tar.TypeReg {
			_, err := tw.Write([]byte(en.body))
			must(t, err)
		}
	}
	must(t, tw.Close())
	must(t, zw.Close())
	return p
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
