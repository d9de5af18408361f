package schema_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/vr-paas/vr/pkg/schema"
)

// TestEnvFilesArePrivate: a build_result.yaml that echoes env values (often secrets) is
// readable by its owner only; one without is world-readable as before.
func TestEnvFilesArePrivate(t *testing.T) {
	dir := t.TempDir()
	job := &schema.BuildJob{AppName: "app", AppRepoURL: "https://example.com/app.git", AppRepoType: "git",
		Version: "v1", BuildpackURL: "https://example.com/bp.git"}
	for _, tc := range []struct {
		env  map[string]string
		mode os.FileMode
	}{{nil, 0o644}, {map[string]string{"TOKEN": "s3cret"}, 0o600}} {
		job.Env = tc.env
		p := filepath.Join(dir, "build_result.yaml")
		if err := job.WriteFile(p); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != tc.mode {
			t.Errorf("env %v: mode %v, want %v", tc.env, fi.Mode().Perm(), tc.mode)
		}
	}
}
