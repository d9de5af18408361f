package runner

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/vr-paas/vr/pkg/mountinfo"
	"github.com/vr-paas/vr/pkg/schema"
)

// Teardown removes everything of the proc at procYAML that setup and the commands made: its
// containers (the proc's own, and shell or uptest containers still open), any mount left
// below its folder, and the folder itself (which usually holds proc.yaml). Builds and images
// stay: other procs share them. A proc that is not there is success: when procYAML does not
// exist either, the proc is found by the name of the folder holding it if that is a proc
// folder of this runner's root, else there is nothing to do. It takes the locks.
func (r *Runner) Teardown(ctx context.Context, procYAML string) error {
	var name schema.ProcName
	p, err := Load(procYAML, Precise) // any variant: the image keys do not matter here
	switch {
	case err == nil:
		name = p.Name
	case errors.Is(err, fs.ErrNotExist):
		dir := filepath.Dir(procYAML)
		n, perr := schema.ParseProcName(filepath.Base(dir))
		abs, _ := filepath.Abs(dir)
		if perr != nil || abs != LayoutOf(r.Root, n).ProcDir() {
			r.say("%s does not exist: nothing to tear down", procYAML)
			return nil
		}
		name = n
	default:
		return err
	}
	l := LayoutOf(r.Root, name)
	r.say("Tearing down %s", l.Name)

	var ls locks
	defer ls.unlock()
	if p != nil {
		if err := ls.lockProcYAML(procYAML); err != nil {
			return err
		}
	}
	procDir := l.ProcDir()
	if _, err := os.Stat(procDir); err == nil {
		if err := ls.lockProcDir(l); err != nil {
			return err
		}
	}

	// Containers: the proc's (left by a killed runner), then shells and uptests.
	var errs []error
	if err := r.Backend.Cleanup(ctx, ContainerName(name)); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, r.sweepTemps(l, true)...)
	if len(errs) > 0 {
		return fmt.Errorf("tear down %s: %w", l.Name, errors.Join(errs...))
	}

	// Mounts below the folder in this mount namespace (containers mount in their own, so
	// normally there are none), then the folder.
	// A volume still mounted below the folder would be emptied by RemoveAll, so anything that
	// keeps us from knowing or undoing the mounts stops the teardown before it removes a file.
	mps, err := mountinfo.Below(procDir)
	if err != nil {
		return fmt.Errorf("tear down %s: list mounts: %w", l.Name, err)
	}
	for _, mp := range mps {
		if err := unix.Unmount(mp, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
			errs = append(errs, fmt.Errorf("unmount %s: %w", mp, err))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("tear down %s: %w (nothing removed)", l.Name, errors.Join(errs...))
	}
	if err := os.RemoveAll(procDir); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return fmt.Errorf("tear down %s: %w", l.Name, errors.Join(errs...))
	}
	r.say("Removed %s", procDir)
	return nil
}
