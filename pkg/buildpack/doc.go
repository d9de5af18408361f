// Package buildpack runs Heroku buildpacks (the classic buildpack API) against an app:
//
//   - bin/detect BUILD_DIR: exit 0 and print a name on stdout to claim the app ([Detect] runs
//     the buildpacks in order and picks the first that claims it);
//   - bin/compile BUILD_DIR CACHE_DIR ENV_DIR: build the app in place, keeping reusable files
//     in CACHE_DIR; ENV_DIR holds one file per configuration variable ([WriteEnvDir]), which
//     the buildpack may read (Heroku's protocol, never implemented by the original);
//   - bin/release BUILD_DIR: print YAML (addons, config_vars, default_process_types) on
//     stdout ([Release], [ParseRelease]).
//
// The programs run through an [Executor], so the same code drives a build container (vbuild's
// pkg/builder adapts a container.Container) or the host ([HostExecutor], for tests and for
// measuring the container's overhead). Paths in a [Layout] and a [Buildpack] are the paths
// the executor sees.
//
// [Slugignore] reads an app's .slugignore with Heroku's semantics (the .gitignore syntax
// without negation), and [Slugignore.Apply] removes what it matches from the build directory
// before compile, as Heroku does.
package buildpack
