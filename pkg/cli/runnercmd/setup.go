package runnercmd

import (
	"github.com/spf13/cobra"

	"github.com/vr-paas/vr/pkg/cli"
)

func newSetupCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "setup PROC_YAML",
		Short: "Prepare the proc: build, image, files and container config",
		Long: `Prepare the proc described by PROC_YAML: download the OS image (vruntime) and the build
into the shared caches (again when image_md5 or build_md5 no longer match), unpack the build
into the proc's /app owned by user:group, and write proc.sh, env.sh, settings.yaml and the
container configuration into $VR_ROOT/procs/<proc name>/. It can be run again; if it fails
it leaves nothing behind. It locks PROC_YAML, so it refuses to work on a running proc.`,
		Args: cli.ExactArgs("PROC_YAML"),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := e.load(cmd, args[0])
			if err != nil {
				return err
			}
			r, err := e.runner()
			if err != nil {
				return err
			}
			r.Progress = e.d.Streams.Out
			return r.Setup(cmd.Context(), p)
		},
	}
}
