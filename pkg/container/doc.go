// Package container describes system containers independently of the tool that runs them.
//
// A Spec says what a container is made of: a root filesystem (a directory, or an overlay of
// a read-only lower directory and a writable upper one), bind mounts, the process to run
// (argv, environment, user, working directory, TTY), a hostname, resource limits (memory,
// memory+swap, CPU shares, process count) and the network (the host's, or none).
//
// A Backend runs Specs. Backend.Run creates the container, runs the process in the
// foreground with its stdio streamed, forwards signals, and destroys the container
// afterwards, so that no definition, mount, cgroup or process is left, also when the process
// is killed. Backend.Cleanup removes what a killed runner left behind, by name.
//
// The only implementation on real hosts is pkg/container/lxc, the only package that
// imports go-lxc. RenderLXCConfig, the pure translation of a Spec into LXC configuration
// text, lives here so that it can be tested without root or liblxc. The containertest
// package has a fake Backend for the tests of packages that run containers.
package container
