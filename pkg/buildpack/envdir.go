package buildpack

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/vr-paas/vr/pkg/schema"
)

// WriteEnvDir fills dir (created if missing, mode 0755) with one file per variable of env,
// named after the variable and holding its value byte for byte (no trailing newline), mode
// 0644: Heroku's ENV_DIR. Names are checked (schema.ValidateEnvName), so none can leave dir.
func WriteEnvDir(dir string, env map[string]string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("env dir: %w", err)
	}
	for name, value := range env {
		if err := schema.ValidateEnvName(name); err != nil {
			return fmt.Errorf("env dir: %w", err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(value), 0o644); err != nil {
			return fmt.Errorf("env dir: %w", err)
		}
	}
	return nil
}
