// Package builder is vbuild's pipeline: it builds an app with Heroku buildpacks in a
// throwaway container and writes build.tar.gz, build_result.yaml and compile.log ([Build]),
// opens a shell in the same build environment ([Shell]), and removes an app's build cache
// ([PurgeCache]).
//
// # Steps of a build
//
//  1. Lock: one build of an app at a time, by an flock on Root/builder/locks/<md5 of the
//     cache folder> (the original's lock names); a second build waits, saying so, for at
//     most Options.LockTimeout. What a killed build of the app left (its container, its
//     overlay mount, its private folder) is removed first.
//  2. Image: with image_url, the OS image is fetched and unpacked once per image_name under
//     Root/images (pkg/image; replaced when image_md5 changes). The build user (Options.User,
//     default nobody) is looked up in that image's /etc/passwd, or the host's.
//  3. App: the cached checkout Root/builder/repo/<basename>-<md5 of URL> is updated (pkg/vcs)
//     to app_revision when the job has one (a build_result.yaml), else to version, and copied
//     without VCS metadata into the private folder Root/builder/work/<app>-<md5>/build/,
//     owned by the build user, every file dated with the revision's commit time (so the
//     tarball does not depend on when the checkout happened).
//  4. Buildpacks: buildpack_url alone (detect is not run), else each of buildpack_urls, is
//     checked out under Root/builder/buildpacks (the URL's #fragment pins a revision) and
//     copied, writable by the build user, into the private /tmp/buildpacks/<name>.
//  5. .slugignore is applied to the app's copy, before compile, as Heroku does.
//  6. ENV_DIR gets one file per variable of the job's env; the build cache is mounted
//     (see cache.go: an overlay of read-only layers, nothing copied).
//  7. Container: a new container (pkg/container) whose root is an overlay over the image,
//     or an empty folder with the host's /bin /etc /lib /lib64 /usr /opt bind-mounted
//     read-only. Mounted in it: /build (the app at /build/<app>-<md5>), /cache (CACHE_DIR is
//     /cache/buildpack_cache), /env (ENV_DIR, read-only), /tmp (private; holds the
//     buildpacks) and /app (HOME, empty, private). Nothing else of the host is visible; the
//     build user can write only the app, CACHE_DIR and the private /tmp and /app. Limits
//     (Options.Limits): memory 2 GiB, 1024 processes, CPU weight 512, and Options.Timeout
//     (30 min) for detect, compile and release together. The host's network is shared
//     (buildpacks download), unless Options.Network says none.
//  8. In it, as the build user with the build dir as working directory: each bin/detect
//     in order until one exits 0, then bin/compile BUILD_DIR CACHE_DIR ENV_DIR (its output
//     streamed to Options.Log and to compile.log), then bin/release (YAML → release_data).
//     Environment: PATH, HOME=/app, TMPDIR=/tmp, LANG=C.UTF-8, USER, SOURCE_DATE_EPOCH (the
//     app revision's commit time), STACK (image_name, with an image), and the original's
//     BUILDPACK_DIR or BUILDPACK_DIRS. The job's env reaches the buildpack only through
//     ENV_DIR, as on Heroku.
//  9. On success only: the container goes, the cache changes are kept (atomically), the
//     app is packed into build.tar.gz (pkg/fetch: sorted entries, owner the build user,
//     times clamped to the commit time, VCS metadata and the original's droppings left out)
//     and build_result.yaml records the job with buildpack_url = <url>#<full revision>,
//     buildpack_version, build_md5, release_data and app_revision. Fed back to Build, it
//     checks out the same revisions and gives a byte-identical build.tar.gz (given a
//     deterministic buildpack).
//
// On failure compile.log is still written (when compile ran), nothing else is, and the
// cache is left as it was. The private folder is removed either way.
package builder
