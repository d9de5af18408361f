package main

import (
	"testing"

	"github.com/vr-paas/vr/pkg/cli/clitest"
)

func TestBalancersNotImplemented(t *testing.T) {
	clitest.RunTable(t, newRootCmd, []clitest.Case{
		{Args: []string{"balancers"}, Code: 3, Stderr: "vrcli: balancers: not implemented yet", StderrLine: true},
		{Args: []string{"balancers", "extra"}, Code: 2, StderrLine: true},
	})
}
