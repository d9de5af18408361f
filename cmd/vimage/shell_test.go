package main

import (
	"testing"

	"github.com/vr-paas/vr/pkg/cli/clitest"
)

func TestShellNotImplemented(t *testing.T) {
	clitest.RunTable(t, newRootCmd, []clitest.Case{
		{Args: []string{"shell", "image.yaml"}, Code: 3, Stderr: "vimage: shell: not implemented yet", StderrLine: true},
	})
}
