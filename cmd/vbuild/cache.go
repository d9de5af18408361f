package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/vr-paas/vr/pkg/builder"
	"github.com/vr-paas/vr/pkg/cli"
	"github.com/vr-paas/vr/pkg/container/lxc"
	"github.com/vr-paas/vr/pkg/schema"
)

type cachePurgeOptions struct {
	App         string
	LockTimeout time.Duration
}

// newCacheCmd groups the build cache commands.
func newCacheCmd(d *cli.Deps, runF func(context.Context, cachePurgeOptions) error) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cache",
		Short: "Manage the build caches kept under $VR_ROOT/builder/cache",
		Args:  cobra.ArbitraryArgs,
		RunE:  cli.NeedSubcommand,
	}
	var opts cachePurgeOptions
	purge := &cobra.Command{
		Use:   "purge APP",
		Short: "Delete the build cache of APP (app_name) and free its bytes",
		Long: `Delete the build caches of APP ($VR_ROOT/builder/cache/APP-<md5 of the repository URL>,
one per repository URL APP was built from) and what an interrupted build of it left
behind. A running build of APP is waited for (--lock-timeout). The next build starts with
an empty cache, as buildpacks sometimes need after a cache got into a bad state.`,
		Args: cli.ExactArgs("APP"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.App = args[0]
			bindEnv(d, cmd, "lock-timeout")
			opts.LockTimeout = d.Config.GetDuration("build-lock-timeout")
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runCachePurge(cmd.Context(), d, opts)
		},
	}
	purge.Flags().Duration("lock-timeout", builder.DefaultLockTimeout, "how long to wait for a running build of APP (env VR_BUILD_LOCK_TIMEOUT)")
	cmd.AddCommand(purge)
	return cmd
}

func runCachePurge(ctx context.Context, d *cli.Deps, opts cachePurgeOptions) error {
	if err := schema.ValidateAppName(opts.App); err != nil {
		return err
	}
	if err := cli.RequireRoot("vbuild cache purge"); err != nil {
		return err
	}
	backend, err := lxc.New(lxc.Options{})
	if err != nil {
		return err
	}
	out := d.Streams.Out
	purged, err := builder.PurgeCache(ctx, opts.App, builder.Options{
		Root: d.RootDir(), Backend: backend, Log: out, LockTimeout: opts.LockTimeout,
	})
	for _, p := range purged {
		fmt.Fprintf(out, "Purged %s (%s)\n", p.Dir, humanBytes(p.Bytes))
	}
	if err != nil {
		return err
	}
	if len(purged) == 0 {
		fmt.Fprintf(out, "No build cache of %s in %s\n", opts.App, filepath.Join(d.RootDir(), "builder", "cache"))
	}
	return nil
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
