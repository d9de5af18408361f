package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"
)

// Version is the version every binary prints for --version. `make build` stamps it with
// -ldflags "-X github.com/vr-paas/vr/pkg/cli.Version=..."; unstamped builds fall back to the
// VCS revision Go recorded, or "dev".
var Version = ""

// VersionString returns Version, or a fallback for unstamped builds.
func VersionString() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		var rev, dirty string
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					dirty = "-dirty"
				}
			}
		}
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if rev != "" {
			return "dev-" + rev + dirty
		}
	}
	return "dev"
}

// Streams are the standard streams of a command, injected so tests can run commands
// in-process.
type Streams struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
}

// StdStreams returns the process's own stdin, stdout and stderr.
func StdStreams() Streams {
	return Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}
}

// Deps is what every command constructor receives: the streams and the settings (flags bound
// to VR_* environment variables through viper; see BindFlag).
type Deps struct {
	Streams Streams
	Config  *viper.Viper

	sighupForwarded atomic.Bool
}

// ForwardSIGHUP tells Main that the running command passes SIGHUP on (to a proc), so SIGHUP
// must not cancel the command's context.
func (d *Deps) ForwardSIGHUP() { d.sighupForwarded.Store(true) }

// NewDeps returns Deps over the given streams with settings read from VR_* variables.
func NewDeps(s Streams) *Deps {
	v := viper.New()
	v.SetEnvPrefix("VR")
	v.SetEnvKeyReplacer(strings.NewReplacer("-", "_"))
	v.AutomaticEnv()
	return &Deps{Streams: s, Config: v}
}

// Main builds the root command, runs it with args under a context that is cancelled by
// SIGINT, SIGTERM or SIGHUP (a closed terminal or ssh session must also let commands tear
// down their containers), prints a failure as one line on stderr, and returns the exit code.
// It never calls os.Exit, so tests can call it directly.
//
// A command that forwards SIGHUP to what it runs (vruntime run) calls Deps.ForwardSIGHUP, and
// then SIGHUP no longer cancels the context.
func Main(newRoot func(*Deps) *cobra.Command, args []string, s Streams) int {
	d := NewDeps(s)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case sig := <-sigs:
				if sig == syscall.SIGHUP && d.sighupForwarded.Load() {
					continue
				}
				cancel()
			}
		}
	}()
	return run(ctx, d, newRoot, args)
}

// Run is Main with an explicit context.
func Run(ctx context.Context, newRoot func(*Deps) *cobra.Command, args []string, s Streams) int {
	return run(ctx, NewDeps(s), newRoot, args)
}

func run(ctx context.Context, d *Deps, newRoot func(*Deps) *cobra.Command, args []string) int {
	s := d.Streams
	root := newRoot(d)
	prepare(root)
	root.SetArgs(args)
	root.SetIn(s.In)
	root.SetOut(s.Out)
	root.SetErr(s.Err)

	err := root.ExecuteContext(ctx)
	if err != nil && ctx.Err() != nil && Code(err) != ExitInterrupted {
		err = fmt.Errorf("%w: %w", ErrInterrupted, err)
	}
	if err != nil && isCobraUsageError(err) {
		err = &UsageError{Err: err}
	}
	code := Report(s.Err, root.Name(), err)
	if code == ExitBadInput {
		var ue *UsageError
		if errors.As(err, &ue) {
			fmt.Fprintf(s.Err, "Run '%s --help' for usage.\n", commandPath(root, args))
		}
	}
	return code
}

// prepare applies the settings every vr command shares, recursively.
func prepare(c *cobra.Command) {
	c.SilenceUsage = true
	c.SilenceErrors = true
	c.Version = VersionString()
	c.SetVersionTemplate("{{.Name}} {{.Version}}\n")
	c.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &UsageError{Err: err} })
	c.CompletionOptions.DisableDefaultCmd = true
	for _, sub := range c.Commands() {
		prepare(sub)
	}
}

// isCobraUsageError recognises the errors cobra returns for a bad command line before any
// RunE runs; cobra has no typed error for these, so the message prefix is all there is.
func isCobraUsageError(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command ", "unknown flag", "unknown shorthand flag", "accepts ", "requires at least ", "requires at most ", "invalid argument "} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

// commandPath names the (sub)command the arguments selected, for the usage hint.
func commandPath(root *cobra.Command, args []string) string {
	if c, _, err := root.Find(args); err == nil && c != nil {
		return c.CommandPath()
	}
	return root.Name()
}
