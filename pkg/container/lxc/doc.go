// Package lxc is the container.Backend that runs containers with LXC through go-lxc. It is
// the only package of vr that imports go-lxc (and so needs cgo and liblxc); built without
// cgo or off Linux, New returns container.ErrUnsupported.
//
// # How a container runs
//
// liblxc refuses to start a container in the foreground of a multi-threaded process, which
// every Go program is ("Cannot start non-daemonized container when threaded"). So a
// container is started daemonized with a holder init (lxc-init running "busybox sleep",
// static host binaries bind-mounted read-only on the container's /dev tmpfs, see
// container.RenderLXCConfig), and the process is attached to it with RunCommandNoWait. The
// attached process is a child of the caller: it is waited for with wait4 and signalled
// directly. Its stdio always goes through pipes or a pty owned by this package, because
// liblxc's attach chowns and chmods the stdio it is given (so a terminal or log file handed
// over directly would change owner).
//
// # What is left afterwards
//
// Destroy (and Run, which calls it) stops the container, waits for its LXC monitor to exit,
// removes its cgroups and its definition directory in the lxcpath. The overlay root and
// the bind mounts exist only in the container's mount namespace, so they vanish with it.
// The cgroup directories have fixed names (container.CgroupDirs), so Cleanup can find and
// remove everything by name after the runner was killed.
//
// liblxc moves the process that starts a daemonized container into the container's monitor
// cgroup (it records the caller as the "transient" process). A long-lived caller would then
// sit in another container's cgroup and keep it from being removed, so Start moves the
// calling process back to its own cgroups right after liblxc returns.
package lxc
