package main

import (
	"github.com/spf13/cobra"

	"github.com/vr-paas/vr/pkg/cli"
)

// newRootCmd lists every vrcli subcommand.
func newRootCmd(d *cli.Deps) *cobra.Command {
	root := &cobra.Command{
		Use:   "vrcli",
		Short: "Dispatch swarms of procs across hosts and route them through load balancers",
		Long: `vrcli makes the hosts match the platform file: it builds, releases and places swarms
of procs on squads of hosts, gates them with uptests and swaps them into balancer pools with
zero downtime. There is no server: the hosts are the state.`,
		Args: cobra.ArbitraryArgs,
		RunE: cli.NeedSubcommand,
	}
	root.PersistentFlags().String("config", "/etc/vr/platform.yaml", "platform file (env VR_CONFIG)")
	d.BindFlag(root, "config")
	root.AddCommand(
		newSwarmCmd(d),
		newPoolCmd(d),
		newBalancersCmd(d),
	)
	return root
}
