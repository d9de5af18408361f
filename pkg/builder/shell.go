package builder

import (
	"context"
	"errors"

	"github.com/vr-paas/vr/pkg/buildpack"
	"github.com/vr-paas/vr/pkg/schema"
)

// Shell sets up the build of job exactly as Build does (checkouts, private copies, ENV_DIR,
// cache, container with the same image, mounts, user, limits and environment), runs the
// detects (when the job has buildpack_urls, to name the buildpack a build would use; none
// detecting is reported, not fatal), then runs an interactive shell (bash if the container
// has it, else sh) as the build user in the build dir, with Options.In, Out and Err. It
// prints how to run the compile by hand, returns the shell's exit status, and then removes
// everything: nothing is written to the output dir and the cache is left as it was.
func Shell(ctx context.Context, job *schema.BuildJob, opts Options) (int, error) {
	s, err := prepare(ctx, job, opts)
	if err != nil {
		return -1, err
	}
	defer s.close(context.WithoutCancel(ctx))
	if s.job.BuildpackURL == "" {
		bps := make([]buildpack.Buildpack, len(s.bps))
		for i, b := range s.bps {
			bps[i] = b.bp
		}
		chosen, results, err := buildpack.Detect(ctx, s.executor(), bps, s.layout)
		for _, r := range results {
			s.say("Detect: %s", r.Summary())
		}
		var nm *buildpack.NoMatchError
		switch {
		case err == nil:
			s.sum.Buildpacks[chosen].Chosen = true
			s.sum.Detected = results[chosen].Name
		case errors.As(err, &nm):
			s.say("No buildpack detected the app")
		default:
			return -1, err
		}
	} else {
		s.sum.Buildpacks[0].Chosen = true
	}
	return s.shell(ctx)
}
