// Package uptest runs an app's uptests and reports their results as JSON.
//
// An uptest is an executable in the app's uptests/<proc_name>/ folder, run as
// "<test> <host> <port>" against one running proc; exit status 0 is a pass, and whatever it
// prints (stdout and stderr together) is kept as its output. The tests of a folder run one
// after the other in name order; names starting with "." are skipped; any other entry is
// run, so a directory or a file without the executable bit fails, as in the original.
//
// The results are printed as one line holding a JSON array of objects with the original
// uptester's keys Name, Output and Passed, plus ExitCode, TimedOut and Seconds. Unlike the
// original, which printed the JSON through Printf (so a "%" in any output corrupted it), the
// line is always valid JSON: quotes and control characters are escaped, and bytes that are
// not valid UTF-8 become U+FFFD. An empty folder, or none, gives "[]".
//
// Each test runs under a timeout (Options.Timeout). A test still running then is stopped
// (SIGTERM, then SIGKILL after a grace period the Executor applies) and reported as failed
// with TimedOut set.
//
// Where the tests run is up to the Executor: vruntime runs them in a container identical to
// the proc's (pkg/runner), LocalExecutor runs them on this host.
package uptest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// DefaultTimeout is how long one uptest may run when Options.Timeout is zero.
const DefaultTimeout = 60 * time.Second

// DefaultMaxOutput is how many bytes of a test's output are kept when Options.MaxOutput is
// zero.
const DefaultMaxOutput = 64 << 10

// Result is the outcome of one uptest. The first three fields are the original uptester's.
type Result struct {
	Name     string  `json:"Name"`     // the test's file name
	Output   string  `json:"Output"`   // stdout and stderr together (or why it could not run)
	Passed   bool    `json:"Passed"`   // exit status 0, within the timeout
	ExitCode int     `json:"ExitCode"` // the exit status; 128+n when killed by signal n; -1 when it did not run
	TimedOut bool    `json:"TimedOut"` // stopped because it outlived the timeout
	Seconds  float64 `json:"Seconds"`  // how long it ran
}

// Executor runs one uptest: argv is the test's path followed by host and port. Its stdout
// and stderr both go to out, which is safe for concurrent writes. It returns the exit
// status (128+signal when killed by a signal), or an error when the test could not be run.
// When ctx is done it stops the test (SIGTERM, then SIGKILL after a grace period) and
// returns.
type Executor func(ctx context.Context, argv []string, out io.Writer) (exitCode int, err error)

// Options configure Run.
type Options struct {
	// Timeout is how long each test may run; zero means DefaultTimeout.
	Timeout time.Duration
	// MaxOutput is how many bytes of each test's output are kept (the rest is counted and
	// dropped); zero means DefaultMaxOutput.
	MaxOutput int
}

// Suite is the uptests of one proc.
type Suite struct {
	// Dir is the folder holding the tests as the Executor sees it (inside the container:
	// /app/uptests/<proc_name>).
	Dir string
	// Names are the tests to run, in order (see List).
	Names []string
	// Host and Port are the arguments every test gets: where the proc listens.
	Host string
	Port int
}

// List returns the names of the uptests in dir, sorted, without those starting with ".". A
// missing dir has no tests (nil, nil).
func List(dir string) ([]string, error) {
	return ListFS(os.DirFS(dir), ".")
}

// ListFS is List for the folder dir of fsys; with the fs.FS of an os.Root, symlinks cannot
// take the listing out of that root.
func ListFS(fsys fs.FS, dir string) ([]string, error) {
	ents, err := fs.ReadDir(fsys, dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list uptests: %w", err)
	}
	var names []string
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names, nil
}

// Run runs every test of the suite with exec, one after the other, and returns their
// results in order. It stops early only when ctx is done, returning the results so far and
// ctx's error.
func (s Suite) Run(ctx context.Context, exec Executor, opts Options) ([]Result, error) {
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	max := opts.MaxOutput
	if max <= 0 {
		max = DefaultMaxOutput
	}
	results := []Result{}
	for _, name := range s.Names {
		if err := ctx.Err(); err != nil {
			return results, fmt.Errorf("uptests: %w", err)
		}
		results = append(results, s.runOne(ctx, exec, name, timeout, max))
	}
	if err := ctx.Err(); err != nil {
		return results, fmt.Errorf("uptests: %w", err)
	}
	return results, nil
}

func (s Suite) runOne(ctx context.Context, exec Executor, name string, timeout time.Duration, max int) Result {
	tctx, cancel := context.WithTimeoutCause(ctx, timeout, errTimedOut)
	defer cancel()
	out := &capture{max: max}
	argv := []string{path.Join(s.Dir, name), s.Host, strconv.Itoa(s.Port)}
	start := time.Now()
	code, err := exec(tctx, argv, out)
	r := Result{Name: name, ExitCode: code, Seconds: time.Since(start).Seconds()}
	r.TimedOut = errors.Is(context.Cause(tctx), errTimedOut)
	r.Output = out.String()
	switch {
	case r.TimedOut:
		r.Output += fmt.Sprintf("%suptest %s did not finish within %v and was killed", sep(r.Output), name, timeout)
	case err != nil && ctx.Err() == nil:
		// As the original: the error text stands in for the output when there is none.
		r.Output += sep(r.Output) + err.Error()
		if r.ExitCode == 0 {
			r.ExitCode = -1
		}
	}
	r.Passed = err == nil && code == 0 && !r.TimedOut
	return r
}

var errTimedOut = errors.New("uptest timed out")

func sep(s string) string {
	if s == "" || strings.HasSuffix(s, "\n") {
		return ""
	}
	return "\n"
}

// Passed reports whether every result passed (true for none).
func Passed(results []Result) bool {
	for _, r := range results {
		if !r.Passed {
			return false
		}
	}
	return true
}

// Failed returns the names of the results that did not pass.
func Failed(results []Result) []string {
	var names []string
	for _, r := range results {
		if !r.Passed {
			names = append(names, r.Name)
		}
	}
	return names
}

// Encode writes the results to w as one line of JSON ("[]" for none), with "<", ">" and "&"
// escaped as the original's Go encoder did.
func Encode(w io.Writer, results []Result) error {
	if results == nil {
		results = []Result{}
	}
	for i := range results {
		results[i].Output = strings.ToValidUTF8(results[i].Output, "\uFFFD")
	}
	data, err := json.Marshal(results)
	if err != nil {
		return fmt.Errorf("encode uptest results: %w", err)
	}
	_, err = w.Write(append(data, '\n'))
	return err
}

// capture keeps the first max bytes written to it and counts the rest. It is safe for
// concurrent use (the stdout and stderr of a test are copied by two goroutines).
type capture struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	max     int
	dropped int64
}

func (c *capture) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := len(p)
	if room := c.max - c.buf.Len(); room < len(p) {
		if room < 0 {
			room = 0
		}
		c.dropped += int64(len(p) - room)
		p = p[:room]
	}
	c.buf.Write(p)
	return n, nil
}

func (c *capture) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.buf.String()
	if c.dropped > 0 {
		s += fmt.Sprintf("%s[%d more bytes of output dropped]\n", sep(s), c.dropped)
	}
	return s
}

// LocalExecutor returns an Executor that runs tests as processes of this host, each in a
// process group of its own, with the given environment (nil: this process's). When the
// test's context is done the group gets SIGTERM, and SIGKILL after grace.
func LocalExecutor(env []string, grace time.Duration) Executor {
	return func(ctx context.Context, argv []string, out io.Writer) (int, error) {
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Env = env
		cmd.Stdout, cmd.Stderr = out, out
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		// Background children may keep the output open; do not wait for them for long.
		cmd.WaitDelay = grace + time.Second
		if err := cmd.Start(); err != nil {
			return -1, err
		}
		done := make(chan struct{})
		go func() {
			select {
			case <-done:
				return
			case <-ctx.Done():
			}
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
			t := time.NewTimer(grace)
			defer t.Stop()
			select {
			case <-done:
			case <-t.C:
			}
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		}()
		err := cmd.Wait()
		close(done)
		// Whatever the test left behind in its group goes too.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
		code := ws.ExitStatus()
		if ws.Signaled() {
			code = 128 + int(ws.Signal())
		}
		var ee *exec.ExitError
		if errors.As(err, &ee) || errors.Is(err, exec.ErrWaitDelay) {
			err = nil
		}
		return code, err
	}
}
