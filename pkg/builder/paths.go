package builder

import (
	"crypto/md5" //nolint:gosec // the original's lock and folder names, not a security check
	"encoding/hex"
	"path/filepath"
	"strings"

	"github.com/vr-paas/vr/pkg/vcs"
)

// paths are the places of one app's build under Root/builder, the original's layout
// (repo/, buildpacks/, cache/, locks/) plus work/ for the build's private files.
type paths struct {
	root string // Root/builder
	app  string // "<app_name>-<md5 of the app URL without fragment>"
}

func newPaths(root, appName, appURL string) paths {
	return paths{root: filepath.Join(root, "builder"), app: appName + "-" + vcs.URLHash(appURL)}
}

func (p paths) repo(url string) string { return filepath.Join(p.root, "repo", vcs.FolderName(url)) }
func (p paths) buildpack(url string) string {
	return filepath.Join(p.root, "buildpacks", vcs.FolderName(url))
}
func (p paths) cache() string { return filepath.Join(p.root, "cache", p.app) }
func (p paths) work() string  { return filepath.Join(p.root, "work", p.app) }

// lock is the lock file of a target (a URL without fragment, or the cache folder), named
// after its MD5 as the original's.
func (p paths) lock(target string) string {
	sum := md5.Sum([]byte(target)) //nolint:gosec // see import
	return filepath.Join(p.root, "locks", hex.EncodeToString(sum[:]))
}

// containerName is the name of the app's build container. Builds of one app are serialised,
// so one name per app is enough; a killed build's container is found by it.
func containerName(app string) string {
	name := "vbuild-" + app
	if len(name) > 180 {
		name = name[:180]
	}
	return strings.TrimRight(name, "-.")
}
