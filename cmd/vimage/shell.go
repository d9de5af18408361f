package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/vr-paas/vr/pkg/cli"
	"github.com/vr-paas/vr/pkg/imager"
	"github.com/vr-paas/vr/pkg/schema"
)

type shellOptions struct {
	File string // image.yaml
}

func newShellCmd(d *cli.Deps) *cobra.Command {
	var opts shellOptions
	return &cobra.Command{
		Use:   "shell FILE",
		Short: "Open an interactive shell over the base image of FILE, without running the script",
		Long: `Unpack the base image of FILE and open a shell (bash, else sh) in a container over it,
in the environment the provisioning script would get; the script itself is mounted at
` + imager.ScriptDir + `/<name> but not run. Nothing is kept. vimage exits with the shell's status.

With a terminal on stdin the shell gets a pseudo-terminal; otherwise it reads commands
from stdin.`,
		Args: cli.ExactArgs("FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.File = args[0]
			return runShell(cmd.Context(), d, opts)
		},
	}
}

func runShell(ctx context.Context, d *cli.Deps, opts shellOptions) error {
	if err := cli.RequireRoot("vimage shell"); err != nil {
		return err
	}
	spec, err := schema.LoadImageSpec(opts.File)
	if err != nil {
		return err
	}
	iopts, err := imagerOptions(d)
	if err != nil {
		return err
	}
	code, err := imager.Shell(ctx, spec, iopts)
	if err != nil {
		return err
	}
	if code != 0 {
		return &cli.ExitError{Code: code}
	}
	return nil
}
