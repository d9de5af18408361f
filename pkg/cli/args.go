package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// ExactArgs is cobra.ExactArgs with the positional names in the error and a UsageError type.
func ExactArgs(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) == len(names) {
			return nil
		}
		if len(args) < len(names) {
			return Usagef("%s: missing argument %s", cmd.Name(), names[len(args)])
		}
		return Usagef("%s: takes %d argument(s) (%v), got %d", cmd.Name(), len(names), names, len(args))
	}
}

// NotImplemented is the RunE of a command that a later version of vr fills in.
func NotImplemented(cmd *cobra.Command, _ []string) error {
	if !cmd.HasParent() {
		return ErrNotImplemented
	}
	return fmt.Errorf("%s: %w", cmd.Name(), ErrNotImplemented)
}

// NeedSubcommand is the RunE of a command that only groups subcommands: called without one
// (or with an unknown one) it is a usage error that lists the choices.
func NeedSubcommand(cmd *cobra.Command, args []string) error {
	var names []string
	for _, c := range cmd.Commands() {
		if c.IsAvailableCommand() && c.Name() != "help" {
			names = append(names, c.Name())
		}
	}
	prefix := ""
	if cmd.HasParent() {
		prefix = cmd.Name() + ": "
	}
	if len(args) == 0 {
		return Usagef("%smissing command (one of: %s)", prefix, strings.Join(names, ", "))
	}
	return Usagef("%sunknown command %q (one of: %s)", prefix, args[0], strings.Join(names, ", "))
}
