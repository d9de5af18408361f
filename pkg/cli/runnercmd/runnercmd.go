// Package runnercmd builds the command tree shared by the two runner binaries, vruntime
// (the proc's root is an OS image under an overlay) and vruntime-precise (the host's system
// folders bind-mounted read-only). They differ only in Variant.
package runnercmd

import (
	"github.com/spf13/cobra"

	"github.com/vr-paas/vr/pkg/cli"
)

// Variant says how a runner builds a proc's root filesystem.
type Variant int

const (
	// Image roots the proc in an OS image (image_url, image_name, image_md5) under an overlay.
	Image Variant = iota
	// Precise bind-mounts the host's /bin /etc /lib /lib64 /opt /usr read-only.
	Precise
)

// NewRoot returns the root command of a runner binary named name.
func NewRoot(name string, v Variant, d *cli.Deps) *cobra.Command {
	short := "Run one proc in an LXC container over an OS image"
	if v == Precise {
		short = "Run one proc in an LXC container over the host's read-only system folders"
	}
	root := &cobra.Command{
		Use:   name,
		Short: short,
		Long: short + `.

Every command takes the path of a proc.yaml (it need not be named proc.yaml):
  setup     download the build (and image), write the proc's files and container config
  run       run the proc in the foreground until it exits or is signalled
  uptest    run the app's uptests for the proc and print their JSON results
  teardown  remove everything setup made
  shell     an interactive shell in a container identical to the proc's`,
		Args: cobra.ArbitraryArgs,
		RunE: cli.NeedSubcommand,
	}
	d.AddRootFlag(root)
	for _, c := range []struct{ use, short string }{
		{"setup PROC_YAML", "Prepare the proc: build, image, files and container config"},
		{"run PROC_YAML", "Run the proc in the foreground"},
		{"uptest PROC_YAML", "Run the proc's uptests and print the results as JSON"},
		{"teardown PROC_YAML", "Remove the proc's folder, container and mounts"},
		{"shell PROC_YAML", "Open an interactive shell in a container like the proc's"},
	} {
		root.AddCommand(&cobra.Command{
			Use:   c.use,
			Short: c.short,
			Args:  cli.ExactArgs("PROC_YAML"),
			RunE:  cli.NotImplemented,
		})
	}
	return root
}
