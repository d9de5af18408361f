package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/vr-paas/vr/pkg/container"
	"github.com/vr-paas/vr/pkg/flock"
)

// Run runs the proc in the foreground until it exits or ctx is cancelled, and returns its
// exit code (128+n when killed by signal n). It takes the locks for as long as the proc
// runs, so a second Run of the same proc fails with "<path> is locked by another process".
//
// s.Out and s.Err receive the proc's stdout and stderr; signals from s.Signals are forwarded
// to it. When ctx is cancelled the proc gets SIGTERM, then SIGKILL after StopTimeout; the
// exit code then comes with an error wrapping container.ErrStopped. Remains of a runner of
// this proc that was killed (SIGKILL leaves the container running) are removed first.
func (r *Runner) Run(ctx context.Context, p *Proc, s container.Streams) (int, error) {
	l := LayoutOf(r.Root, p.Name)
	var ls locks
	defer ls.unlock()
	if err := ls.lockProcYAML(p.Path); err != nil {
		return -1, err
	}
	st, err := readState(l, r.Variant)
	if err != nil {
		return -1, err
	}
	if err := ls.lockProcDir(l); err != nil {
		return -1, err
	}
	spec := st.spec(l, kindRun, "", r.StopTimeout, "run")
	code, err := r.Backend.Run(ctx, spec, s)
	if errors.Is(err, container.ErrExists) {
		// Holding the locks, no other runner of this proc is alive: a running container
		// of its name is what a killed one left behind. (The backend removes the remains
		// of a stopped one itself.)
		if err := r.Backend.Cleanup(ctx, st.Container); err != nil {
			return -1, fmt.Errorf("proc %s: remove the remains of an earlier run: %w", l.Name, err)
		}
		code, err = r.Backend.Run(ctx, spec, s)
	}
	return code, err
}

// Shell runs an interactive shell (bash if the root filesystem has it, else sh) in a new
// container identical to the proc's (same root filesystem, build, environment, user and
// limits; its own writable layer), not in the running proc's. It does not take the locks.
// With tty the shell gets a terminal (see container.Process.TTY).
func (r *Runner) Shell(ctx context.Context, p *Proc, s container.Streams, tty bool) (int, error) {
	l := LayoutOf(r.Root, p.Name)
	st, err := readState(l, r.Variant)
	if err != nil {
		return -1, err
	}
	t, err := r.newTemp(l, st, kindShell)
	if err != nil {
		return -1, err
	}
	defer t.remove()
	spec := st.spec(l, kindShell, t.name, r.StopTimeout, st.Shell)
	spec.TTY = tty
	if term := r.getenv("TERM"); tty && term != "" {
		spec.Env = append(spec.Env, "TERM="+term)
	}
	return r.Backend.Run(ctx, spec, s)
}

// temp is the root folder of a shell or uptest container, tmp/<name>, locked while the
// container exists so that a later command can tell a stale one (its runner was killed).
type temp struct {
	name string
	dir  string
	lock *flock.Lock
}

// newTemp creates the root folder of a new shell or uptest container, after removing stale
// ones. The folder appears under its name already locked (it is made under a dot name and
// renamed), so a concurrent sweep never takes it for a stale one.
func (r *Runner) newTemp(l Layout, st *State, k kind) (*temp, error) {
	r.sweepTemps(l, false)
	if err := os.MkdirAll(l.Tmp(), 0o755); err != nil {
		return nil, fmt.Errorf("proc %s: %w", l.Name, err)
	}
	name := tempName(st.Container, string(k))
	dir := filepath.Join(l.Tmp(), name)
	staging, err := os.MkdirTemp(l.Tmp(), ".new-")
	if err != nil {
		return nil, fmt.Errorf("proc %s: %w", l.Name, err)
	}
	t := &temp{name: name, dir: staging}
	fail := func(err error) (*temp, error) {
		t.remove()
		return nil, fmt.Errorf("proc %s: %w", l.Name, err)
	}
	lockPath := filepath.Join(staging, ".lock")
	if err := os.WriteFile(lockPath, nil, 0o600); err != nil {
		return fail(err)
	}
	if t.lock, err = flock.TryLock(lockPath); err != nil {
		return fail(err)
	}
	if st.Variant == Precise.String() {
		if err := makePreciseRoot(filepath.Join(staging, "rootfs")); err != nil {
			return fail(err)
		}
	}
	if err := os.Rename(staging, dir); err != nil {
		return fail(err)
	}
	t.dir = dir
	return t, nil
}

// remove removes the temp folder (its container must be gone).
func (t *temp) remove() {
	_ = os.RemoveAll(t.dir)
	t.lock.Unlock()
}

// sweepTemps destroys the shell and uptest containers of the proc whose runner is gone
// (their folder is not locked), or all of them when all is set (teardown).
func (r *Runner) sweepTemps(l Layout, all bool) []error {
	ents, err := os.ReadDir(l.Tmp())
	if err != nil {
		return nil
	}
	var errs []error
	for _, e := range ents {
		dot := strings.HasPrefix(e.Name(), ".")
		if dot && !all {
			continue // being made
		}
		dir := filepath.Join(l.Tmp(), e.Name())
		lk, err := flock.TryLock(filepath.Join(dir, ".lock"))
		if err != nil && !all && errors.Is(err, flock.ErrLocked) {
			continue // in use
		}
		if !dot {
			if cerr := r.Backend.Cleanup(context.Background(), e.Name()); cerr != nil {
				errs = append(errs, cerr)
			}
		}
		if rerr := os.RemoveAll(dir); rerr != nil {
			errs = append(errs, rerr)
		}
		lk.Unlock()
	}
	return errs
}
