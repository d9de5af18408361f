package main

import (
	"github.com/spf13/cobra"

	"github.com/vr-paas/vr/pkg/cli"
)

func newPoolCmd(d *cli.Deps) *cobra.Command {
	pool := &cobra.Command{
		Use:   "pool",
		Short: "List and change the nodes of a balancer pool",
		Args:  cobra.ArbitraryArgs,
		RunE:  cli.NeedSubcommand,
	}
	pool.AddCommand(
		&cobra.Command{Use: "list BALANCER POOL", Short: "List the nodes of POOL", Args: cli.ExactArgs("BALANCER", "POOL"), RunE: cli.NotImplemented},
		&cobra.Command{Use: "add BALANCER POOL NODE...", Short: "Add host:port nodes to POOL", Args: cobra.MinimumNArgs(3), RunE: cli.NotImplemented},
		&cobra.Command{Use: "remove BALANCER POOL NODE...", Short: "Remove host:port nodes from POOL", Args: cobra.MinimumNArgs(3), RunE: cli.NotImplemented},
	)
	return pool
}
