package builder

import (
	"time"

	"github.com/vr-paas/vr/pkg/schema"
)

// Summary describes a build, for vbuild --json. On failure it says how far the build got
// and Error says why.
type Summary struct {
	AppName     string             `json:"app_name"`
	Version     string             `json:"version"`
	AppRevision string             `json:"app_revision,omitempty"`
	Image       string             `json:"image_name,omitempty"`
	User        string             `json:"user,omitempty"`
	Buildpacks  []BuildpackSummary `json:"buildpacks"`
	Buildpack   string             `json:"buildpack_url,omitempty"` // the one used, <url>#<revision>
	Detected    string             `json:"detected,omitempty"`      // what its detect printed
	BuildMD5    string             `json:"build_md5,omitempty"`
	BuildSHA256 string             `json:"build_sha256,omitempty"`
	Size        int64              `json:"size,omitempty"` // bytes of build.tar.gz
	Cache       string             `json:"cache,omitempty"`
	Outputs     []string           `json:"outputs,omitempty"`
	Timings     map[string]float64 `json:"timings_ms"`
	Error       string             `json:"error,omitempty"`
}

// BuildpackSummary is one buildpack of a build.
type BuildpackSummary struct {
	URL      string         `json:"url"`
	Revision string         `json:"revision,omitempty"`
	Detect   *DetectSummary `json:"detect,omitempty"` // nil: not run (buildpack_url)
	Chosen   bool           `json:"chosen"`
}

// DetectSummary is what one bin/detect did.
type DetectSummary struct {
	ExitCode   int     `json:"exit_code"`
	Output     string  `json:"output,omitempty"`
	DurationMS float64 `json:"duration_ms"`
}

// time records the duration of a step since start.
func (s *Summary) time(step string, start time.Time) {
	if s.Timings == nil {
		s.Timings = map[string]float64{}
	}
	s.Timings[step] += ms(time.Since(start))
}

func ms(d time.Duration) float64 {
	return float64(d.Round(100*time.Microsecond)) / float64(time.Millisecond)
}

// Result is the outcome of a build.
type Result struct {
	// Job is what build_result.yaml holds (nil until the build succeeded).
	Job *schema.BuildJob
	// Summary describes the build, also when it failed.
	Summary *Summary
	// Tarball, ResultFile and CompileLog are the output paths ("" when not written).
	Tarball, ResultFile, CompileLog string
}
