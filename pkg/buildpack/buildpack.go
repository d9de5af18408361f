package buildpack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"sync"
	"time"
)

// Cmd is one program run by an Executor.
type Cmd struct {
	Argv   []string  // Argv[0] is a path as the executor sees it
	Env    []string  // the complete environment, "KEY=value"
	Dir    string    // working directory
	Stdin  io.Reader // nil: empty
	Stdout io.Writer // nil: discarded
	Stderr io.Writer // nil: discarded
}

// Executor runs buildpack programs somewhere: in a build container, or on the host.
type Executor interface {
	// Exec runs c to completion and returns its exit code (128+n when killed by signal n).
	// A program that cannot be started at all is reported with exit code 126 or 127 and no
	// error; an error means the executor itself failed, or ctx ended (the program is then
	// stopped and its code returned with the error).
	Exec(ctx context.Context, c Cmd) (int, error)
}

// Buildpack is one buildpack, as the executor sees it.
type Buildpack struct {
	URL string // the URL it came from, for messages
	Dir string // its directory (holding bin/detect, bin/compile, bin/release)
}

// Layout is where a build happens, as the executor sees it.
type Layout struct {
	BuildDir string   // the app, built in place (BUILD_DIR)
	CacheDir string   // kept between builds of the app (CACHE_DIR)
	EnvDir   string   // one file per configuration variable (ENV_DIR)
	Env      []string // the environment of every program, "KEY=value"
}

// Output size caps: what detect and release print is kept in memory.
const (
	maxDetectOutput  = 64 << 10
	maxReleaseOutput = 1 << 20
)

// DetectResult is what one buildpack's bin/detect said.
type DetectResult struct {
	Buildpack Buildpack
	ExitCode  int
	Name      string // stdout, trimmed (the framework name) when ExitCode is 0
	Output    string // stdout and stderr, trimmed
	Duration  time.Duration
}

// Detected reports whether the buildpack claimed the app.
func (r DetectResult) Detected() bool { return r.ExitCode == 0 }

// Summary is one line describing the result: "<url>: detected <name>" or
// "<url>: exit <n> (<first line of output>)".
func (r DetectResult) Summary() string {
	if r.Detected() {
		return fmt.Sprintf("%s: detected %q", r.Buildpack.URL, r.Name)
	}
	s := fmt.Sprintf("%s: exit %d", r.Buildpack.URL, r.ExitCode)
	switch r.ExitCode {
	case 126, 127:
		s += " (bin/detect missing or not executable)"
	}
	if line, _, _ := strings.Cut(r.Output, "\n"); line != "" {
		s += fmt.Sprintf(" (%s)", clip(line, 120))
	}
	return s
}

// NoMatchError is returned by Detect when no buildpack claims the app. Its message lists
// every buildpack tried and what its detect said.
type NoMatchError struct {
	Results []DetectResult
}

// Error lists every buildpack tried and what its detect said.
func (e *NoMatchError) Error() string {
	parts := make([]string, len(e.Results))
	for i, r := range e.Results {
		parts[i] = r.Summary()
	}
	return fmt.Sprintf("no buildpack detected the app; tried %d: %s", len(e.Results), strings.Join(parts, "; "))
}

// Detect runs bin/detect of each buildpack in order against the build dir and returns the
// index of the first that exits 0, with the results of those run so far. When none does, the
// error is a *NoMatchError (with every result).
func Detect(ctx context.Context, ex Executor, bps []Buildpack, l Layout) (int, []DetectResult, error) {
	var results []DetectResult
	for i, bp := range bps {
		var out, both capped
		out.max, both.max = maxDetectOutput, maxDetectOutput
		start := time.Now()
		code, err := ex.Exec(ctx, Cmd{
			Argv:   []string{path.Join(bp.Dir, "bin", "detect"), l.BuildDir},
			Env:    l.Env,
			Dir:    l.BuildDir,
			Stdout: io.MultiWriter(&out, &both),
			Stderr: &both,
		})
		r := DetectResult{
			Buildpack: bp, ExitCode: code, Duration: time.Since(start),
			Name:   strings.TrimSpace(out.String()),
			Output: strings.TrimSpace(both.String()),
		}
		results = append(results, r)
		if err != nil {
			return -1, results, fmt.Errorf("detect with %s: %w", bp.URL, err)
		}
		if r.Detected() {
			return i, results, nil
		}
	}
	return -1, results, &NoMatchError{Results: results}
}

// StepError is returned when bin/compile or bin/release exits non-zero.
type StepError struct {
	Step      string // "compile" or "release"
	Buildpack Buildpack
	ExitCode  int
	Output    string // for release: what it printed on stderr (trimmed, capped)
}

// Error names the step, the buildpack and the exit code, with a hint for the usual causes.
func (e *StepError) Error() string {
	s := fmt.Sprintf("%s with %s failed with exit code %d", e.Step, e.Buildpack.URL, e.ExitCode)
	switch {
	case e.ExitCode == 126 || e.ExitCode == 127:
		s += fmt.Sprintf(" (bin/%s missing or not executable)", e.Step)
	case e.ExitCode == 137:
		s += " (killed: out of memory, or stopped)"
	}
	if e.Output != "" {
		line, _, _ := strings.Cut(e.Output, "\n")
		s += ": " + clip(line, 200)
	}
	return s
}

// CompileArgv is the command line of bin/compile for a layout (what a person would type to
// run it by hand in the build environment).
func CompileArgv(bp Buildpack, l Layout) []string {
	return []string{path.Join(bp.Dir, "bin", "compile"), l.BuildDir, l.CacheDir, l.EnvDir}
}

// Compile runs bin/compile BUILD_DIR CACHE_DIR ENV_DIR with its stdout and stderr going to
// out (both, in order). A non-zero exit is a *StepError.
func Compile(ctx context.Context, ex Executor, bp Buildpack, l Layout, out io.Writer) error {
	code, err := ex.Exec(ctx, Cmd{
		Argv:   CompileArgv(bp, l),
		Env:    l.Env,
		Dir:    l.BuildDir,
		Stdout: out,
		Stderr: out,
	})
	if err != nil {
		return fmt.Errorf("compile with %s: %w", bp.URL, err)
	}
	if code != 0 {
		return &StepError{Step: "compile", Buildpack: bp, ExitCode: code}
	}
	return nil
}

// Release runs bin/release BUILD_DIR and returns what it printed on stdout (at most 1 MiB;
// more is an error). Its stderr goes to log. A non-zero exit is a *StepError.
func Release(ctx context.Context, ex Executor, bp Buildpack, l Layout, log io.Writer) ([]byte, error) {
	var out, errb capped
	out.max, errb.max = maxReleaseOutput+1, maxDetectOutput
	var stderr io.Writer = &errb
	if log != nil {
		stderr = io.MultiWriter(&errb, log)
	}
	code, err := ex.Exec(ctx, Cmd{
		Argv:   []string{path.Join(bp.Dir, "bin", "release"), l.BuildDir},
		Env:    l.Env,
		Dir:    l.BuildDir,
		Stdout: &out,
		Stderr: stderr,
	})
	if err != nil {
		return nil, fmt.Errorf("release with %s: %w", bp.URL, err)
	}
	if code != 0 {
		return nil, &StepError{Step: "release", Buildpack: bp, ExitCode: code, Output: strings.TrimSpace(errb.String())}
	}
	if out.Len() > maxReleaseOutput {
		return nil, fmt.Errorf("release with %s: output larger than %d bytes", bp.URL, maxReleaseOutput)
	}
	return out.Bytes(), nil
}

// capped keeps the first max bytes written to it and drops the rest (without failing the
// writer). It is safe for concurrent writes (stdout and stderr are copied by two goroutines)
// and, unlike an embedded bytes.Buffer, has no ReadFrom for io.Copy to bypass Write with.
type capped struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func (c *capped) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if room := c.max - len(c.buf); room > 0 {
		c.buf = append(c.buf, p[:min(len(p), room)]...)
	}
	return len(p), nil
}

func (c *capped) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.buf)
}

func (c *capped) Bytes() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]byte(nil), c.buf...)
}

func (c *capped) String() string { return string(c.Bytes()) }

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// IsStepError reports whether err is a *StepError of the given step.
func IsStepError(err error, step string) bool {
	var se *StepError
	return errors.As(err, &se) && se.Step == step
}
