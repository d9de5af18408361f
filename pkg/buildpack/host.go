package buildpack

import (
	"context"
	"errors"
	"io/fs"
	"os/exec"
	"syscall"
	"time"
)

// HostExecutor runs buildpack programs directly on the host, as the calling user, with no
// isolation: for tests, benchmarks and trusted buildpacks only. When ctx ends the program
// gets SIGTERM, then SIGKILL after StopTimeout (zero: 10 s).
type HostExecutor struct {
	StopTimeout time.Duration
}

var _ Executor = HostExecutor{}

// Exec implements Executor.
func (h HostExecutor) Exec(ctx context.Context, c Cmd) (int, error) {
	cmd := exec.CommandContext(ctx, c.Argv[0], c.Argv[1:]...) // #nosec G204: trusted use only, see the type
	cmd.Env = c.Env
	if cmd.Env == nil {
		cmd.Env = []string{}
	}
	cmd.Dir = c.Dir
	cmd.Stdin, cmd.Stdout, cmd.Stderr = c.Stdin, c.Stdout, c.Stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = h.StopTimeout
	if cmd.WaitDelay == 0 {
		cmd.WaitDelay = 10 * time.Second
	}
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, nil
	case errors.As(err, &ee):
		code := ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			code = 128 + int(ws.Signal())
		}
		if ctx.Err() != nil {
			return code, ctx.Err()
		}
		return code, nil
	case errors.Is(err, fs.ErrNotExist):
		return 127, nil
	case errors.Is(err, fs.ErrPermission):
		return 126, nil
	}
	return -1, err
}
