package main

import (
	"testing"

	"github.com/vr-paas/vr/pkg/cli/clitest"
)

// TestBuildNotImplemented pins the documented exit code (3) of the placeholder until the
// builder lands (issue 3).
func TestBuildNotImplemented(t *testing.T) {
	clitest.RunTable(t, newRootCmd, []clitest.Case{
		{Args: []string{"build", "app.yaml"}, Code: 3, Stderr: "vbuild: build: not implemented yet", StderrLine: true},
	})
}
