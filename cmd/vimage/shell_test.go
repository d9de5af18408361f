package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vr-paas/vr/pkg/cli"
	"github.com/vr-paas/vr/pkg/cli/clitest"
	"github.com/vr-paas/vr/pkg/testutil"
)

func runWithStdin(t *testing.T, stdin string, args ...string) clitest.Result {
	t.Helper()
	var out, errb bytes.Buffer
	code := cli.Run(context.Background(), newRootCmd, args, cli.Streams{In: strings.NewReader(stdin), Out: &out, Err: &errb})
	return clitest.Result{Code: code, Stdout: out.String(), Stderr: errb.String()}
}

// TestShellPipedStdin: without a terminal the shell reads commands from stdin, and vimage
// exits with the shell's status, quietly (the original crashed at the end of every shell).
func TestShellPipedStdin(t *testing.T) {
	_, spec := project(t, "cmdtest-shell", "#!/bin/sh\ntrue\n", "")
	root := t.TempDir()
	r := runWithStdin(t, "echo hi; exit 3\n", "--root", root, "shell", spec)
	if r.Code != 3 || r.Stdout != "hi\n" || strings.Contains(r.Stderr, "vimage:") {
		t.Fatalf("exit %d, stdout %q, stderr %q", r.Code, r.Stdout, r.Stderr)
	}
	r = runWithStdin(t, "test -d /dev/.vimage && echo ok\n", "--root", root, "shell", spec)
	if r.Code != 0 || r.Stdout != "ok\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", r.Code, r.Stdout, r.Stderr)
	}
}

func TestShellBadSpec(t *testing.T) {
	testutil.RequireRoot(t)
	spec := writeSpec(t, t.TempDir(), "base_image_url: x.tar.gz\nnew_image_name: n\nscript_url: s.sh\n")
	clitest.RunTable(t, newRootCmd, []clitest.Case{
		{Args: []string{"shell", spec}, Code: cli.ExitBadInput, Stderr: `key "base_image_name": required key is missing`, StderrLine: true},
	})
}

// TestShellTerminal: with a terminal on stdin the shell runs on a pseudo-terminal
// (interactive: it prompts and echoes), and vimage still exits with its status.
func TestShellTerminal(t *testing.T) {
	_, spec := project(t, "cmdtest-tty", "#!/bin/sh\ntrue\n", "")
	master, slave := openPty(t)
	var out, errb bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- cli.Run(context.Background(), newRootCmd, []string{"--root", t.TempDir(), "shell", spec},
			cli.Streams{In: slave, Out: &out, Err: &errb})
	}()
	if _, err := master.Write([]byte("tty && echo on-a-pty; exit 4\n")); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-done:
		if code != 4 || !strings.Contains(out.String(), "/dev/pts/") || !strings.Contains(out.String(), "on-a-pty") {
			t.Fatalf("exit %d, output %q, stderr %q", code, out.String(), errb.String())
		}
	case <-time.After(time.Minute):
		t.Fatalf("shell did not exit; output %q", out.String())
	}
}

// openPty opens a pseudo-terminal pair.
func openPty(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetUint32(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	go func() { _, _ = io.Copy(io.Discard, m) }() // the terminal's echo
	return m, s
}
