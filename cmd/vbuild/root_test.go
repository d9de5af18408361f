package main

import (
	"testing"

	"github.com/vr-paas/vr/pkg/cli/clitest"
)

func TestCommandLine(t *testing.T) {
	cases := append(clitest.StandardCases("vbuild"),
		clitest.Case{Args: nil, Code: 2, Stderr: "vbuild: missing command (one of: build, cache, shell)", StderrLine: true},
		clitest.Case{Args: []string{"frobnicate", "x.yaml"}, Code: 2, Stderr: `unknown command "frobnicate"`, StderrLine: true},
		clitest.Case{Args: []string{"build"}, Code: 2, Stderr: "vbuild: build: missing argument FILE", StderrLine: true},
		clitest.Case{Args: []string{"build", "a.yaml", "b.yaml"}, Code: 2, StderrLine: true},
		clitest.Case{Args: []string{"shell", "--help"}, Code: 0, Stdout: "shell FILE"},
		clitest.Case{Args: []string{"cache"}, Code: 2, Stderr: "vbuild: cache: missing command (one of: purge)", StderrLine: true},
		clitest.Case{Args: []string{"cache", "purge"}, Code: 2, Stderr: "vbuild: purge: missing argument APP", StderrLine: true},
	)
	clitest.RunTable(t, newRootCmd, cases)
}
