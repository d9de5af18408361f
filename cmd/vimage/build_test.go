package main

import (
	"testing"

	"github.com/vr-paas/vr/pkg/cli/clitest"
)

func TestBuildNotImplemented(t *testing.T) {
	clitest.RunTable(t, newRootCmd, []clitest.Case{
		{Args: []string{"build", "image.yaml"}, Code: 3, Stderr: "vimage: build: not implemented yet", StderrLine: true},
	})
}
