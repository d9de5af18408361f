// Package runner sets up, runs, tests and tears down one proc on this host: the runner
// contract of Velociraptor (setup, run, uptest, teardown, shell over a proc.yaml), shared by
// the two runner binaries. They differ only in the root filesystem of the proc's container:
//
//   - Image (vruntime): the OS image named by image_url/image_name/image_md5, unpacked once
//     per host under $VR_ROOT/images (pkg/image) and shared read-only by every proc, under an
//     overlay whose upper dir is the proc's rootfs/ (overlay work dir: work/).
//   - Precise (vruntime-precise): the proc's rootfs/ is a plain directory, and the host's
//     /bin /sbin /etc /lib /lib64 /opt /usr are bind-mounted into it read-only.
//
// # On-disk layout
//
//	$VR_ROOT/builds/<basename of build_url>     build tarballs, shared (kept by teardown)
//	$VR_ROOT/images/<image_name>/               image tarball + contents/, shared (kept)
//	$VR_ROOT/lxc/<container>/                   LXC definitions, only while a container exists
//	$VR_ROOT/procs/<proc name>/
//	    proc.yaml        usually here (written by whoever deploys the proc), any path works
//	    proc.conf        Supervisor program section (pkg/supervisor, written by the deployer)
//	    log              the proc's stdout and stderr (Supervisor)
//	    container.json   what setup decided (variant, image, user, limits, mounts); run reads it
//	    proc.lxc         the LXC configuration of the proc's container, for reference
//	    .lock            held by setup, run and teardown (with proc.yaml itself)
//	    rootfs/          overlay upper dir (vruntime) or root dir (vruntime-precise), holding
//	        app/             the unpacked build, owned by user:group
//	        proc.sh          POSIX sh: TMPDIR, HOME=/app, .profile.d, env.sh, APP_SETTINGS_YAML, PORT
//	        env.sh           export NAME='value' per env item
//	        settings.yaml    the settings
//	    work/            overlay work dir (vruntime)
//	    tmp/<container>/ root of a shell or uptest container while it exists
//
// # Commands
//
// Setup takes the locks, ensures the image and the build tarball (downloaded once, again when
// its MD5 no longer matches, refused when the download does not match), unpacks the build
// into a staging directory owned by user:group, resolves the command (cmd, else the Procfile
// entry proc_name), writes the files above, and swaps the new app in. It can be repeated; if
// it fails, it removes what it made (the whole proc folder when it created it).
//
// Run takes the locks and runs "proc.sh run" as user:group in the proc's container, in the
// foreground, on the host's network, with the memory limits, passing stdio through and
// returning the exit code. When its context is cancelled (SIGTERM or SIGINT) the proc gets
// SIGTERM, then SIGKILL after StopTimeout; other signals given to it are forwarded. The
// container is destroyed afterwards, and remains of a runner that was killed are removed
// before a new run.
//
// Uptest runs every uptest of /app/uptests/<proc_name> (pkg/uptest) in a new container
// identical to the proc's (its own writable layer, /app read-only), not in the proc's own.
// Shell does the same with an interactive shell (/app writable). Neither takes the locks.
//
// Teardown takes the locks, destroys the proc's containers (the proc's own, and any shell or
// uptest containers), and removes the proc folder; builds and images stay.
package runner
