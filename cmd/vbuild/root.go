package main

import (
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/vr-paas/vr/pkg/builder"
	"github.com/vr-paas/vr/pkg/cli"
	"github.com/vr-paas/vr/pkg/container"
	"github.com/vr-paas/vr/pkg/schema"
)

// newRootCmd lists every vbuild subcommand.
func newRootCmd(d *cli.Deps) *cobra.Command {
	root := &cobra.Command{
		Use:   "vbuild",
		Short: "Build an app with Heroku buildpacks in a throwaway LXC container",
		Long: `vbuild builds an app from its git or hg repository with Heroku buildpacks inside a
throwaway LXC container, and writes build.tar.gz, build_result.yaml and compile.log to the
current directory. Feeding build_result.yaml back to vbuild repeats the same build.

Checkouts, build caches and locks are kept under $VR_ROOT/builder (repo/, buildpacks/,
cache/, locks/, work/); OS images under $VR_ROOT/images. Must run as root.`,
		Args: cobra.ArbitraryArgs,
		RunE: cli.NeedSubcommand,
	}
	d.AddRootFlag(root)
	root.AddCommand(
		newBuildCmd(d, nil),
		newShellCmd(d, nil),
		newCacheCmd(d, nil),
	)
	return root
}

// containerFlags are the settings of the build container shared by build and shell, each
// also read from a VR_BUILD_* environment variable.
type containerFlags struct {
	User        string
	Memory      string
	MemorySwap  string
	Pids        int64
	CPUShares   int64
	LockTimeout time.Duration
	Network     string
}

// containerFlagNames are the flags of containerFlags.
var containerFlagNames = []string{"user", "memory", "memory-swap", "pids", "cpu-shares", "lock-timeout", "network"}

// addContainerFlags adds the container settings to cmd (see readContainerFlags).
func addContainerFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.String("user", builder.DefaultUser, "user the buildpack runs as: a name in the container's /etc/passwd, a uid, or uid:gid (not root) (env VR_BUILD_USER)")
	f.String("memory", schema.FormatSize(builder.DefaultMemory), `memory limit of the build container, e.g. 512M, 4G; "none" for no limit (env VR_BUILD_MEMORY)`)
	f.String("memory-swap", "none", `limit of memory plus swap, at least --memory; "none" leaves swap alone (env VR_BUILD_MEMORY_SWAP)`)
	f.Int64("pids", builder.DefaultPids, "most processes in the build container; 0 for no limit (env VR_BUILD_PIDS)")
	f.Int64("cpu-shares", builder.DefaultCPUShares, "CPU weight of the build container (cgroup cpu.shares, 2-262144; the default weight is 1024); 0 for none (env VR_BUILD_CPU_SHARES)")
	f.Duration("lock-timeout", builder.DefaultLockTimeout, "how long to wait for another build of the same app (env VR_BUILD_LOCK_TIMEOUT)")
	f.String("network", string(container.NetworkHost), "network of the build container: host (buildpacks can download) or none (env VR_BUILD_NETWORK)")
}

// bindEnv binds flag name of cmd to the setting "build-<name>", read from VR_BUILD_<NAME>
// when the flag is not given. Several commands have the same flags and viper keeps one flag
// per setting, so the command that runs binds its own, when it runs.
func bindEnv(d *cli.Deps, cmd *cobra.Command, name string) {
	if err := d.Config.BindPFlag("build-"+name, cmd.Flags().Lookup(name)); err != nil {
		panic(err)
	}
}

// readContainerFlags binds cmd's container flags to VR_BUILD_* and returns their values.
func readContainerFlags(d *cli.Deps, cmd *cobra.Command) containerFlags {
	for _, name := range containerFlagNames {
		bindEnv(d, cmd, name)
	}
	c := d.Config
	return containerFlags{
		User:        c.GetString("build-user"),
		Memory:      c.GetString("build-memory"),
		MemorySwap:  c.GetString("build-memory-swap"),
		Pids:        c.GetInt64("build-pids"),
		CPUShares:   c.GetInt64("build-cpu-shares"),
		LockTimeout: c.GetDuration("build-lock-timeout"),
		Network:     c.GetString("build-network"),
	}
}

// apply sets the container settings in o; a bad value is a usage error naming the flag.
func (f containerFlags) apply(o *builder.Options) error {
	var err error
	o.User = f.User
	if o.Limits.Memory, err = parseLimit("memory", f.Memory); err != nil {
		return err
	}
	if o.Limits.MemorySwap, err = parseLimit("memory-swap", f.MemorySwap); err != nil {
		return err
	}
	if o.Limits.MemorySwap > 0 && o.Limits.Memory <= 0 {
		return cli.Usagef("--memory-swap needs --memory")
	}
	if o.Limits.MemorySwap > 0 && o.Limits.MemorySwap < o.Limits.Memory {
		return cli.Usagef("--memory-swap %s is less than --memory %s", f.MemorySwap, f.Memory)
	}
	o.Limits.Pids = noneIfZero(f.Pids)
	o.Limits.CPUShares = noneIfZero(f.CPUShares)
	if f.CPUShares != 0 && (f.CPUShares < 2 || f.CPUShares > 262144) {
		return cli.Usagef("--cpu-shares %d: expected 2 to 262144, or 0", f.CPUShares)
	}
	if f.Pids < 0 {
		return cli.Usagef("--pids %d: expected a positive number, or 0", f.Pids)
	}
	o.LockTimeout = f.LockTimeout
	switch container.Network(f.Network) {
	case container.NetworkHost, container.NetworkNone:
		o.Network = container.Network(f.Network)
	default:
		return cli.Usagef("--network %q: expected host or none", f.Network)
	}
	return nil
}

// parseLimit reads a size flag: a size such as 2G, or "none"/"0" (no limit: -1).
func parseLimit(flag, s string) (int64, error) {
	switch strings.ToLower(s) {
	case "none", "0", "":
		return -1, nil
	}
	n, err := schema.ParseSize(s)
	if err != nil {
		return 0, cli.Usagef("--%s %q: expected a size such as 512M or 2G, or none", flag, s)
	}
	return n, nil
}

// noneIfZero maps the flags' "0 means no limit" to builder.Options' negative value.
func noneIfZero(n int64) int64 {
	if n == 0 {
		return -1
	}
	return n
}

// isTerminal reports whether v is a terminal.
func isTerminal(v any) bool {
	f, ok := v.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}
