package main

import (
	"github.com/spf13/cobra"

	"github.com/vr-paas/vr/pkg/cli"
)

func newShellCmd(d *cli.Deps) *cobra.Command {
	return &cobra.Command{
		Use:   "shell FILE",
		Short: "Open an interactive shell over the base image of FILE, without running the script",
		Args:  cli.ExactArgs("FILE"),
		RunE:  cli.NotImplemented,
	}
}
