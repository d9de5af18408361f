package main

import (
	"github.com/spf13/cobra"

	"github.com/vr-paas/vr/pkg/cli"
)

func newWatchCmd(d *cli.Deps) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "watch",
		Short: "Print proc events as they come, after catching up from the stream",
		Args:  cobra.NoArgs,
		RunE:  cli.NotImplemented,
	}
	cmd.Flags().String("from", "", "stream id to resume after")
	cmd.Flags().Bool("json", false, "print raw JSON messages")
	return cmd
}
