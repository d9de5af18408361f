package main

import (
	"testing"

	"github.com/vr-paas/vr/pkg/cli/clitest"
)

func TestCommandLine(t *testing.T) {
	cases := append(clitest.StandardCases("vrcli"),
		clitest.Case{Args: nil, Code: 2, Stderr: "vrcli: missing command (one of: balancers, pool, swarm)", StderrLine: true},
		clitest.Case{Args: []string{"pool"}, Code: 2, Stderr: "vrcli: pool: missing command (one of: add, list, remove)", StderrLine: true},
		clitest.Case{Args: []string{"swarm", "app-prod-web"}, Code: 2, Stderr: "missing argument VERSION", StderrLine: true},
	)
	clitest.RunTable(t, newRootCmd, cases)
}
