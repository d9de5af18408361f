package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/vr-paas/vr/pkg/cli"
	"github.com/vr-paas/vr/pkg/imager"
	"github.com/vr-paas/vr/pkg/schema"
)

type buildOptions struct {
	File string // image.yaml
}

func newBuildCmd(d *cli.Deps) *cobra.Command {
	var opts buildOptions
	return &cobra.Command{
		Use:   "build FILE",
		Short: "Build the image described by FILE (image.yaml)",
		Long: `Fetch (or reuse) the base tarball, unpack it, run the provisioning script in a
container over it (as root, with the host's network), and write <new_image_name>.tar.gz,
<new_image_name>.log (everything the script printed, also shown here) and
<new_image_name>.yaml (inputs and checksums) to the current directory.

A failing script exits with status 1 and keeps the log; no tarball is written.`,
		Args: cli.ExactArgs("FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.File = args[0]
			return runBuild(cmd.Context(), d, opts)
		},
	}
}

func runBuild(ctx context.Context, d *cli.Deps, opts buildOptions) error {
	if err := cli.RequireRoot("vimage build"); err != nil {
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
	iopts.TTY = false
	_, err = imager.Build(ctx, spec, iopts)
	return err
}
