package lxc

// DefaultLXCPath is where container definitions go when Options.LXCPath is empty. It is
// private to vr, so vr's containers never collide with those of lxc-create or LXD.
const DefaultLXCPath = "/var/lib/vr/lxc"

// DefaultInitPaths are the places a static lxc-init is looked for (Debian's lxc package
// installs /usr/sbin/init.lxc.static).
var DefaultInitPaths = []string{"/usr/sbin/init.lxc.static", "/sbin/init.lxc.static", "/usr/local/sbin/init.lxc.static"}

// DefaultBusyboxPaths are the places a static busybox is looked for (Debian's
// busybox-static installs /bin/busybox).
var DefaultBusyboxPaths = []string{"/bin/busybox", "/usr/bin/busybox"}

// Options configures a Backend. The zero value is usable.
type Options struct {
	// LXCPath is the directory holding container definitions (LXC's "lxcpath"); empty
	// means DefaultLXCPath. It is created when missing. Tests use a temporary directory.
	LXCPath string
	// InitPath is the host path of a statically linked lxc-init; empty means the first of
	// DefaultInitPaths that exists.
	InitPath string
	// BusyboxPath is the host path of a statically linked busybox; empty means the first
	// of DefaultBusyboxPaths that exists.
	BusyboxPath string
}
