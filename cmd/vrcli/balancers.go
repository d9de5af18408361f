package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/vr-paas/vr/pkg/balancer"
	"github.com/vr-paas/vr/pkg/balancer/all"
	"github.com/vr-paas/vr/pkg/cli"
	"github.com/vr-paas/vr/pkg/platform"
)

func newBalancersCmd(d *cli.Deps) *cobra.Command {
	return &cobra.Command{
		Use:   "balancers",
		Short: "List the balancers of the platform file",
		Long: `List the balancers the platform file configures: name, backend and where it routes
(the balancer hosts, or the SOAP endpoint). Every balancer's settings are checked.`,
		Args: cli.ExactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error { return runBalancers(d) },
	}
}

func runBalancers(d *cli.Deps) error {
	p, err := platform.Load(configPath(d))
	if err != nil {
		return err
	}
	reg := all.Registry()
	w := tabwriter.NewWriter(d.Streams.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tBACKEND\tWHERE")
	for _, c := range p.Balancers {
		if _, err := reg.New(c, balancer.Env{}); err != nil {
			return err
		}
		fmt.Fprintf(w, "%s\t%s\t%s\n", c.Name, reg.Canonical(c.Backend), where(c))
	}
	return w.Flush()
}

// where summarises where a balancer routes: its hosts, or its URL.
func where(c balancer.Config) string {
	var o struct {
		Hosts []string `yaml:"hosts"`
		URL   string   `yaml:"URL"`
	}
	_ = c.Options.Decode(&o) // already validated by New; unknown fields are ignored here
	switch {
	case o.URL != "":
		return o.URL
	case len(o.Hosts) > 0:
		return strings.Join(o.Hosts, ",")
	case c.Backend == "dummy" || strings.HasSuffix(c.Backend, "DummyBalancer"):
		return "(local state file)"
	}
	return "localhost"
}
