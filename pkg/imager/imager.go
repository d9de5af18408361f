package imager

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/vr-paas/vr/pkg/container"
	"github.com/vr-paas/vr/pkg/fetch"
	"github.com/vr-paas/vr/pkg/flock"
	"github.com/vr-paas/vr/pkg/schema"
)

// ScriptDir is where, inside the container, the provisioning script is bind-mounted
// read-only. It is on the /dev tmpfs LXC creates, so nothing is written into the image for it.
const ScriptDir = "/dev/.vimage"

// Options configure Build and Shell.
type Options struct {
	// Backend runs the container (pkg/container/lxc on real hosts). Required.
	Backend container.Backend

	// Root is vr's root directory (VR_ROOT); base tarballs are cached in
	// Root/images/<base_image_name>/. Required.
	Root string

	// OutDir is where Build writes <new_image_name>.tar.gz, .log and .yaml; "" means the
	// current directory.
	OutDir string

	// WorkDir is where the base is unpacked, in WorkDir/vr-vimage/; "" means os.TempDir()
	// ($TMPDIR or /tmp). It needs room for the unpacked image.
	WorkDir string

	// In is the shell's standard input (Shell only); nil means none.
	In io.Reader
	// Out and Err receive the script's (or shell's) stdout and stderr; progress lines go to
	// Err. nil discards.
	Out, Err io.Writer
	// TTY runs the shell on a pseudo-terminal (set it when In is a terminal). Shell only.
	TTY bool
	// Term is the caller's TERM, passed on to the container when not empty.
	Term string

	// ResolvConf is the host file bind-mounted over the image's /etc/resolv.conf; "" means
	// /etc/resolv.conf. When it does not exist the image keeps its own.
	ResolvConf string

	// Client fetches http(s) URLs; nil means fetch's default.
	Client *http.Client
}

// Timings are the durations of a build's stages.
type Timings struct {
	Fetch  time.Duration // base tarball and script (a cached base costs one hash)
	Unpack time.Duration // base tarball into the work tree
	Run    time.Duration // the provisioning script, container start and teardown included
	Pack   time.Duration // work tree into <new_image_name>.tar.gz
	Total  time.Duration
}

// Result describes a finished build.
type Result struct {
	Image   string              // path of <new_image_name>.tar.gz
	Log     string              // path of <new_image_name>.log
	Record  string              // path of <new_image_name>.yaml
	Info    *schema.ImageResult // what Record holds
	Timings Timings
}

// ScriptError reports a provisioning script that exited with a non-zero status.
type ScriptError struct {
	Script   string // script_url
	ExitCode int
	Log      string // path of the log, kept
}

func (e *ScriptError) Error() string {
	return fmt.Sprintf("provisioning script %s exited with status %d (output in %s)", e.Script, e.ExitCode, e.Log)
}

// DefaultPath is the PATH the script gets unless the spec's env sets one (the original's).
const DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/usr/games"

// Environ returns the provisioning environment, sorted: PATH=DefaultPath, HOME=/root, TERM=term
// when term is not empty, and then env, whose keys win.
func Environ(env map[string]string, term string) []string {
	m := map[string]string{"PATH": DefaultPath, "HOME": "/root"}
	if term != "" {
		m["TERM"] = term
	}
	for k, v := range env {
		m[k] = v
	}
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	sortStrings(out)
	return out
}

// ContainerName returns the name of the container (and work tree) of kind ("build" or
// "shell") for the image named image: "vimage-<kind>-<image>", with characters LXC does not
// accept replaced by "_".
func ContainerName(kind, image string) string {
	n := "vimage-" + kind + "-" + badNameChars.ReplaceAllString(image, "_")
	if len(n) > container.MaxNameLen {
		n = n[:container.MaxNameLen]
	}
	return n
}

var badNameChars = regexp.MustCompile(`[^A-Za-z0-9_.-]`)

// Build builds the image spec describes (see the package documentation) and writes its
// outputs to opts.OutDir.
func Build(ctx context.Context, spec *schema.ImageSpec, opts Options) (*Result, error) {
	start := time.Now()
	if spec == nil {
		return nil, errors.New("no image spec")
	}
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	out := opts.OutDir
	if out == "" {
		out = "."
	}
	res := &Result{
		Image:  filepath.Join(out, spec.NewImageName+".tar.gz"),
		Log:    filepath.Join(out, spec.NewImageName+".log"),
		Record: filepath.Join(out, spec.NewImageName+".yaml"),
	}
	// The log is created first, so that an output directory that cannot be written to fails
	// the build before anything is fetched; it is renamed into place once the script ran.
	logTmp, err := os.CreateTemp(out, "."+spec.NewImageName+".log.tmp-*")
	if err != nil {
		return nil, fmt.Errorf("create log: %w", err)
	}
	log := &teeLog{f: logTmp}
	w, err := open(ctx, spec, opts, "build")
	if err != nil {
		log.discard()
		return nil, err
	}
	defer w.close()

	// Run the script, its output teed into the log.
	w.progressf("running %s in container %s (log: %s)\n", spec.ScriptURL, w.name, res.Log)
	t := time.Now()
	code, runErr := w.run(ctx, []string{w.scriptTarget}, false, nil,
		log.tee(opts.Out), log.tee(opts.Err))
	w.timings.Run = time.Since(t)
	if err := log.finish(res.Log); err != nil {
		return nil, errors.Join(runErr, err)
	}
	if runErr != nil {
		res.removeStale()
		return nil, fmt.Errorf("run provisioning script: %w", runErr)
	}
	if code != 0 {
		res.removeStale()
		return nil, &ScriptError{Script: spec.ScriptURL, ExitCode: code, Log: res.Log}
	}

	// Pack.
	w.progressf("packing %s\n", res.Image)
	t = time.Now()
	sums, err := fetch.CreateTarGz(ctx, res.Image, w.rootfs, fetch.TarOptions{
		KeepOwners:   true,
		ModTime:      w.sourceDate,
		ClampModTime: true,
	})
	w.timings.Pack = time.Since(t)
	if err != nil {
		res.removeStale()
		return nil, fmt.Errorf("pack image: %w", err)
	}

	info := &schema.ImageResult{
		ImageSpec:       *spec,
		BaseImageSHA256: w.base.SHA256,
		NewImageSHA256:  sums.SHA256,
		ScriptSHA256:    w.script.SHA256,
	}
	info.BaseImageMD5 = w.base.MD5
	info.NewImageMD5 = sums.MD5
	if err := info.WriteFile(res.Record); err != nil {
		return nil, fmt.Errorf("write image record: %w", err)
	}
	res.Info = info
	w.timings.Total = time.Since(start)
	res.Timings = w.timings
	tm := res.Timings
	w.progressf("built %s (md5 %s) in %s: fetch %s, unpack %s, run %s, pack %s\n", res.Image, sums.MD5,
		round(tm.Total), round(tm.Fetch), round(tm.Unpack), round(tm.Run), round(tm.Pack))
	return res, nil
}

// removeStale removes the tarball and record an earlier build of the same image left in the
// output directory, so that a failed build leaves only its log, never an older image that
// could be mistaken for its result.
func (r *Result) removeStale() {
	_ = os.Remove(r.Image)
	_ = os.Remove(r.Record)
}

// Shell runs an interactive shell (bash, else sh) in the environment the script of spec
// would run in, over a freshly unpacked base, without running the script; the script is
// at ScriptDir/<name>. Nothing is kept afterwards. It returns the shell's exit status.
func Shell(ctx context.Context, spec *schema.ImageSpec, opts Options) (int, error) {
	w, err := open(ctx, spec, opts, "shell")
	if err != nil {
		return -1, err
	}
	defer w.close()
	sh, err := findShell(w.rootfs)
	if err != nil {
		return -1, err
	}
	w.progressf("shell in container %s over %s; the provisioning script (not run) is %s; nothing is kept\n",
		w.name, spec.BaseImageName, w.scriptTarget)
	code, err := w.run(ctx, []string{sh}, opts.TTY, opts.In, opts.Out, opts.Err)
	if err != nil {
		return code, fmt.Errorf("shell: %w", err)
	}
	return code, nil
}

func findShell(rootfs string) (string, error) {
	r, err := os.OpenRoot(rootfs)
	if err != nil {
		return "", err
	}
	defer r.Close()
	for _, sh := range []string{"/bin/bash", "/bin/sh"} {
		if fi, err := r.Stat(strings.TrimPrefix(sh, "/")); err == nil && fi.Mode().IsRegular() {
			return sh, nil
		}
	}
	return "", errors.New("the base image has neither /bin/bash nor /bin/sh")
}

// work is one build or shell in progress: its lock, work tree and fetched inputs.
type work struct {
	spec         *schema.ImageSpec
	opts         Options
	name         string // container name
	dir          string // work directory
	rootfs       string // dir/rootfs: the unpacked image
	scriptTarget string // the script's path in the container
	scriptHost   string // the script's path on the host
	base         fetch.Result
	script       fetch.Result
	sourceDate   time.Time // newest modification time in the unpacked base
	timings      Timings
	lock         *flock.Lock
}

// open takes the lock of the container, removes leftovers of an earlier run, fetches the
// inputs and unpacks the base.
func open(ctx context.Context, spec *schema.ImageSpec, opts Options, kind string) (_ *work, err error) {
	if spec == nil {
		return nil, errors.New("no image spec")
	}
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	if opts.Backend == nil {
		return nil, errors.New("no container backend")
	}
	if opts.Root == "" {
		return nil, errors.New("no root directory (VR_ROOT)")
	}
	workRoot := opts.WorkDir
	if workRoot == "" {
		workRoot = os.TempDir()
	}
	workRoot, err = filepath.Abs(filepath.Join(workRoot, "vr-vimage"))
	if err != nil {
		return nil, err
	}
	w := &work{spec: spec, opts: opts, name: ContainerName(kind, spec.NewImageName)}
	w.dir = filepath.Join(workRoot, w.name)
	w.rootfs = filepath.Join(w.dir, "rootfs")
	if err := os.MkdirAll(workRoot, 0o700); err != nil {
		return nil, fmt.Errorf("create work directory: %w", err)
	}
	if err := w.takeLock(ctx, filepath.Join(workRoot, w.name+".lock")); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			w.close()
		}
	}()

	// Leftovers of a killed vimage: its container, then its tree.
	if err := opts.Backend.Cleanup(ctx, w.name); err != nil {
		return nil, fmt.Errorf("remove leftovers of an earlier run: %w", err)
	}
	if err := removeTree(w.dir); err != nil {
		return nil, fmt.Errorf("remove leftovers of an earlier run: %w", err)
	}
	if err := os.Mkdir(w.dir, 0o700); err != nil {
		return nil, fmt.Errorf("create work directory: %w", err)
	}

	t := time.Now()
	cache := filepath.Join(opts.Root, "images", spec.BaseImageName)
	baseFile, err := fileName(spec.BaseImageURL)
	if err != nil {
		return nil, fmt.Errorf("base_image_url %q: %w", spec.BaseImageURL, err)
	}
	w.progressf("ensuring presence of %s\n", spec.BaseImageURL)
	w.base, err = fetch.Fetch(ctx, spec.BaseImageURL, filepath.Join(cache, baseFile),
		fetch.Options{MD5: spec.BaseImageMD5, Client: opts.Client, Progress: opts.Err})
	if err != nil {
		if errors.Is(err, fetch.ErrChecksum) {
			return nil, fmt.Errorf("base image does not match base_image_md5: %w", err)
		}
		return nil, fmt.Errorf("base image: %w", err)
	}

	scriptFile, err := fileName(spec.ScriptURL)
	if err != nil || !safeName.MatchString(scriptFile) {
		scriptFile = "provision"
	}
	w.scriptHost = filepath.Join(w.dir, "script", scriptFile)
	w.scriptTarget = ScriptDir + "/" + scriptFile
	w.script, err = fetch.Fetch(ctx, spec.ScriptURL, w.scriptHost, fetch.Options{Client: opts.Client})
	if err != nil {
		return nil, fmt.Errorf("provisioning script: %w", err)
	}
	if err := os.Chmod(w.scriptHost, 0o755); err != nil {
		return nil, fmt.Errorf("provisioning script: %w", err)
	}
	w.timings.Fetch = time.Since(t)

	w.progressf("unpacking %s\n", w.base.Path)
	t = time.Now()
	if err := fetch.Extract(ctx, w.base.Path, w.rootfs, fetch.ExtractOptions{AllowDevices: true}); err != nil {
		return nil, fmt.Errorf("unpack base image: %w", err)
	}
	w.timings.Unpack = time.Since(t)
	if w.sourceDate, err = newestModTime(w.rootfs); err != nil {
		return nil, fmt.Errorf("unpack base image: %w", err)
	}
	return w, nil
}

var safeName = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.+-]*$`)

// fileName returns the last path element of a URL or local path.
func fileName(raw string) (string, error) {
	p := raw
	if strings.Contains(raw, "://") {
		u, err := url.Parse(raw)
		if err != nil {
			return "", err
		}
		p = u.Path
	}
	name := path.Base(p)
	if name == "" || name == "." || name == "/" || name == ".." || strings.HasSuffix(p, "/") {
		return "", errors.New("does not name a file")
	}
	return name, nil
}

func (w *work) takeLock(ctx context.Context, path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("lock %s: %w", path, err)
	}
	_ = f.Close()
	l, err := flock.TryLock(path)
	if errors.Is(err, flock.ErrLocked) {
		w.progressf("another vimage is using %s; waiting for it (lock %s)\n", w.name, path)
		l, err = flock.Acquire(ctx, path)
	}
	if err != nil {
		return err
	}
	w.lock = l
	return nil
}

// run runs argv in the image's container and returns its exit code.
func (w *work) run(ctx context.Context, argv []string, tty bool, in io.Reader, out, errw io.Writer) (int, error) {
	mounts := []container.Mount{{Source: w.scriptHost, Target: w.scriptTarget, ReadOnly: true, File: true}}
	resolv := w.opts.ResolvConf
	if resolv == "" {
		resolv = "/etc/resolv.conf"
	}
	if _, err := os.Stat(resolv); err == nil {
		restore, err := prepareMountPoint(w.rootfs, "etc/resolv.conf")
		if err != nil {
			return -1, fmt.Errorf("prepare /etc/resolv.conf: %w", err)
		}
		defer func() {
			if err := restore(); err != nil {
				w.progressf("warning: restore /etc/resolv.conf: %v\n", err)
			}
		}()
		mounts = append(mounts, container.Mount{Source: resolv, Target: "/etc/resolv.conf", ReadOnly: true, File: true})
	} else {
		w.progressf("warning: no %s on this host; the image's own resolv.conf is used\n", resolv)
	}
	spec := container.Spec{
		Name:     w.name,
		Hostname: "localhost",
		Rootfs:   container.Rootfs{Dir: w.rootfs},
		Mounts:   mounts,
		Process: container.Process{
			Argv: argv,
			Env:  Environ(w.spec.Env, w.opts.Term),
			Cwd:  "/",
			TTY:  tty,
		},
		Network: container.NetworkHost,
	}
	return w.opts.Backend.Run(ctx, spec, container.Streams{In: in, Out: out, Err: errw})
}

// close removes the work tree and releases the lock.
func (w *work) close() {
	if w.dir != "" {
		if err := removeTree(w.dir); err != nil {
			w.progressf("warning: remove %s: %v\n", w.dir, err)
		}
	}
	w.lock.Unlock()
}

func (w *work) progressf(format string, args ...any) {
	if w.opts.Err != nil {
		fmt.Fprintf(w.opts.Err, format, args...)
	}
}

func round(d time.Duration) time.Duration {
	if d > time.Second {
		return d.Round(10 * time.Millisecond)
	}
	return d.Round(time.Millisecond)
}
