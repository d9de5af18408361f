package container

import "errors"

// Sentinel errors. Backends wrap them with the container name and the details; check them
// with errors.Is.
var (
	// ErrInvalidSpec is returned for a Spec that fails Validate.
	ErrInvalidSpec = errors.New("invalid container spec")

	// ErrNotFound is returned when the named container does not exist.
	ErrNotFound = errors.New("container not found")

	// ErrExists is returned when a container of that name is already running.
	ErrExists = errors.New("container already running")

	// ErrUnsupported is returned when the host (or the build) cannot provide what is asked:
	// a backend built without cgo, or a limit whose cgroup controller the kernel lacks.
	ErrUnsupported = errors.New("not supported on this host")

	// ErrStopped is wrapped in the error returned by Run and Exec when the process was
	// stopped because the context was cancelled (the exit code is still returned).
	ErrStopped = errors.New("stopped")
)
