package main

import (
	"testing"

	"github.com/vr-paas/vr/pkg/cli/clitest"
)

func TestCommandLine(t *testing.T) {
	cases := append(clitest.StandardCases("vimage"),
		clitest.Case{Args: nil, Code: 2, Stderr: "vimage: missing command (one of: build, shell)", StderrLine: true},
		clitest.Case{Args: []string{"build"}, Code: 2, Stderr: "vimage: build: missing argument FILE", StderrLine: true},
	)
	clitest.RunTable(t, newRootCmd, cases)
}
