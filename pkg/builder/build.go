package builder

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/vr-paas/vr/pkg/buildpack"
	"github.com/vr-paas/vr/pkg/fetch"
	"github.com/vr-paas/vr/pkg/schema"
)

// Output file names, in Options.OutputDir.
const (
	TarballFile    = "build.tar.gz"
	ResultFile     = "build_result.yaml"
	CompileLogFile = "compile.log"
)

// ErrTimedOut is wrapped by the error of a build stopped by Options.Timeout.
var ErrTimedOut = errors.New("build timed out")

// Build builds the app of job and writes build.tar.gz, build_result.yaml and compile.log to
// Options.OutputDir; see the package comment for the steps. The returned Result is never nil:
// its Summary says how far a failed build got.
//
// Errors: a bad job is a *schema.Error; no buildpack detecting the app is a
// *buildpack.NoMatchError; a failed compile or release is a *buildpack.StepError (compile.log
// is still written, build.tar.gz and build_result.yaml are not, the cache is untouched); a
// build stopped by Options.Timeout wraps ErrTimedOut; one stopped by ctx wraps ctx's error.
func Build(ctx context.Context, job *schema.BuildJob, opts Options) (*Result, error) {
	start := time.Now()
	res := &Result{Summary: &Summary{Buildpacks: []BuildpackSummary{}}}
	if job != nil {
		res.Summary.AppName, res.Summary.Version = job.AppName, job.Version
	}
	s, err := prepare(ctx, job, opts)
	if s != nil {
		res.Summary = s.sum
	}
	if err == nil {
		err = s.build(ctx, res)
		s.close(context.WithoutCancel(ctx))
	}
	res.Summary.time("total", start)
	if err != nil {
		res.Summary.Error = err.Error()
		return res, err
	}
	return res, nil
}

func (s *session) build(ctx context.Context, res *Result) error {
	opts := s.opts
	bctx := ctx
	if opts.Timeout > 0 {
		var cancel context.CancelFunc
		bctx, cancel = context.WithTimeoutCause(ctx, opts.Timeout, fmt.Errorf("%w after %s (--timeout)", ErrTimedOut, opts.Timeout))
		defer cancel()
	}
	stopped := func(err error) error {
		if cause := context.Cause(bctx); cause != nil && ctx.Err() == nil && errors.Is(cause, ErrTimedOut) {
			return fmt.Errorf("%w: %w", cause, err)
		}
		return err
	}
	ex := s.executor()

	// Detect, unless buildpack_url names the buildpack.
	chosen := 0
	if s.job.BuildpackURL == "" {
		t := time.Now()
		s.say("Detecting the buildpack (%s)", plural(len(s.bps), "candidate"))
		bps := make([]buildpack.Buildpack, len(s.bps))
		for i, b := range s.bps {
			bps[i] = b.bp
		}
		var results []buildpack.DetectResult
		var err error
		chosen, results, err = buildpack.Detect(bctx, ex, bps, s.layout)
		for i, r := range results {
			s.sum.Buildpacks[i].Detect = &DetectSummary{ExitCode: r.ExitCode, Output: r.Output, DurationMS: ms(r.Duration)}
			fmt.Fprintf(prefixed(opts.Log), "%s\n", r.Summary())
		}
		s.sum.time("detect", t)
		if err != nil {
			return stopped(err)
		}
		s.sum.Detected = results[chosen].Name
	}
	pb := s.bps[chosen]
	s.sum.Buildpacks[chosen].Chosen = true
	s.sum.Buildpack = pb.base + "#" + pb.rev.ID

	// Compile, into compile.log and the log.
	s.say("Compiling with %s at %s", pb.base, pb.rev.ID)
	t := time.Now()
	logPath := filepath.Join(s.work, CompileLogFile)
	logFile, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("compile log: %w", err)
	}
	out := &syncWriter{w: io.MultiWriter(logFile, opts.Log)}
	cerr := buildpack.Compile(bctx, ex, pb.bp, s.layout, out)
	_ = logFile.Close()
	s.sum.time("compile", t)
	if lerr := installFile(logPath, filepath.Join(opts.OutputDir, CompileLogFile)); lerr != nil {
		return errors.Join(cerr, lerr)
	}
	res.CompileLog = filepath.Join(opts.OutputDir, CompileLogFile)
	s.sum.Outputs = append(s.sum.Outputs, res.CompileLog)
	if cerr != nil {
		s.sum.Cache = "untouched"
		if opts.ShellOnFailure && ctx.Err() == nil {
			s.say("Compile failed: %v", cerr)
			if _, err := s.shell(ctx); err != nil {
				s.say("Warning: shell: %v", err)
			}
		}
		return stopped(cerr)
	}

	// Release.
	t = time.Now()
	s.say("Running %s/bin/release", pb.base)
	relOut, err := buildpack.Release(bctx, ex, pb.bp, s.layout, prefixed(opts.Log))
	if err != nil {
		s.sum.Cache = "untouched"
		return stopped(err)
	}
	release, err := buildpack.ParseRelease("bin/release output of "+pb.base, relOut)
	if err != nil {
		s.sum.Cache = "untouched"
		return err
	}
	s.sum.time("release", t)

	// The container goes before the cache is kept and the app is packed: nothing of the
	// buildpack runs any more.
	t = time.Now()
	if err := s.destroyContainer(context.WithoutCancel(ctx)); err != nil {
		return err
	}
	s.sum.time("container_stop", t)
	t = time.Now()
	cr, err := s.cache.commit()
	if err != nil {
		return err
	}
	s.sum.time("cache_save", t)
	switch {
	case cr.Merged:
		s.sum.Cache = "saved (layers merged)"
		s.say("Saved the build cache (%s; layers merged into one)", plural(cr.Entries, "changed entry"))
	case cr.Changed:
		s.sum.Cache = "saved"
		s.say("Saved the build cache (%s, %s)", plural(cr.Entries, "changed entry"), plural(cr.Layers, "layer"))
	default:
		s.sum.Cache = "unchanged"
		s.say("Build cache unchanged")
	}

	// Pack the app, then record the build.
	t = time.Now()
	res.Tarball = filepath.Join(opts.OutputDir, TarballFile)
	sums, err := fetch.CreateTarGz(ctx, res.Tarball, s.buildDirHost(), fetch.TarOptions{
		Exclude:      func(rel string, d fs.DirEntry) bool { return skipVCS(rel, d) },
		UID:          s.user.UID,
		GID:          s.user.GID,
		ModTime:      s.appRev.Time,
		ClampModTime: true,
	})
	if err != nil {
		res.Tarball = ""
		return err
	}
	s.sum.time("tarball", t)
	if fi, err := os.Stat(res.Tarball); err == nil {
		s.sum.Size = fi.Size()
	}
	s.sum.BuildMD5, s.sum.BuildSHA256 = sums.MD5, sums.SHA256
	s.sum.Outputs = append(s.sum.Outputs, res.Tarball)

	result := *s.job
	result.BuildpackURL = s.sum.Buildpack
	result.BuildpackVersion = pb.rev.ID
	result.BuildMD5 = sums.MD5
	result.ReleaseData = release
	result.AppRevision = s.appRev.ID
	res.ResultFile = filepath.Join(opts.OutputDir, ResultFile)
	if err := result.WriteFile(res.ResultFile); err != nil {
		res.ResultFile = ""
		return err
	}
	res.Job = &result
	s.sum.Outputs = append(s.sum.Outputs, res.ResultFile)
	s.say("Wrote %s (md5 %s, %s), %s and %s", res.Tarball, sums.MD5, humanSize(s.sum.Size), res.ResultFile, res.CompileLog)
	return nil
}

// installFile copies src to dst atomically (a temporary file beside dst, renamed).
func installFile(src, dst string) error {
	tmp := filepath.Join(filepath.Dir(dst), "."+filepath.Base(dst)+".tmp-"+newID())
	if err := copyFile(src, tmp, 0o644); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write %s: %w", dst, err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write %s: %w", dst, err)
	}
	return nil
}

func humanSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// shell runs an interactive shell in the build container as the build user, in the build
// dir, with the build's environment, after printing how to run the compile by hand.
func (s *session) shell(ctx context.Context) (int, error) {
	opts := s.opts
	errw := opts.Err
	if errw == nil {
		errw = io.Discard
	}
	argv := []string{"/bin/sh"}
	if rootHas(s.root, "bin/bash") {
		argv = []string{"/bin/bash"}
	}
	bp := s.bps[0].bp
	if s.sum.Detected != "" || s.job.BuildpackURL != "" {
		for i, b := range s.sum.Buildpacks {
			if b.Chosen {
				bp = s.bps[i].bp
			}
		}
	}
	fmt.Fprintf(errw, "vbuild: shell in the build container of %s as %s (uid %d), in %s\n", s.job.AppName, s.user.Name, s.user.UID, s.layout.BuildDir)
	fmt.Fprintf(errw, "vbuild: to run the compile by hand: %s\n", strings.Join(buildpack.CompileArgv(bp, s.layout), " "))
	if len(s.bps) > 1 && s.job.BuildpackURL == "" {
		fmt.Fprintf(errw, "vbuild: buildpacks (detect with <dir>/bin/detect %s): %s\n", s.layout.BuildDir, strings.Join(buildpackDirs(s.bps), " "))
	}
	env := append([]string(nil), s.layout.Env...)
	env = append(env, "PS1=vbuild:\\w\\$ ", "BUILD_DIR="+s.layout.BuildDir, "CACHE_DIR="+s.layout.CacheDir, "ENV_DIR="+s.layout.EnvDir)
	if opts.Term != "" {
		env = append(env, "TERM="+opts.Term)
	}
	in := opts.In
	if in == nil {
		in = strings.NewReader("")
	}
	return s.ctr.Exec(ctx, containerProcess(argv, env, s.user, s.layout.BuildDir, opts.TTY), containerStreams(in, opts.Out, errw))
}

func buildpackDirs(bps []preparedBuildpack) []string {
	out := make([]string, len(bps))
	for i, b := range bps {
		out[i] = b.bp.Dir
	}
	return out
}

// plural is "1 layer", "2 layers", "3 changed entries".
func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	if strings.HasSuffix(what, "y") {
		return fmt.Sprintf("%d %sies", n, strings.TrimSuffix(what, "y"))
	}
	return fmt.Sprintf("%d %ss", n, what)
}
