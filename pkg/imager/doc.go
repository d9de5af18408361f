// Package imager is vimage's pipeline: it builds an OS image (a "stack") from a base tarball and
// a provisioning script, and opens a shell in the same environment for debugging.
//
// # Build
//
//  1. The base tarball (base_image_url: http(s)://, file:// or a path; .tar.gz, .tgz, .tar.bz2
//     or .tar.xz) is fetched into the cache Root/images/<base_image_name>/<file name>, checked
//     against base_image_md5 when given (a cached file that does not match is fetched again).
//  2. The provisioning script (script_url) is fetched next to the work tree.
//  3. The base is unpacked fresh into a work directory: device nodes are allowed (OS images
//     have them), paths escaping the tree are not.
//  4. The script runs in an LXC container whose writable root is that tree, as root, sharing
//     the host's network, with the environment of Environ (PATH, HOME=/root, the caller's
//     TERM, then the spec's env on top). The host's /etc/resolv.conf is bind-mounted read-only
//     over the image's, and the script is bind-mounted read-only at ScriptDir/<name> (on the
//     container's /dev tmpfs), so neither ends up in the image: the image's own resolv.conf
//     (a file, a symlink, or nothing) is exactly as it was afterwards. Everything the script
//     prints goes to the terminal and to <new_image_name>.log.
//  5. The tree is packed into <new_image_name>.tar.gz, and <new_image_name>.yaml records the
//     spec with the checksums of the base, the script and the output (schema.ImageResult).
//
// Outputs are written atomically in the output directory. When the script fails (non-zero
// exit) the error is a *ScriptError, the log is kept and no tarball or record is written.
//
// # Determinism
//
// The tarball's bytes depend only on the tree: entries are sorted, owners are the tree's own
// numeric ones, and modification times are clamped to the newest time found in the unpacked
// base (a "source date"), so files the script did not touch keep their times and every file
// it wrote gets that time. Two builds of the same base with a script that writes the same
// files produce the same bytes.
//
// # Locking and leftovers
//
// The container of a build of image N is named "vimage-build-N" ("vimage-shell-N" for a
// shell) and its work tree is WorkDir/vr-vimage/<container name>. Both are guarded by an flock
// on WorkDir/vr-vimage/<container name>.lock, so a second vimage for the same image waits, and
// whatever a killed vimage left behind (a running container, a work tree) is removed before
// the next one starts.
//
// # Fixed on purpose (the original's bugs)
//
// The original computed the environment and never passed it to the script; left the script at
// the image's root (its removal condition was inverted); replaced a symlinked resolv.conf with
// an empty file for good; accepted only .gz/.bz2/.xz names and downloaded base_image_url even
// when it was a local path; and crashed at the end of `vimage shell`. None of that happens here.
package imager
