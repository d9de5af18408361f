package main

import (
	"testing"

	"github.com/vr-paas/vr/pkg/cli/clitest"
)

func TestSwarmNotImplemented(t *testing.T) {
	clitest.RunTable(t, newRootCmd, []clitest.Case{
		{Args: []string{"swarm", "app-prod-web", "v2"}, Code: 3, Stderr: "vrcli: swarm: not implemented yet", StderrLine: true},
	})
}
