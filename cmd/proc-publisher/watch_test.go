package main

import (
	"testing"

	"github.com/vr-paas/vr/pkg/cli/clitest"
)

func TestWatchNotImplemented(t *testing.T) {
	clitest.RunTable(t, newRootCmd, []clitest.Case{
		{Args: []string{"watch", "--from", "0-0"}, Code: 3, Stderr: "proc-publisher: watch: not implemented yet", StderrLine: true},
		{Args: []string{"watch", "--bogus"}, Code: 2, StderrLine: true},
	})
}
