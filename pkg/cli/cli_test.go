package cli_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/vr-paas/vr/pkg/cli"
)

type inputErr struct{}

func (inputErr) Error() string  { return "app.yaml:3: key \"version\": quote it" }
func (inputErr) BadInput() bool { return true }

func TestCode(t *testing.T) {
	cases := []struct {
		err  error
		want int
	}{
		{nil, 0},
		{errors.New("compile failed"), 1},
		{fs.ErrNotExist, 1},
		{inputErr{}, 2},
		{fmt.Errorf("load: %w", inputErr{}), 2},
		{cli.Usagef("missing argument FILE"), 2},
		{cli.ErrNotImplemented, 3},
		{fmt.Errorf("build: %w", cli.ErrNotImplemented), 3},
		{context.Canceled, 130},
		{fmt.Errorf("%w: compile", cli.ErrInterrupted), 130},
		{&cli.ExitError{Code: 7}, 7},
		{fmt.Errorf("uptests: %w", &cli.ExitError{Code: 4, Err: errors.New("2 failed")}), 4},
	}
	for _, tc := range cases {
		if got := cli.Code(tc.err); got != tc.want {
			t.Errorf("Code(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}

func TestReportOneLine(t *testing.T) {
	var b bytes.Buffer
	code := cli.Report(&b, "vbuild", errors.New("compile failed:\n  line one\n  line two"))
	if code != 1 || b.String() != "vbuild: compile failed: line one line two\n" {
		t.Fatalf("got %d %q", code, b.String())
	}
	b.Reset()
	if code := cli.Report(&b, "vbuild", &cli.ExitError{Code: 1}); code != 1 || b.Len() != 0 {
		t.Fatalf("silent ExitError printed %q (code %d)", b.String(), code)
	}
}

func newTestRoot(run func(cmd *cobra.Command, d *cli.Deps) error) func(*cli.Deps) *cobra.Command {
	return func(d *cli.Deps) *cobra.Command {
		root := &cobra.Command{Use: "vtest", Args: cobra.ArbitraryArgs, RunE: cli.NeedSubcommand}
		d.AddRootFlag(root)
		root.AddCommand(&cobra.Command{Use: "go", Args: cli.ExactArgs(), RunE: func(cmd *cobra.Command, _ []string) error {
			return run(cmd, d)
		}})
		return root
	}
}

func run(root func(*cli.Deps) *cobra.Command, ctx context.Context, args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := cli.Run(ctx, root, args, cli.Streams{In: strings.NewReader(""), Out: &out, Err: &errb})
	return code, out.String(), errb.String()
}

func TestRootSetting(t *testing.T) {
	var got string
	root := newTestRoot(func(_ *cobra.Command, d *cli.Deps) error { got = d.RootDir(); return nil })

	t.Setenv("VR_ROOT", "")
	if code, _, _ := run(root, context.Background(), "go"); code != 0 || got != "/apps" {
		t.Fatalf("default root: code %d, root %q", code, got)
	}
	t.Setenv("VR_ROOT", "/srv/vr")
	if run(root, context.Background(), "go"); got != "/srv/vr" {
		t.Fatalf("VR_ROOT not used: %q", got)
	}
	if run(root, context.Background(), "--root", "/tmp/x", "go"); got != "/tmp/x" {
		t.Fatalf("--root does not win over VR_ROOT: %q", got)
	}
}

func TestInterrupted(t *testing.T) {
	root := newTestRoot(func(cmd *cobra.Command, _ *cli.Deps) error {
		<-cmd.Context().Done()
		return fmt.Errorf("container stopped: %w", errors.New("signal: terminated"))
	})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	code, _, stderr := run(root, ctx, "go")
	if code != cli.ExitInterrupted {
		t.Fatalf("code %d, want 130 (stderr %q)", code, stderr)
	}
	if !strings.HasPrefix(stderr, "vtest: interrupted") {
		t.Fatalf("stderr %q", stderr)
	}
}

func TestUsageErrors(t *testing.T) {
	root := newTestRoot(func(*cobra.Command, *cli.Deps) error { return nil })
	for _, args := range [][]string{{}, {"nope"}, {"go", "extra"}, {"--bogus"}, {"go", "--root"}} {
		code, _, stderr := run(root, context.Background(), args...)
		if code != cli.ExitBadInput || !strings.HasPrefix(stderr, "vtest: ") || !strings.Contains(stderr, "--help' for usage") {
			t.Errorf("%v: code %d stderr %q", args, code, stderr)
		}
	}
}

func TestRequireRootMessage(t *testing.T) {
	err := &cli.ErrNeedRoot{Command: "vbuild build"}
	if !strings.HasPrefix(err.Error(), "vbuild build must run as root (euid ") {
		t.Fatal(err)
	}
}
