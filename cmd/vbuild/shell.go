package main

import (
	"github.com/spf13/cobra"

	"github.com/vr-paas/vr/pkg/cli"
)

func newShellCmd(d *cli.Deps) *cobra.Command {
	return &cobra.Command{
		Use:   "shell FILE",
		Short: "Open an interactive shell in the build environment of FILE",
		Args:  cli.ExactArgs("FILE"),
		RunE:  cli.NotImplemented,
	}
}
