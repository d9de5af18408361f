package cli

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// DefaultRoot is where a host keeps builds, images and procs (VR_ROOT).
const DefaultRoot = "/apps"

// BindFlag binds a flag of cmd to the setting of the same name, which also reads the
// environment variable VR_<NAME> (dashes become underscores). A flag given on the command line
// wins over the environment, which wins over the flag's default.
func (d *Deps) BindFlag(cmd *cobra.Command, name string) {
	f := cmd.PersistentFlags().Lookup(name)
	if f == nil {
		f = cmd.Flags().Lookup(name)
	}
	if f == nil {
		panic("cli: BindFlag: no flag " + name)
	}
	if err := d.Config.BindPFlag(name, f); err != nil {
		panic(err)
	}
}

// AddRootFlag adds the persistent --root flag (env VR_ROOT, default /apps) to cmd.
func (d *Deps) AddRootFlag(cmd *cobra.Command) {
	cmd.PersistentFlags().String("root", DefaultRoot, "directory holding builds, images and procs (env VR_ROOT)")
	d.BindFlag(cmd, "root")
}

// RootDir returns the --root setting (VR_ROOT, default /apps).
func (d *Deps) RootDir() string {
	if r := d.Config.GetString("root"); r != "" {
		return r
	}
	return DefaultRoot
}

// ErrNeedRoot is returned by commands that need root privileges (LXC) when run without them.
type ErrNeedRoot struct{ Command string }

func (e *ErrNeedRoot) Error() string {
	return fmt.Sprintf("%s must run as root (euid %d)", e.Command, os.Geteuid())
}

// RequireRoot returns *ErrNeedRoot unless the process runs as root.
func RequireRoot(command string) error {
	if os.Geteuid() != 0 {
		return &ErrNeedRoot{Command: command}
	}
	return nil
}
