package main

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/vr-paas/vr/pkg/builder"
	"github.com/vr-paas/vr/pkg/cli"
	"github.com/vr-paas/vr/pkg/container/lxc"
	"github.com/vr-paas/vr/pkg/schema"
)

type buildOptions struct {
	File           string // app.yaml or build_result.yaml
	OutputDir      string
	Quiet          bool
	JSON           bool
	ShellOnFailure bool
	Timeout        time.Duration
	Container      containerFlags
}

func newBuildCmd(d *cli.Deps, runF func(context.Context, buildOptions) error) *cobra.Command {
	var opts buildOptions
	cmd := &cobra.Command{
		Use:   "build FILE",
		Short: "Build the app described by FILE (app.yaml or build_result.yaml)",
		Long: `Build the app described by FILE (app.yaml, or a build_result.yaml to repeat a build)
and write build.tar.gz, build_result.yaml and compile.log to the current directory (or
--output-dir).

The app's revision (version, or app_revision in a build_result.yaml) and the buildpacks
are checked out under $VR_ROOT/builder and copied into a private folder; .slugignore is
applied; in a throwaway LXC container (the OS image of image_url, or the host's /bin /etc
/lib /lib64 /usr /opt read-only) each buildpack's bin/detect runs in order (skipped when
buildpack_url is set), then bin/compile BUILD_DIR CACHE_DIR ENV_DIR and bin/release, as an
unprivileged user with memory, process, CPU and time limits. The build cache is kept only
when the build succeeds.

Exit status: 0 built; 1 the build failed (no buildpack detected, compile or release
failed: compile.log is kept, no tarball is written, the cache is untouched); 2 bad FILE
or flags; 130 interrupted.`,
		Args: cli.ExactArgs("FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.File = args[0]
			opts.Container = readContainerFlags(d, cmd)
			bindEnv(d, cmd, "timeout")
			opts.Timeout = d.Config.GetDuration("build-timeout")
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runBuild(cmd.Context(), d, opts)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&opts.OutputDir, "output-dir", "o", ".", "folder to write build.tar.gz, build_result.yaml and compile.log to")
	f.BoolVarP(&opts.Quiet, "quiet", "q", false, "print nothing but errors (and the --json summary)")
	f.BoolVar(&opts.JSON, "json", false, "print a JSON summary on stdout (the build's output goes to stderr)")
	f.BoolVar(&opts.ShellOnFailure, "shell-on-failure", false, "when compile fails, open a shell in the build container first")
	f.Duration("timeout", builder.DefaultTimeout, "wall-clock limit of detect, compile and release; 0 for none (env VR_BUILD_TIMEOUT)")
	addContainerFlags(cmd)
	return cmd
}

// builderOptions maps the shared flags to the pipeline's options.
func builderOptions(d *cli.Deps, c containerFlags) (builder.Options, error) {
	o := builder.Options{Root: d.RootDir()}
	if err := c.apply(&o); err != nil {
		return o, err
	}
	return o, nil
}

func runBuild(ctx context.Context, d *cli.Deps, opts buildOptions) error {
	if opts.Timeout < 0 {
		return cli.Usagef("--timeout %s: expected a duration of 0 (no limit) or more", opts.Timeout)
	}
	job, err := schema.LoadBuildJob(opts.File)
	if err != nil {
		return err
	}
	o, err := builderOptions(d, opts.Container)
	if err != nil {
		return err
	}
	if err := cli.RequireRoot("vbuild build"); err != nil {
		return err
	}
	s := d.Streams
	o.OutputDir = opts.OutputDir
	o.ShellOnFailure = opts.ShellOnFailure
	o.Timeout = opts.Timeout
	if opts.Timeout == 0 {
		o.Timeout = -1
	}
	o.In, o.Out, o.Err, o.TTY, o.Term = s.In, s.Out, s.Err, isTerminal(s.In), os.Getenv("TERM")
	switch {
	case opts.Quiet:
		o.Log = io.Discard
	case opts.JSON:
		o.Log = s.Err
	default:
		o.Log = s.Out
	}
	if !opts.Quiet && isTerminal(o.Log) {
		o.Progress = o.Log
	}
	if o.Backend, err = lxc.New(lxc.Options{}); err != nil {
		return err
	}
	res, err := builder.Build(ctx, job, o)
	if opts.JSON && res != nil {
		enc := json.NewEncoder(s.Out)
		enc.SetIndent("", "  ")
		if jerr := enc.Encode(res.Summary); jerr != nil && err == nil {
			return jerr
		}
	}
	return err
}
