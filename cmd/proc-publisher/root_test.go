package main

import (
	"testing"

	"github.com/vr-paas/vr/pkg/cli/clitest"
)

func TestCommandLine(t *testing.T) {
	cases := append(clitest.StandardCases("proc-publisher"),
		clitest.Case{Args: nil, Code: 3, Stderr: "proc-publisher: not implemented yet", StderrLine: true},
	)
	clitest.RunTable(t, newRootCmd, cases)
}
