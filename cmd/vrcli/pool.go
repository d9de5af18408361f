package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vr-paas/vr/pkg/balancer"
	"github.com/vr-paas/vr/pkg/balancer/all"
	"github.com/vr-paas/vr/pkg/cli"
	"github.com/vr-paas/vr/pkg/platform"
)

// poolOptions are the arguments of `vrcli pool list|add|remove`.
type poolOptions struct {
	Op       string // "list", "add", "remove"
	Balancer string
	Pool     string
	Nodes    []string
}

func newPoolCmd(d *cli.Deps) *cobra.Command {
	pool := &cobra.Command{
		Use:   "pool",
		Short: "List and change the nodes of a balancer pool",
		Args:  cobra.ArbitraryArgs,
		RunE:  cli.NeedSubcommand,
	}
	sub := func(op, use, short string, args cobra.PositionalArgs) *cobra.Command {
		return &cobra.Command{
			Use:   use,
			Short: short,
			Args:  args,
			RunE: func(cmd *cobra.Command, args []string) error {
				return runPool(cmd.Context(), d, poolOptions{Op: op, Balancer: args[0], Pool: args[1], Nodes: args[2:]})
			},
		}
	}
	pool.AddCommand(
		sub("list", "list BALANCER POOL", "List the nodes of POOL, one host:port per line", cli.ExactArgs("BALANCER", "POOL")),
		sub("add", "add BALANCER POOL NODE...", "Add host:port nodes to POOL (created if missing)", minArgs("BALANCER", "POOL", "NODE")),
		sub("remove", "remove BALANCER POOL NODE...", "Remove host:port nodes from POOL", minArgs("BALANCER", "POOL", "NODE")),
	)
	return pool
}

// minArgs requires at least the named positional arguments (the last one may repeat).
func minArgs(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < len(names) {
			return cli.Usagef("%s: missing argument %s", cmd.Name(), names[len(args)])
		}
		return nil
	}
}

// openBalancer reads the platform file (--config / VR_CONFIG) and builds the named balancer.
func openBalancer(d *cli.Deps, name string) (balancer.Balancer, error) {
	p, err := platform.Load(configPath(d))
	if err != nil {
		return nil, err
	}
	cfg, err := p.Balancer(name)
	if err != nil {
		return nil, err
	}
	return all.Registry().New(cfg, balancer.Env{Warn: func(msg string) {
		fmt.Fprintf(d.Streams.Err, "vrcli: warning: %s\n", msg)
	}})
}

// configPath is the platform file setting (--config, VR_CONFIG, default /etc/vr/platform.yaml).
func configPath(d *cli.Deps) string {
	if p := d.Config.GetString("config"); p != "" {
		return p
	}
	return platform.DefaultPath
}

func runPool(ctx context.Context, d *cli.Deps, o poolOptions) error {
	b, err := openBalancer(d, o.Balancer)
	if err != nil {
		return err
	}
	switch o.Op {
	case "list":
		nodes, err := b.Nodes(ctx, o.Pool)
		if err != nil {
			return err
		}
		if len(nodes) > 0 {
			fmt.Fprintln(d.Streams.Out, strings.Join(nodes, "\n"))
		}
		return nil
	case "add":
		return b.AddNodes(ctx, o.Pool, o.Nodes)
	case "remove":
		return b.DeleteNodes(ctx, o.Pool, o.Nodes)
	}
	return fmt.Errorf("pool: unknown operation %q", o.Op)
}
