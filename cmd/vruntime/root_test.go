package main

import (
	"testing"

	"github.com/vr-paas/vr/pkg/cli/clitest"
)

func TestCommandLine(t *testing.T) {
	t.Setenv("VR_ROOT", t.TempDir())
	cases := append(clitest.StandardCases("vruntime"),
		clitest.Case{Args: nil, Code: 2, Stderr: "vruntime: missing command (one of: run, setup, shell, teardown, uptest)", StderrLine: true},
		clitest.Case{Args: []string{"start", "proc.yaml"}, Code: 2, Stderr: `unknown command "start"`, StderrLine: true},
		clitest.Case{Args: []string{"setup"}, Code: 2, Stderr: "vruntime: setup: missing argument PROC_YAML", StderrLine: true},
	)
	for _, sub := range []string{"setup", "run", "uptest", "shell"} {
		cases = append(cases, clitest.Case{Args: []string{sub, "/no/such/proc.yaml"}, Code: 2, Stderr: "vruntime: /no/such/proc.yaml: cannot read: no such file or directory", StderrLine: true})
	}
	clitest.RunTable(t, newRootCmd, cases)
}
