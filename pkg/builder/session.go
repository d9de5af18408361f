package builder

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/vr-paas/vr/pkg/buildpack"
	"github.com/vr-paas/vr/pkg/container"
	"github.com/vr-paas/vr/pkg/fetch"
	"github.com/vr-paas/vr/pkg/flock"
	"github.com/vr-paas/vr/pkg/image"
	"github.com/vr-paas/vr/pkg/schema"
	"github.com/vr-paas/vr/pkg/vcs"
)

// Paths inside the build container.
const (
	ctrBuildRoot  = "/build"
	ctrCacheRoot  = "/cache"
	ctrEnvDir     = "/env"
	ctrTmp        = "/tmp"
	ctrBuildpacks = "/tmp/buildpacks"
	ctrHome       = "/app"
)

// HostDirs are the host folders bind-mounted read-only into a build container without an
// image (those that exist), as the original's vrun_precise did.
var HostDirs = []string{"/bin", "/etc", "/lib", "/lib64", "/usr", "/opt"}

// vcsDirs are left out of the app's copy and of the tarball (at the app's root), with the
// original's build droppings.
var vcsDirs = map[string]bool{
	".git": true, ".hg": true, ".svn": true, ".bzr": true, ".hg_archival.txt": true,
	".compile.log": true, ".release.yaml": true, ".buildpack": true, ".lxcdebug.log": true, ".postbuild.flag": true,
}

// preparedBuildpack is one buildpack of the job, checked out and copied.
type preparedBuildpack struct {
	url     string // as in the job (normalized), fragment included
	base    string // without fragment
	rev     vcs.Revision
	hostDir string
	bp      buildpack.Buildpack // as the container sees it
}

// session is the set-up shared by Build and Shell: locks, checkouts, the private copies,
// the cache and the running container.
type session struct {
	opts    Options
	job     *schema.BuildJob
	p       paths
	sum     *Summary
	lock    *flock.Lock
	work    string
	root    *os.Root // the container's root filesystem (image contents, or the host's /)
	image   string   // unpacked image contents ("" without image)
	user    buildUser
	appURL  string
	appRev  vcs.Revision
	bps     []preparedBuildpack
	cache   *cacheSession
	ctr     container.Container
	layout  buildpack.Layout
	hostEnv string // ENV_DIR on the host
	lim     container.Limits
}

// rootDescription says what the container's root filesystem is.
func (s *session) rootDescription() string {
	if s.image != "" {
		return "image " + s.job.ImageName
	}
	return "the host's " + strings.Join(HostDirs, " ") + " read-only"
}

// describeLimits is the limits part of the "Container:" step line.
func describeLimits(l container.Limits, o Options) string {
	size := func(n int64) string {
		if n <= 0 {
			return "none"
		}
		return schema.FormatSize(n)
	}
	num := func(n int64) string {
		if n <= 0 {
			return "none"
		}
		return strconv.FormatInt(n, 10)
	}
	timeout := "none"
	if o.Timeout > 0 {
		timeout = o.Timeout.String()
	}
	s := fmt.Sprintf("memory %s, pids %s, cpu shares %s, timeout %s, network %s", size(l.Memory), num(l.Pids), num(l.CPUShares), timeout, o.Network)
	if l.MemorySwap > 0 {
		s += ", memory+swap " + size(l.MemorySwap)
	}
	return s
}

func (s *session) say(format string, args ...any) {
	fmt.Fprintf(s.opts.Log, "-----> "+format+"\n", args...)
}

func (s *session) buildDirHost() string { return filepath.Join(s.work, "build", s.p.app) }

// prepare does everything up to a running build container.
func prepare(ctx context.Context, job *schema.BuildJob, opts Options) (s *session, err error) {
	opts, err = opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := job.Validate(); err != nil {
		return nil, err
	}
	kind, err := vcs.ParseKind(job.AppRepoType)
	if err != nil {
		return nil, &schema.Error{Key: "app_repo_type", Msg: err.Error()}
	}
	appURL, err := vcs.Normalize(job.AppRepoURL)
	if err != nil {
		return nil, err
	}
	s = &session{
		opts: opts, job: job, appURL: appURL,
		p:   newPaths(opts.Root, job.AppName, appURL),
		sum: &Summary{AppName: job.AppName, Version: job.Version, Image: job.ImageName, Buildpacks: []BuildpackSummary{}},
	}
	defer func() {
		if err != nil {
			s.close(context.WithoutCancel(ctx))
		}
	}()
	host, _ := os.Hostname()
	s.say("Building %s (version %s) on %s", job.AppName, job.Version, host)

	// One build of an app at a time; what a killed one left goes first.
	t := time.Now()
	s.lock, err = acquire(ctx, s.p.lock(s.p.cache()), "another build of "+job.AppName, opts.LockTimeout, s.say)
	if err != nil {
		return s, err
	}
	s.work = s.p.work()
	if err := opts.Backend.Cleanup(ctx, containerName(s.p.app)); err != nil {
		return s, fmt.Errorf("remove the container of an earlier build: %w", err)
	}
	if err := removeTree(s.work); err != nil {
		return s, fmt.Errorf("remove the files of an earlier build: %w", err)
	}
	s.sum.time("lock", t)

	// The container's root filesystem: the image, or the host's folders.
	t = time.Now()
	rootDir := "/"
	if job.ImageURL != "" {
		store := image.Store{Dir: filepath.Join(opts.Root, "images"), Client: opts.HTTPClient, Progress: prefixed(opts.Log)}
		s.image, err = store.Ensure(ctx, image.Image{Name: job.ImageName, URL: job.ImageURL, MD5: job.ImageMD5})
		if err != nil {
			return s, err
		}
		rootDir = s.image
	}
	if s.root, err = os.OpenRoot(rootDir); err != nil {
		return s, fmt.Errorf("open the container's root filesystem: %w", err)
	}
	s.sum.time("image", t)
	if s.user, err = resolveUser(opts.User, s.root); err != nil {
		return s, err
	}
	s.sum.User = s.user.Name
	s.lim = s.limits()
	s.say("Container: %s; user %s (%d:%d); %s", s.rootDescription(), s.user.Name, s.user.UID, s.user.GID, describeLimits(s.lim, opts))

	if err := s.makeWorkDirs(); err != nil {
		return s, err
	}

	// The app: update the cached checkout, copy it.
	t = time.Now()
	rev := job.Version
	if job.AppRevision != "" {
		rev = job.AppRevision
	}
	if err := s.checkoutApp(ctx, kind, rev); err != nil {
		return s, err
	}
	s.sum.time("checkout", t)

	// The buildpacks.
	t = time.Now()
	if err := s.checkoutBuildpacks(ctx); err != nil {
		return s, err
	}
	s.sum.time("buildpacks", t)

	// .slugignore, ENV_DIR, the cache.
	if err := s.applySlugignore(); err != nil {
		return s, err
	}
	s.hostEnv = filepath.Join(s.work, "env")
	if err := buildpack.WriteEnvDir(s.hostEnv, job.Env); err != nil {
		return s, err
	}
	t = time.Now()
	store := &cacheStore{dir: s.p.cache(), log: prefixed(opts.Log)}
	if s.cache, err = store.restore(filepath.Join(s.work, "cache"), s.user.UID, s.user.GID); err != nil {
		return s, err
	}
	s.sum.time("cache_restore", t)

	// The container.
	t = time.Now()
	spec, err := s.containerSpec()
	if err != nil {
		return s, err
	}
	if s.ctr, err = opts.Backend.Start(ctx, spec); err != nil {
		return s, fmt.Errorf("start the build container: %w", err)
	}
	s.sum.time("container_start", t)
	s.layout = s.makeLayout()
	return s, nil
}

// makeWorkDirs creates the build's private folders (see the package comment).
func (s *session) makeWorkDirs() error {
	u := s.user
	dirs := []struct {
		rel      string
		mode     fs.FileMode
		uid, gid int
	}{
		{".", 0o755, 0, 0},
		{"build", 0o755, 0, 0},
		{"tmp", 0o1777, 0, 0},
		{"tmp/app", 0o755, u.UID, u.GID},
		{"tmp/app/vendor", 0o755, u.UID, u.GID},
		{"tmp/buildpacks", 0o755, 0, 0},
		{"cache", 0o755, 0, 0},
		{"rootfs", 0o755, 0, 0},
		{"ovl", 0o700, 0, 0},
	}
	for _, d := range dirs {
		p := filepath.Join(s.work, d.rel)
		if err := os.MkdirAll(p, 0o700); err != nil {
			return fmt.Errorf("build folders: %w", err)
		}
		if err := os.Chmod(p, d.mode); err != nil {
			return fmt.Errorf("build folders: %w", err)
		}
		if err := os.Lchown(p, d.uid, d.gid); err != nil {
			return fmt.Errorf("build folders: %w", err)
		}
	}
	return nil
}

// skipVCS leaves out VCS metadata and build droppings at the root of a tree.
func skipVCS(rel string, _ fs.DirEntry) bool { return !strings.Contains(rel, "/") && vcsDirs[rel] }

func (s *session) checkoutApp(ctx context.Context, kind vcs.Kind, rev string) error {
	base, _ := vcs.SplitFragment(s.appURL)
	dir := s.p.repo(s.appURL)
	s.say("Checking out %s at %s", fetch.Redact(base), rev)
	lock, err := acquire(ctx, s.p.lock(base), "another checkout of "+base, s.opts.LockTimeout, s.say)
	if err != nil {
		return err
	}
	defer lock.Unlock()
	s.appRev, err = vcs.Update(ctx, kind, s.appURL, dir, rev, vcs.Options{Progress: s.opts.Progress})
	if err != nil {
		return err
	}
	s.sum.AppRevision = s.appRev.ID
	s.say("App revision %s (%s)", s.appRev.ID, s.appRev.Time.Format(time.RFC3339))
	err = copyTree(dir, s.buildDirHost(), copyOptions{skip: skipVCS, uid: s.user.UID, gid: s.user.GID, mtime: s.appRev.Time})
	if err != nil {
		return fmt.Errorf("copy the app: %w", err)
	}
	return nil
}

// buildpackURLs returns the job's buildpacks: buildpack_url alone when set.
func (s *session) buildpackURLs() []string {
	if s.job.BuildpackURL != "" {
		return []string{s.job.BuildpackURL}
	}
	return s.job.BuildpackURLs
}

func (s *session) checkoutBuildpacks(ctx context.Context) error {
	seen := map[string]int{}
	for _, raw := range s.buildpackURLs() {
		url, err := vcs.Normalize(raw)
		if err != nil {
			return err
		}
		base, frag := vcs.SplitFragment(url)
		dir := s.p.buildpack(url)
		kind, ok := vcs.Detect(dir)
		if !ok {
			if kind, err = vcs.Guess(ctx, url, s.opts.HTTPClient); err != nil {
				return fmt.Errorf("buildpack %s: %w", base, err)
			}
		}
		at := "its default branch"
		if frag != "" {
			at = frag
		}
		s.say("Fetching buildpack %s at %s", fetch.Redact(base), at)
		name := vcs.FolderName(url)
		if n := seen[name]; n > 0 {
			name += "-" + strconv.Itoa(n)
		}
		seen[vcs.FolderName(url)]++
		pb := preparedBuildpack{url: url, base: base, hostDir: filepath.Join(s.work, "tmp", "buildpacks", name)}
		pb.bp = buildpack.Buildpack{URL: base, Dir: path.Join(ctrBuildpacks, name)}
		err = func() error {
			lock, err := acquire(ctx, s.p.lock(base), "another checkout of "+base, s.opts.LockTimeout, s.say)
			if err != nil {
				return err
			}
			defer lock.Unlock()
			pb.rev, err = vcs.Update(ctx, kind, url, dir, "", vcs.Options{Progress: s.opts.Progress})
			if err != nil {
				return fmt.Errorf("buildpack %s: %w", base, err)
			}
			return copyTree(dir, pb.hostDir, copyOptions{skip: skipVCS, uid: s.user.UID, gid: s.user.GID})
		}()
		if err != nil {
			return err
		}
		if fi, err := os.Stat(filepath.Join(pb.hostDir, "bin", "compile")); err != nil || fi.Mode()&0o111 == 0 {
			return fmt.Errorf("buildpack %s at %s has no executable bin/compile", base, pb.rev.ID)
		}
		s.bps = append(s.bps, pb)
		s.sum.Buildpacks = append(s.sum.Buildpacks, BuildpackSummary{URL: fetch.Redact(base), Revision: pb.rev.ID})
	}
	return nil
}

func (s *session) applySlugignore() error {
	si, err := buildpack.ReadSlugignore(s.buildDirHost())
	if err != nil {
		return err
	}
	for _, w := range si.Warnings {
		s.say("Warning: %s", w)
	}
	removed, err := si.Apply(s.buildDirHost())
	if err != nil {
		return err
	}
	if len(removed) > 0 {
		s.say("Removed %s matched by .slugignore: %s", plural(len(removed), "entry"), clipList(removed, 10))
	}
	return nil
}

func clipList(l []string, n int) string {
	if len(l) <= n {
		return strings.Join(l, ", ")
	}
	return strings.Join(l[:n], ", ") + fmt.Sprintf(", and %d more", len(l)-n)
}

// containerSpec describes the build container.
func (s *session) containerSpec() (container.Spec, error) {
	name := containerName(s.p.app)
	hostname := name
	if len(hostname) > 63 {
		hostname = strings.TrimRight(hostname[:63], "-.")
	}
	spec := container.Spec{
		Name:        name,
		Hostname:    hostname,
		Process:     container.Process{Argv: []string{"/bin/sh"}}, // the holder runs; programs are attached
		Limits:      s.limits(),
		Network:     s.opts.Network,
		StopTimeout: s.opts.StopTimeout,
		// The host's setuid binaries (su, sudo, mount) are visible on the host layout; they
		// must not give the buildpack back the privileges the container took away.
		NoNewPrivs: true,
	}
	if s.image != "" {
		spec.Rootfs.Overlay = &container.Overlay{Lower: s.image, Upper: filepath.Join(s.work, "ovl", "upper")}
	} else {
		spec.Rootfs.Dir = filepath.Join(s.work, "rootfs")
		for _, d := range HostDirs {
			if _, err := os.Stat(d); err == nil {
				spec.Mounts = append(spec.Mounts, container.Mount{Source: d, Target: d, ReadOnly: true})
			}
		}
	}
	spec.Mounts = append(spec.Mounts,
		container.Mount{Source: filepath.Join(s.work, "build"), Target: ctrBuildRoot},
		container.Mount{Source: filepath.Join(s.work, "cache"), Target: ctrCacheRoot},
		container.Mount{Source: s.hostEnv, Target: ctrEnvDir, ReadOnly: true},
		container.Mount{Source: filepath.Join(s.work, "tmp"), Target: ctrTmp},
		container.Mount{Source: filepath.Join(s.work, "tmp", "app"), Target: ctrHome},
	)
	if s.image != "" {
		if fi, err := os.Stat("/etc/resolv.conf"); err == nil && fi.Mode().IsRegular() {
			spec.Mounts = append(spec.Mounts, container.Mount{Source: "/etc/resolv.conf", Target: "/etc/resolv.conf", ReadOnly: true, File: true})
		}
	}
	if err := spec.Validate(); err != nil {
		return spec, err
	}
	return spec, nil
}

// hostInfo is implemented by backends that know which cgroup controllers the host has.
type hostInfo interface{ HostInfo() container.HostInfo }

// limits returns the container's limits, leaving out a default one whose controller the
// host lacks (an explicitly asked one is kept, and the backend refuses it).
func (s *session) limits() container.Limits {
	l := s.opts.Limits
	hi, ok := s.opts.Backend.(hostInfo)
	if !ok {
		return l
	}
	h := hi.HostInfo()
	if !h.CPU && l.CPUShares == DefaultCPUShares {
		s.say("Warning: no cpu cgroup controller; building without a CPU weight")
		l.CPUShares = 0
	}
	if !h.Pids && l.Pids == DefaultPids {
		s.say("Warning: no pids cgroup controller; building without a process limit")
		l.Pids = 0
	}
	if !h.Memory && l.Memory == DefaultMemory {
		s.say("Warning: no memory cgroup controller; building without a memory limit")
		l.Memory = 0
	}
	return l
}

// makeLayout is the build as the buildpack sees it, and its environment.
func (s *session) makeLayout() buildpack.Layout {
	env := []string{
		"PATH=" + container.DefaultPath,
		"HOME=" + ctrHome,
		"TMPDIR=" + ctrTmp,
		"LANG=C.UTF-8",
		"USER=" + s.user.Name,
		"SOURCE_DATE_EPOCH=" + strconv.FormatInt(s.appRev.Time.Unix(), 10),
	}
	if s.job.ImageName != "" {
		env = append(env, "STACK="+s.job.ImageName)
	}
	// The original's variables, for scripts that read them.
	if s.job.BuildpackURL != "" {
		env = append(env, "BUILDPACK_DIR="+s.bps[0].bp.Dir)
	} else {
		dirs := make([]string, len(s.bps))
		for i, b := range s.bps {
			dirs[i] = b.bp.Dir
		}
		env = append(env, "BUILDPACK_DIRS="+strings.Join(dirs, ":"))
	}
	return buildpack.Layout{
		BuildDir: path.Join(ctrBuildRoot, s.p.app),
		CacheDir: path.Join(ctrCacheRoot, cacheBuildpackDir),
		EnvDir:   ctrEnvDir,
		Env:      env,
	}
}

func (s *session) executor() buildpack.Executor {
	return containerExecutor{c: s.ctr, uid: s.user.UID, gid: s.user.GID}
}

// destroyContainer stops and removes the build container (idempotent).
func (s *session) destroyContainer(ctx context.Context) error {
	if s.ctr == nil {
		return nil
	}
	err := s.ctr.Destroy(ctx)
	s.ctr = nil
	return err
}

// close releases everything: the container, the cache (discarded unless committed), the
// private folders and the lock.
func (s *session) close(ctx context.Context) {
	var errs []error
	errs = append(errs, s.destroyContainer(ctx))
	if s.cache != nil {
		errs = append(errs, s.cache.discard())
	}
	if s.work != "" && s.lock != nil {
		errs = append(errs, removeTree(s.work))
	}
	if s.root != nil {
		_ = s.root.Close()
	}
	s.lock.Unlock()
	if err := errors.Join(errs...); err != nil {
		s.say("Warning: clean-up: %v", err)
	}
}

// acquire takes the lock at path, saying what it waits for when another process holds it,
// and gives up after timeout.
func acquire(ctx context.Context, path, what string, timeout time.Duration, say func(string, ...any)) (*flock.Lock, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	if f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644); err == nil {
		_ = f.Close()
	}
	l, err := flock.TryLock(path)
	if err == nil {
		return l, nil
	}
	if !errors.Is(err, flock.ErrLocked) {
		return nil, err
	}
	say("Waiting for %s to finish (lock %s, at most %s)", what, path, timeout)
	lctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	l, err = flock.Acquire(lctx, path)
	if err != nil {
		if ctx.Err() == nil && lctx.Err() != nil {
			return nil, fmt.Errorf("%s still holds lock %s after %s; try again later (or raise --lock-timeout)", what, path, timeout)
		}
		return nil, err
	}
	return l, nil
}

// prefixed returns a writer that indents what it gets under the step lines.
func prefixed(w io.Writer) io.Writer { return &indentWriter{w: w, bol: true} }

type indentWriter struct {
	w   io.Writer
	bol bool
}

func (iw *indentWriter) Write(p []byte) (int, error) {
	var b []byte
	for _, c := range p {
		if iw.bol {
			b = append(b, "       "...)
			iw.bol = false
		}
		b = append(b, c)
		if c == '\n' {
			iw.bol = true
		}
	}
	if _, err := iw.w.Write(b); err != nil {
		return 0, err
	}
	return len(p), nil
}
