package main

import (
	"testing"

	"github.com/vr-paas/vr/pkg/cli/clitest"
)

func TestPoolNotImplemented(t *testing.T) {
	clitest.RunTable(t, newRootCmd, []clitest.Case{
		{Args: []string{"pool", "list", "lb", "web"}, Code: 3, StderrLine: true},
		{Args: []string{"pool", "add", "lb", "web"}, Code: 2, StderrLine: true},
	})
}
