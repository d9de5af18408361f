package runnercmd

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vr-paas/vr/pkg/cli"
	"github.com/vr-paas/vr/pkg/uptest"
)

func newUptestCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "uptest PROC_YAML",
		Short: "Run the proc's uptests and print the results as JSON",
		Long: `Run every executable in the app's uptests/<proc_name>/ folder (in name order, dot-files
skipped) as "<test> <host> <port>" (host and port from PROC_YAML) in a new container identical
to the proc's, and print one line on stdout: a JSON array of {"Name", "Output", "Passed",
"ExitCode", "TimedOut", "Seconds"} objects ("[]" when there are no uptests). A test still
running after --timeout is killed and reported as failed. Exit code 0 when every test passed,
1 otherwise. PROC_YAML is not locked.`,
		Args: cli.ExactArgs("PROC_YAML"),
	}
	cmd.Flags().Duration("timeout", uptest.DefaultTimeout, "how long each uptest may run (env VR_UPTEST_TIMEOUT)")
	timeout := e.bindDuration(cmd, "timeout", "uptest-timeout")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		p, err := e.load(cmd, args[0])
		if err != nil {
			return err
		}
		r, err := e.runner()
		if err != nil {
			return err
		}
		r.UptestTimeout = timeout()
		r.Progress = e.d.Streams.Err
		results, err := r.Uptest(cmd.Context(), p)
		if err != nil {
			return err
		}
		if err := uptest.Encode(e.d.Streams.Out, results); err != nil {
			return err
		}
		if failed := uptest.Failed(results); len(failed) > 0 {
			return &cli.ExitError{Code: cli.ExitFailure, Err: fmt.Errorf("%d of %d uptests failed: %s", len(failed), len(results), strings.Join(failed, ", "))}
		}
		return nil
	}
	return cmd
}
