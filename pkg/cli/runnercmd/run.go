package runnercmd

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/vr-paas/vr/pkg/cli"
	"github.com/vr-paas/vr/pkg/container"
)

// forwardedSignals are passed on to the proc as they are. SIGTERM and SIGINT are not among
// them: they stop the proc (SIGTERM, then SIGKILL after the grace period).
var forwardedSignals = []os.Signal{syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGQUIT, syscall.SIGWINCH, syscall.SIGTTIN, syscall.SIGTTOU}

func newRunCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "run PROC_YAML",
		Short: "Run the proc in the foreground",
		Long: `Run the proc set up from PROC_YAML in the foreground, as its user, until it exits, and exit
with its exit code (128+n when killed by signal n). Its stdout and stderr are this command's.
SIGTERM or SIGINT give the proc SIGTERM, then SIGKILL after --stop-timeout; SIGHUP, SIGUSR1,
SIGUSR2, SIGQUIT, SIGWINCH, SIGTTIN and SIGTTOU are forwarded to it. Nothing of the container
is left afterwards. PROC_YAML stays locked while the proc runs, so a second run of the same
proc is refused.`,
		Args: cli.ExactArgs("PROC_YAML"),
	}
	cmd.Flags().Duration("stop-timeout", container.DefaultStopTimeout, "grace period between SIGTERM and SIGKILL (env VR_STOP_TIMEOUT)")
	stopTimeout := e.bindDuration(cmd, "stop-timeout", "stop-timeout")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		p, err := e.load(cmd, args[0])
		if err != nil {
			return err
		}
		r, err := e.runner()
		if err != nil {
			return err
		}
		r.StopTimeout = stopTimeout()
		sigs := make(chan os.Signal, 4)
		e.d.ForwardSIGHUP() // SIGHUP is the proc's (e.g. reload), not a reason to stop it
		signal.Notify(sigs, forwardedSignals...)
		defer signal.Stop(sigs)
		s := e.d.Streams
		code, err := r.Run(cmd.Context(), p, container.Streams{In: s.In, Out: s.Out, Err: s.Err, Signals: sigs})
		switch {
		case err == nil && code == 0:
			return nil
		case err == nil:
			return &cli.ExitError{Code: code}
		case errors.Is(err, container.ErrStopped) && code >= 0:
			fmt.Fprintf(s.Err, "%s: %s stopped by a signal; it exited with code %d\n", e.name, p.Name, code)
			return &cli.ExitError{Code: code}
		default:
			return err
		}
	}
	return cmd
}
