// Package clitest runs vr commands in-process for tests and captures what they print.
package clitest

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/vr-paas/vr/pkg/cli"
)

// Result is what a command run printed and returned.
type Result struct {
	Code   int
	Stdout string
	Stderr string
}

// Run runs the command built by newRoot with args and empty stdin.
func Run(t testing.TB, newRoot func(*cli.Deps) *cobra.Command, args ...string) Result {
	t.Helper()
	var out, errb bytes.Buffer
	code := cli.Run(context.Background(), newRoot, args, cli.Streams{In: strings.NewReader(""), Out: &out, Err: &errb})
	return Result{Code: code, Stdout: out.String(), Stderr: errb.String()}
}

// Case is one row of a command-line table test.
type Case struct {
	Args       []string
	Code       int
	Stdout     string // substring expected on stdout ("" = not checked)
	Stderr     string // substring expected on stderr ("" = not checked)
	StderrLine bool   // stderr must be exactly one line (plus an optional usage hint)
}

// RunTable runs every case as a subtest and checks code and output.
func RunTable(t *testing.T, newRoot func(*cli.Deps) *cobra.Command, cases []Case) {
	t.Helper()
	for _, tc := range cases {
		t.Run(strings.Join(tc.Args, "_"), func(t *testing.T) {
			r := Run(t, newRoot, tc.Args...)
			if r.Code != tc.Code {
				t.Errorf("%v: exit code %d, want %d\nstdout: %s\nstderr: %s", tc.Args, r.Code, tc.Code, r.Stdout, r.Stderr)
			}
			if !strings.Contains(r.Stdout, tc.Stdout) {
				t.Errorf("%v: stdout %q does not contain %q", tc.Args, r.Stdout, tc.Stdout)
			}
			if !strings.Contains(r.Stderr, tc.Stderr) {
				t.Errorf("%v: stderr %q does not contain %q", tc.Args, r.Stderr, tc.Stderr)
			}
			if tc.StderrLine {
				lines := strings.Split(strings.TrimSuffix(r.Stderr, "\n"), "\n")
				if len(lines) > 2 || (len(lines) == 2 && !strings.HasPrefix(lines[1], "Run '")) {
					t.Errorf("%v: stderr should be one line, got %q", tc.Args, r.Stderr)
				}
			}
		})
	}
}

// StandardCases are the cases every vr binary passes: --help and --version print and exit 0,
// an unknown flag is a usage error (2) named on one line.
func StandardCases(name string) []Case {
	return []Case{
		{Args: []string{"--help"}, Code: cli.ExitOK, Stdout: "Usage:"},
		{Args: []string{"--version"}, Code: cli.ExitOK, Stdout: name + " "},
		{Args: []string{"--no-such-flag"}, Code: cli.ExitBadInput, Stderr: name + ": unknown flag: --no-such-flag", StderrLine: true},
	}
}
