// Command demo-foundation shows the foundation of vr working end to end on this host (run by
// `make demo` as root): it parses the original Velociraptor's proc.yaml, assembles a busybox
// OS image, packs it twice into byte-identical tarballs, unpacks one safely, and runs the
// proc's command in a real LXC container over an overlay of that image, with the proc's
// memory limit, printing what the container printed.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/vr-paas/vr/pkg/container"
	"github.com/vr-paas/vr/pkg/container/lxc"
	"github.com/vr-paas/vr/pkg/fetch"
	"github.com/vr-paas/vr/pkg/schema"
	"github.com/vr-paas/vr/pkg/testutil"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	code, err := run(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func step(format string, args ...any) { fmt.Printf("==> "+format+"\n", args...) }

func run(ctx context.Context) (int, error) {
	work, err := os.MkdirTemp("", "vr-demo-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(work)

	step("parse the original's proc.yaml (testdata/schema/original_proc.yaml)")
	proc, err := schema.LoadProcConfig("testdata/schema/original_proc.yaml")
	if err != nil {
		return 0, err
	}
	name, err := proc.Name()
	if err != nil {
		return 0, err
	}
	mem, err := schema.ParseSize(proc.MemLimit)
	if err != nil {
		return 0, err
	}
	fmt.Printf("    proc name %s, swarm %s, node %s:%d, mem_limit %s = %d bytes\n",
		name, name.SwarmName(), proc.Host, proc.Port, proc.MemLimit, mem)

	step("assemble a busybox OS image and pack it twice (deterministic tar.gz)")
	tree := filepath.Join(work, "tree")
	if err := testutil.MakeBusyboxRootfs(tree); err != nil {
		return 0, fmt.Errorf("busybox rootfs (is busybox-static installed? run scripts/deps.sh): %w", err)
	}
	a, err := fetch.CreateTarGz(ctx, filepath.Join(work, "a.tar.gz"), tree, fetch.TarOptions{})
	if err != nil {
		return 0, err
	}
	b, err := fetch.CreateTarGz(ctx, filepath.Join(work, "b.tar.gz"), tree, fetch.TarOptions{})
	if err != nil {
		return 0, err
	}
	fmt.Printf("    md5 %s and %s (identical: %v)\n", a.MD5, b.MD5, a.MD5 == b.MD5)

	step("unpack it safely as the image's read-only lower dir")
	lower := filepath.Join(work, "image", "contents")
	if err := fetch.Extract(ctx, filepath.Join(work, "a.tar.gz"), lower, fetch.ExtractOptions{AllowDevices: true}); err != nil {
		return 0, err
	}

	step("run the proc's command in an LXC container (overlay root, %s memory limit, user nobody)", proc.MemLimit)
	backend, err := lxc.New(lxc.Options{LXCPath: filepath.Join(work, "lxc")})
	if err != nil {
		return 0, err
	}
	upper := filepath.Join(work, "proc", "rootfs")
	if err := os.MkdirAll(upper, 0o755); err != nil {
		return 0, err
	}
	spec := container.Spec{
		Name:   "vr-demo-" + name.Proc,
		Rootfs: container.Rootfs{Overlay: &container.Overlay{Lower: lower, Upper: upper}},
		Process: container.Process{
			Argv: []string{"/bin/sh", "-c", `echo "    hello from $(hostname) as $(id -un) (uid $(id -u)), PORT=$PORT"; ` +
				`touch /tmp/written-in-the-container; ` +
				// A string doubled up to 512 MiB outgrows the limit: the OOM killer ends awk.
				`awk 'BEGIN { s = "x"; while (length(s) < 536870912) s = s s; print "    survived?!" }'; ` +
				`echo "    awk exited with $? (137 = killed by the memory limit)"`},
			Env: []string{fmt.Sprintf("PORT=%d", proc.Port)},
			UID: 65534, GID: 65534, Cwd: "/",
		},
		Limits:  container.Limits{Memory: mem},
		Network: container.NetworkHost,
	}
	if backend.HostInfo().MemorySwap {
		spec.Limits.MemorySwap = mem // no swapping around the limit either
	}
	code, err := backend.Run(ctx, spec, container.Streams{Out: os.Stdout, Err: os.Stderr})
	if err != nil {
		return code, err
	}
	_, upperErr := os.Stat(filepath.Join(upper, "tmp", "written-in-the-container"))
	_, lowerErr := os.Stat(filepath.Join(lower, "tmp", "written-in-the-container"))
	fmt.Printf("    exit code %d; the write landed in the upper dir: %v, the image is untouched: %v\n",
		code, upperErr == nil, os.IsNotExist(lowerErr))
	left, err := backend.Leftovers(ctx, spec.Name)
	if err != nil {
		return code, err
	}
	fmt.Printf("    left behind on the host: %d items %v\n", len(left), left)
	return code, nil
}
