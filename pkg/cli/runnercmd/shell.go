package runnercmd

import (
	"errors"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/vr-paas/vr/pkg/cli"
	"github.com/vr-paas/vr/pkg/container"
)

func newShellCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "shell PROC_YAML",
		Short: "Open an interactive shell in a container like the proc's",
		Long: `Open a shell (bash if the proc's root filesystem has it, else sh) in a new container
identical to the proc's: same root filesystem, build, environment (env.sh, PORT,
APP_SETTINGS_YAML), user and limits, with a writable layer of its own. It is not the running
proc's container. With a terminal on stdin the shell gets one too. Exits with the shell's exit
code. PROC_YAML is not locked.`,
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
			s := e.d.Streams
			code, err := r.Shell(cmd.Context(), p, container.Streams{In: s.In, Out: s.Out, Err: s.Err}, isTerminal(s.In))
			switch {
			case err == nil && code == 0:
				return nil
			case err == nil, errors.Is(err, container.ErrStopped) && code >= 0:
				return &cli.ExitError{Code: code}
			default:
				return err
			}
		},
	}
}

// isTerminal reports whether r is a terminal.
func isTerminal(r any) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}
