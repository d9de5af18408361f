package builder

import (
	"context"
	"io"
	"sync"

	"github.com/vr-paas/vr/pkg/buildpack"
	"github.com/vr-paas/vr/pkg/container"
)

// containerExecutor runs buildpack programs in the build container as the build user.
type containerExecutor struct {
	c        container.Container
	uid, gid int
}

var _ buildpack.Executor = containerExecutor{}

// Exec implements buildpack.Executor.
func (e containerExecutor) Exec(ctx context.Context, c buildpack.Cmd) (int, error) {
	return e.c.Exec(ctx, container.Process{
		Argv: c.Argv, Env: c.Env, UID: e.uid, GID: e.gid, Cwd: c.Dir,
	}, container.Streams{In: c.Stdin, Out: c.Stdout, Err: c.Stderr})
}

// syncWriter serialises writes to w (a process's stdout and stderr are copied by two
// goroutines).
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func containerProcess(argv, env []string, u buildUser, cwd string, tty bool) container.Process {
	return container.Process{Argv: argv, Env: env, UID: u.UID, GID: u.GID, Cwd: cwd, TTY: tty}
}

func containerStreams(in io.Reader, out, errw io.Writer) container.Streams {
	return container.Streams{In: in, Out: out, Err: errw}
}
