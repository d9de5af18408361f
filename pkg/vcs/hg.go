package vcs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// hgRepo is a Mercurial checkout driven by the hg command.
type hgRepo struct {
	url, dir string
	progress io.Writer
	srv      *hgServer
	noServer bool
}

// hg runs the hg command with args and returns its stdout; a failure carries hg's stderr.
// Commands go to a command server started on first use (closed by close), or, where that
// does not work, each to its own hg process.
func (h *hgRepo) hg(ctx context.Context, progress bool, args ...string) (string, error) {
	if _, err := exec.LookPath("hg"); err != nil {
		return "", fmt.Errorf("hg (Mercurial) is not installed: %w", err)
	}
	if progress && h.progress != nil {
		args = append([]string{"--config", "progress.assume-tty=true", "--config", "progress.delay=0"}, args...)
	}
	var errb bytes.Buffer
	var stderr io.Writer = &errb
	if progress && h.progress != nil {
		stderr = io.MultiWriter(&errb, h.progress)
	}
	out, code, err := h.runServer(ctx, args, stderr)
	if err != nil {
		out, code, err = h.runProcess(ctx, args, stderr)
	}
	if ctx.Err() != nil {
		return "", fmt.Errorf("hg %s: %w", args[0], ctx.Err())
	}
	if err == nil && code != 0 {
		err = fmt.Errorf("exit status %d", code)
	}
	if err != nil {
		msg := strings.TrimSpace(errb.String())
		if msg == "" {
			msg = strings.TrimSpace(out)
		}
		return "", fmt.Errorf("hg %s: %w: %s", strings.Join(args, " "), err, msg)
	}
	return out, nil
}

// runServer runs args on the command server, starting it when needed.
func (h *hgRepo) runServer(ctx context.Context, args []string, stderr io.Writer) (string, int, error) {
	if h.noServer {
		return "", -1, errors.New("no command server")
	}
	if h.srv == nil {
		srv, err := startHgServer(ctx)
		if err != nil {
			h.noServer = true
			return "", -1, err
		}
		h.srv = srv
	}
	out, code, err := h.srv.run(args, stderr)
	if err != nil {
		h.srv.close()
		h.srv, h.noServer = nil, true
	}
	return out, code, err
}

// runProcess runs args in a new hg process.
func (h *hgRepo) runProcess(ctx context.Context, args []string, stderr io.Writer) (string, int, error) {
	cmd := exec.CommandContext(ctx, "hg", args...) // #nosec G204: argv without a shell, "--" before URLs
	cmd.Env = append(os.Environ(), "HGPLAIN=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return out.String(), ee.ExitCode(), nil
	}
	if err != nil {
		return out.String(), -1, err
	}
	return out.String(), 0, nil
}

// close stops the command server, if one runs.
func (h *hgRepo) close() {
	if h.srv != nil {
		h.srv.close()
		h.srv = nil
	}
}

func (h *hgRepo) cloneInto(ctx context.Context, dir string) error {
	_, err := h.hg(ctx, true, "clone", "--noupdate", "--", h.url, dir)
	return err
}

func (h *hgRepo) hasRevision(ctx context.Context, rev string) bool {
	if !isFullID(rev) {
		return false
	}
	_, err := h.hg(ctx, false, "-R", h.dir, "log", "-r", "id("+strings.ToLower(rev)+")", "-T", "{node}")
	return err == nil
}

func (h *hgRepo) fetch(ctx context.Context) error {
	_, err := h.hg(ctx, true, "-R", h.dir, "pull", "--", h.url)
	return err
}

func (h *hgRepo) checkout(ctx context.Context, rev string) (Revision, error) {
	if rev == "" {
		rev = "tip"
	}
	// hg update resolves rev itself (a revset naming several revisions is refused), which
	// saves an hg run (each costs Python's start-up).
	// Subrepositories are off: .hgsub comes from the repository, and would make root clone
	// any URL or host path it names (another app's checkout, say) into the app.
	if _, err := h.hg(ctx, false, "-R", h.dir, "--config", "subrepos.allowed=false", "update", "--clean", "-q", "-r", rev); err != nil {
		if strings.Contains(err.Error(), "unknown revision") || strings.Contains(err.Error(), "parse error") ||
			strings.Contains(err.Error(), "ambiguous") || strings.Contains(err.Error(), "multiple") {
			return Revision{}, fmt.Errorf("%q is not a branch, tag or revision of the repository: %w", rev, ErrRevisionNotFound)
		}
		return Revision{}, err
	}
	if _, err := h.hg(ctx, false, "-R", h.dir, "--config", "extensions.purge=", "--config", "subrepos.allowed=false", "purge", "--all", "-q"); err != nil {
		return Revision{}, err
	}
	return h.current(ctx)
}

func (h *hgRepo) current(ctx context.Context) (Revision, error) {
	out, err := h.hg(ctx, false, "-R", h.dir, "log", "-r", ".", "-T", "{node} {date|hgdate}")
	if err != nil {
		return Revision{}, err
	}
	f := strings.Fields(out)
	if len(f) < 2 || !isFullID(f[0]) {
		return Revision{}, fmt.Errorf("hg checkout %s: unexpected revision %q", h.dir, out)
	}
	sec, err := strconv.ParseFloat(f[1], 64)
	if err != nil {
		return Revision{}, fmt.Errorf("hg checkout %s: unexpected date %q", h.dir, out)
	}
	return Revision{ID: f[0], Time: time.Unix(int64(sec), 0).UTC()}, nil
}
