package main

import (
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/vr-paas/vr/pkg/cli"
	"github.com/vr-paas/vr/pkg/container/lxc"
	"github.com/vr-paas/vr/pkg/imager"
)

// newRootCmd lists every vimage subcommand.
func newRootCmd(d *cli.Deps) *cobra.Command {
	root := &cobra.Command{
		Use:   "vimage",
		Short: "Build an OS image (stack) from a base tarball and a provisioning script",
		Long: `vimage unpacks a base OS tarball, runs a provisioning script in an LXC container
over it, and writes <new_image_name>.tar.gz, .log and .yaml to the current directory.

The image file (YAML) has the keys base_image_url, base_image_name, new_image_name and
script_url (required), base_image_md5 and env (optional). Base tarballs are cached under
$VR_ROOT/images/<base_image_name>/. Must run as root.`,
		Args: cobra.ArbitraryArgs,
		RunE: cli.NeedSubcommand,
	}
	d.AddRootFlag(root)
	root.AddCommand(
		newBuildCmd(d),
		newShellCmd(d),
	)
	return root
}

// imagerOptions returns the pipeline's options for this invocation: the real LXC backend,
// VR_ROOT, the command's streams and the caller's TERM.
func imagerOptions(d *cli.Deps) (imager.Options, error) {
	backend, err := lxc.New(lxc.Options{})
	if err != nil {
		return imager.Options{}, err
	}
	s := d.Streams
	return imager.Options{
		Backend: backend,
		Root:    d.RootDir(),
		In:      s.In,
		Out:     s.Out,
		Err:     s.Err,
		TTY:     isTerminal(s.In),
		Term:    os.Getenv("TERM"),
	}, nil
}

// isTerminal reports whether r is a terminal.
func isTerminal(r any) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}
