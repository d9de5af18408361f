package main

import (
	"github.com/spf13/cobra"

	"github.com/vr-paas/vr/pkg/cli"
)

func newBalancersCmd(d *cli.Deps) *cobra.Command {
	return &cobra.Command{
		Use:   "balancers",
		Short: "List the balancers of the platform file",
		Args:  cobra.NoArgs,
		RunE:  cli.NotImplemented,
	}
}
