package main

import (
	"github.com/spf13/cobra"

	"github.com/vr-paas/vr/pkg/cli"
)

// newRootCmd lists every vbuild subcommand.
func newRootCmd(d *cli.Deps) *cobra.Command {
	root := &cobra.Command{
		Use:   "vbuild",
		Short: "Build an app with Heroku buildpacks in a throwaway LXC container",
		Long: `vbuild builds an app from its git or hg repository with Heroku buildpacks inside a
throwaway LXC container, and writes build.tar.gz, build_result.yaml and compile.log to the
current directory. Feeding build_result.yaml back to vbuild repeats the same build.`,
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
