package cli_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/vr-paas/vr/pkg/cli"
)

// TestHelperMain is not a test: run by TestMainSignals as a child, it is a binary built on
// cli.Main whose command waits for its context (or, with VR_CLI_FORWARD_HUP, for a SIGHUP it
// claims for itself).
func TestHelperMain(t *testing.T) {
	if os.Getenv("VR_CLI_HELPER") != "1" {
		t.Skip("helper process for TestMainSignals")
	}
	forward := os.Getenv("VR_CLI_FORWARD_HUP") == "1"
	code := cli.Main(func(d *cli.Deps) *cobra.Command {
		return &cobra.Command{Use: "vhelper", RunE: func(cmd *cobra.Command, _ []string) error {
			hup := make(chan os.Signal, 1)
			if forward {
				d.ForwardSIGHUP()
				signal.Notify(hup, syscall.SIGHUP)
			}
			fmt.Fprintln(d.Streams.Out, "ready")
			select {
			case <-cmd.Context().Done():
				return fmt.Errorf("stopped: %w", cmd.Context().Err())
			case <-hup:
				fmt.Fprintln(d.Streams.Out, "got SIGHUP, still running")
				return nil
			}
		}}
	}, nil, cli.StdStreams())
	os.Exit(code)
}

func TestMainSignals(t *testing.T) {
	cases := []struct {
		sig     syscall.Signal
		forward bool
		code    int
		stdout  string
	}{
		{syscall.SIGINT, false, 130, ""},
		{syscall.SIGTERM, false, 130, ""},
		{syscall.SIGHUP, false, 130, ""},
		{syscall.SIGHUP, true, 0, "got SIGHUP, still running"},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%v forward=%v", tc.sig, tc.forward), func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestHelperMain$")
			cmd.Env = append(os.Environ(), "VR_CLI_HELPER=1", fmt.Sprintf("VR_CLI_FORWARD_HUP=%v", map[bool]int{true: 1}[tc.forward]))
			var errb bytes.Buffer
			cmd.Stderr = &errb
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 6)
			if _, err := out.Read(buf); err != nil || string(buf) != "ready\n" {
				t.Fatalf("helper did not start: %q %v", buf, err)
			}
			_ = cmd.Process.Signal(tc.sig)
			done := make(chan []byte)
			go func() { b := new(bytes.Buffer); _, _ = b.ReadFrom(out); done <- b.Bytes() }()
			var rest []byte
			select {
			case rest = <-done:
			case <-time.After(20 * time.Second):
				_ = cmd.Process.Kill()
				t.Fatal("helper did not exit")
			}
			_ = cmd.Wait()
			if got := cmd.ProcessState.ExitCode(); got != tc.code {
				t.Fatalf("exit code %d, want %d (stderr %q)", got, tc.code, errb.String())
			}
			if !strings.Contains(string(rest), tc.stdout) {
				t.Fatalf("stdout %q, want %q", rest, tc.stdout)
			}
			if tc.code == 130 && !strings.HasPrefix(errb.String(), "vhelper: interrupted") {
				t.Fatalf("stderr %q", errb.String())
			}
		})
	}
}
