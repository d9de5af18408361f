package main

import (
	"github.com/spf13/cobra"

	"github.com/vr-paas/vr/pkg/cli"
)

func newSwarmCmd(d *cli.Deps) *cobra.Command {
	return &cobra.Command{
		Use:   "swarm PATTERN VERSION",
		Short: "Dispatch the swarms matching PATTERN at VERSION ('-' keeps the running version)",
		Args:  cli.ExactArgs("PATTERN", "VERSION"),
		RunE:  cli.NotImplemented,
	}
}
