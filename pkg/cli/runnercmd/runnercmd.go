// Package runnercmd builds the command tree shared by the two runner binaries, vruntime
// (the proc's root is an OS image under an overlay) and vruntime-precise (the host's system
// folders bind-mounted read-only). They differ only in Variant; the work is pkg/runner's.
package runnercmd

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/vr-paas/vr/pkg/cli"
	"github.com/vr-paas/vr/pkg/container"
	"github.com/vr-paas/vr/pkg/container/lxc"
	"github.com/vr-paas/vr/pkg/runner"
)

// Variant says how a runner builds a proc's root filesystem.
type Variant = runner.Variant

const (
	// Image roots the proc in an OS image (image_url, image_name, image_md5) under an overlay.
	Image = runner.Image
	// Precise bind-mounts the host's /bin /sbin /etc /lib /lib64 /opt /usr read-only.
	Precise = runner.Precise
)

// env is what the subcommands share: the binary's name and variant, the settings, and how
// to get a container backend (lazily, so --help and bad input never touch liblxc).
type env struct {
	name       string
	variant    Variant
	d          *cli.Deps
	newBackend func(lxcpath string) (container.Backend, error)
}

// NewRoot returns the root command of a runner binary named name.
func NewRoot(name string, v Variant, d *cli.Deps) *cobra.Command {
	return newRoot(&env{name: name, variant: v, d: d, newBackend: lxcBackend})
}

func lxcBackend(lxcpath string) (container.Backend, error) {
	return lxc.New(lxc.Options{LXCPath: lxcpath})
}

func newRoot(e *env) *cobra.Command {
	short := "Run one proc in an LXC container over an OS image"
	if e.variant == Precise {
		short = "Run one proc in an LXC container over the host's read-only system folders"
	}
	root := &cobra.Command{
		Use:   e.name,
		Short: short,
		Long: short + `.

Every command takes the path of a proc.yaml (it need not be named proc.yaml):
  setup     download the build (and image), write the proc's files and container config
  run       run the proc in the foreground until it exits or is signalled
  uptest    run the app's uptests for the proc and print their JSON results
  teardown  remove everything setup made
  shell     an interactive shell in a container like the proc's

The proc's files live in $VR_ROOT/procs/<proc name>/ (--root, default /apps); builds and
images are cached in $VR_ROOT/builds and $VR_ROOT/images. Every command but --help needs root.`,
		Args: cobra.ArbitraryArgs,
		RunE: cli.NeedSubcommand,
	}
	e.d.AddRootFlag(root)
	root.AddCommand(
		newSetupCmd(e),
		newRunCmd(e),
		newUptestCmd(e),
		newTeardownCmd(e),
		newShellCmd(e),
	)
	return root
}

// load reads the proc.yaml (bad input: exit 2), then checks root.
func (e *env) load(cmd *cobra.Command, path string) (*runner.Proc, error) {
	p, err := runner.Load(path, e.variant)
	if err != nil {
		return nil, err
	}
	if err := cli.RequireRoot(e.name + " " + cmd.Name()); err != nil {
		return nil, err
	}
	return p, nil
}

// runner returns a Runner over a new backend.
func (e *env) runner() (*runner.Runner, error) {
	root := e.d.RootDir()
	b, err := e.newBackend(runner.LXCPath(root))
	if err != nil {
		return nil, err
	}
	return &runner.Runner{Root: root, Variant: e.variant, Backend: b}, nil
}

// bindDuration binds the flag of cmd to the setting key (env VR_<KEY>) and returns a reader
// of its value.
func (e *env) bindDuration(cmd *cobra.Command, flag, key string) func() time.Duration {
	if err := e.d.Config.BindPFlag(key, cmd.Flags().Lookup(flag)); err != nil {
		panic(err)
	}
	return func() time.Duration { return e.d.Config.GetDuration(key) }
}
