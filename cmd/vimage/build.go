package main

import (
	"github.com/spf13/cobra"

	"github.com/vr-paas/vr/pkg/cli"
)

func newBuildCmd(d *cli.Deps) *cobra.Command {
	return &cobra.Command{
		Use:   "build FILE",
		Short: "Build the image described by FILE (image.yaml)",
		Args:  cli.ExactArgs("FILE"),
		RunE:  cli.NotImplemented,
	}
}
