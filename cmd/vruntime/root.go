package main

import (
	"github.com/spf13/cobra"

	"github.com/vr-paas/vr/pkg/cli"
	"github.com/vr-paas/vr/pkg/cli/runnercmd"
)

func newRootCmd(d *cli.Deps) *cobra.Command {
	return runnercmd.NewRoot("vruntime", runnercmd.Image, d)
}
