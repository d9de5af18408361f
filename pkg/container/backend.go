package container

import "context"

// Backend creates and runs containers on one host. Implementations are safe for concurrent
// use by multiple goroutines, for containers of different names.
type Backend interface {
	// Run creates the container described by spec, runs spec.Process in it in the
	// foreground and destroys the container, whatever happened. It returns the process's
	// exit code (128+signal when it was killed by a signal), or -1 with an error when the
	// process could not be started.
	//
	// Signals from s.Signals are forwarded to the process. When ctx is cancelled the
	// process gets SIGTERM, then SIGKILL after spec.StopTimeout; the exit code is returned
	// together with an error wrapping ErrStopped and the context's error.
	//
	// A container of the same name that is still running makes Run fail with ErrExists;
	// stale remains of a stopped one are removed first.
	Run(ctx context.Context, spec Spec, s Streams) (exitCode int, err error)

	// Start creates the container and starts it with an idle init, without running
	// spec.Process. The caller runs processes with Container.Exec and must call
	// Container.Destroy. Errors are as for Run.
	Start(ctx context.Context, spec Spec) (Container, error)

	// Cleanup stops and removes whatever is left of the named container (processes,
	// cgroups, mounts, definition), e.g. after the runner that started it was killed. It is
	// idempotent: nothing left is not an error.
	Cleanup(ctx context.Context, name string) error

	// Leftovers lists, one description per item, what is left on the host of the named
	// container: a running container, its definition, cgroups and mounts. It is empty
	// after a successful Run, Destroy or Cleanup.
	Leftovers(ctx context.Context, name string) ([]string, error)
}

// Container is a started container.
type Container interface {
	// Name returns the container's name.
	Name() string

	// Exec runs p in the container in the foreground, as Run does, and returns its exit
	// code. Several Execs may run at the same time. A process left running in the
	// background by p is not waited for; Destroy kills it.
	Exec(ctx context.Context, p Process, s Streams) (exitCode int, err error)

	// Destroy stops every process of the container and removes all of it. It is
	// idempotent.
	Destroy(ctx context.Context) error
}
