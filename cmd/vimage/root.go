package main

import (
	"github.com/spf13/cobra"

	"github.com/vr-paas/vr/pkg/cli"
)

// newRootCmd lists every vimage subcommand.
func newRootCmd(d *cli.Deps) *cobra.Command {
	root := &cobra.Command{
		Use:   "vimage",
		Short: "Build an OS image (stack) from a base tarball and a provisioning script",
		Long: `vimage unpacks a base OS tarball, runs a provisioning script in an LXC container
over it, and writes <new_image_name>.tar.gz, .log and .yaml to the current directory.`,
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
