package main

import (
	"github.com/spf13/cobra"

	"github.com/vr-paas/vr/pkg/cli"
)

// newRootCmd: run without a subcommand, proc-publisher is a Supervisor event listener.
func newRootCmd(d *cli.Deps) *cobra.Command {
	root := &cobra.Command{
		Use:   "proc-publisher",
		Short: "Publish Supervisor process events to Redis",
		Long: `proc-publisher is a Supervisor event listener ([eventlistener:proc_publisher],
events=PROCESS_STATE,PROCESS_GROUP,TICK_60): it publishes each proc's state change on the Redis
channel proc_events, keeps host_procs:<hostname> current, and records every message in a Redis
stream so a consumer that was away can catch up ("proc-publisher watch").`,
		Args: cobra.NoArgs,
		RunE: cli.NotImplemented,
	}
	root.AddCommand(newWatchCmd(d))
	return root
}
