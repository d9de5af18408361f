package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"

	"github.com/vr-paas/vr/pkg/container"
	"github.com/vr-paas/vr/pkg/uptest"
)

// Uptest runs the proc's uptests, the executables in /app/uptests/<proc_name>, each as
// "<test> <host> <port>" with host and port from proc.yaml (host defaults to
// DefaultUptestHost), in a new container identical to the proc's: same root filesystem,
// build, environment, user and limits, /app read-only, its own writable layer. It does not
// take the locks. A proc without proc_name, or without such a folder, has no uptests: the
// result is empty (the original printed nothing at all without proc_name). Each test may run
// UptestTimeout; one still running then gets SIGTERM, SIGKILL after UptestGrace, and is
// reported as failed.
func (r *Runner) Uptest(ctx context.Context, p *Proc) ([]uptest.Result, error) {
	l := LayoutOf(r.Root, p.Name)
	st, err := readState(l, r.Variant)
	if err != nil {
		return nil, err
	}
	cfg := p.Config
	if cfg.ProcName == "" {
		return []uptest.Result{}, nil
	}
	// Listed through an os.Root of /app: the build (or the proc, which owns /app) may have
	// made uptests/<proc_name> a symlink to a host folder, whose names must not show.
	app, err := os.OpenRoot(l.App())
	if err != nil {
		return nil, fmt.Errorf("proc %s: %w", l.Name, err)
	}
	names, err := uptest.ListFS(app.FS(), path.Join("uptests", cfg.ProcName))
	_ = app.Close()
	if err != nil {
		return nil, fmt.Errorf("proc %s: %w", l.Name, err)
	}
	if len(names) == 0 {
		return []uptest.Result{}, nil
	}
	host := cfg.Host
	if host == "" {
		host = DefaultUptestHost
	}

	t, err := r.newTemp(l, st, kindUptest)
	if err != nil {
		return nil, err
	}
	defer t.remove()
	spec := st.spec(l, kindUptest, t.name, UptestGrace, "true")
	c, err := r.Backend.Start(ctx, spec)
	if err != nil {
		return nil, fmt.Errorf("proc %s: start the uptest container: %w", l.Name, err)
	}
	defer c.Destroy(context.WithoutCancel(ctx))

	exec := func(ctx context.Context, argv []string, out io.Writer) (int, error) {
		code, err := c.Exec(ctx, st.process(argv...), container.Streams{Out: out, Err: out})
		if errors.Is(err, container.ErrStopped) {
			err = nil // a timeout; the uptest package reports it
		}
		return code, err
	}
	suite := uptest.Suite{Dir: path.Join("/app/uptests", cfg.ProcName), Names: names, Host: host, Port: cfg.Port}
	results, err := suite.Run(ctx, exec, uptest.Options{Timeout: r.UptestTimeout})
	if derr := c.Destroy(context.WithoutCancel(ctx)); derr != nil && err == nil {
		err = derr
	}
	return results, err
}
