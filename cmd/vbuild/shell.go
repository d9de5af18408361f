package main

import (
	"context"
	"os"

	"github.com/spf13/cobra"

	"github.com/vr-paas/vr/pkg/builder"
	"github.com/vr-paas/vr/pkg/cli"
	"github.com/vr-paas/vr/pkg/container/lxc"
	"github.com/vr-paas/vr/pkg/schema"
)

type shellOptions struct {
	File      string
	Quiet     bool
	Container containerFlags
}

func newShellCmd(d *cli.Deps, runF func(context.Context, shellOptions) error) *cobra.Command {
	var opts shellOptions
	cmd := &cobra.Command{
		Use:   "shell FILE",
		Short: "Open an interactive shell in the build environment of FILE",
		Long: `Set up the build of FILE exactly as "vbuild build" does (checkouts, private copies,
.slugignore, ENV_DIR, build cache, and the container with the same image, mounts, user,
limits and environment), run the detects to name the buildpack, and open a shell (bash if
the container has it, else sh) as the build user in the build dir. A line tells how to run
the compile by hand. Nothing is written and the build cache is left as it was.

vbuild exits with the shell's status. With a terminal on stdin the shell gets a
pseudo-terminal; otherwise it reads commands from stdin.`,
		Args: cli.ExactArgs("FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.File = args[0]
			opts.Container = readContainerFlags(d, cmd)
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runShell(cmd.Context(), d, opts)
		},
	}
	cmd.Flags().BoolVarP(&opts.Quiet, "quiet", "q", false, "do not print the set-up steps")
	addContainerFlags(cmd)
	return cmd
}

func runShell(ctx context.Context, d *cli.Deps, opts shellOptions) error {
	job, err := schema.LoadBuildJob(opts.File)
	if err != nil {
		return err
	}
	o, err := builderOptions(d, opts.Container)
	if err != nil {
		return err
	}
	if err := cli.RequireRoot("vbuild shell"); err != nil {
		return err
	}
	s := d.Streams
	o.In, o.Out, o.Err, o.TTY, o.Term = s.In, s.Out, s.Err, isTerminal(s.In), os.Getenv("TERM")
	if !opts.Quiet {
		o.Log = s.Err
	}
	if o.Backend, err = lxc.New(lxc.Options{}); err != nil {
		return err
	}
	code, err := builder.Shell(ctx, job, o)
	if err != nil {
		return err
	}
	if code != 0 {
		return &cli.ExitError{Code: code}
	}
	return nil
}
