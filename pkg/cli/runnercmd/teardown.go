package runnercmd

import (
	"errors"
	"io/fs"

	"github.com/spf13/cobra"

	"github.com/vr-paas/vr/pkg/cli"
	"github.com/vr-paas/vr/pkg/runner"
)

func newTeardownCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "teardown PROC_YAML",
		Short: "Remove the proc's folder, containers and mounts",
		Long: `Remove everything of the proc described by PROC_YAML: its container if a killed runner
left it, its shell and uptest containers, and its folder $VR_ROOT/procs/<proc name>/
(usually PROC_YAML's own). The shared builds and images stay. A proc that is not there is
not an error. It locks PROC_YAML, so it refuses to tear down a running proc.`,
		Args: cli.ExactArgs("PROC_YAML"),
		RunE: func(cmd *cobra.Command, args []string) error {
			// A bad proc.yaml is bad input whoever runs this; a missing one is for Teardown.
			if _, err := runner.Load(args[0], runner.Precise); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
			if err := cli.RequireRoot(e.name + " teardown"); err != nil {
				return err
			}
			r, err := e.runner()
			if err != nil {
				return err
			}
			r.Progress = e.d.Streams.Out
			return r.Teardown(cmd.Context(), args[0])
		},
	}
}
