package runnercmd

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/vr-paas/vr/pkg/cli/clitest"
	"github.com/vr-paas/vr/pkg/container"
	"github.com/vr-paas/vr/pkg/container/containertest"
)

func TestShell(t *testing.T) {
	b := &containertest.Backend{Handler: func(ctx context.Context, spec container.Spec, p container.Process, s container.Streams) (int, error) {
		in, _ := io.ReadAll(s.In)
		fmt.Fprintf(s.Out, "%s argv=%q tty=%v stdin=%q\n", spec.Name, p.Argv, p.TTY, in)
		return 5, nil
	}}
	path := setUp(t, b, testProc("true"))
	r := clitest.Run(t, fakeRoot(Precise, b), "shell", path)
	if r.Code != 5 || !strings.HasPrefix(r.Stdout, "demo-v1-test-abcd1234-web-5555-shell-") || !strings.Contains(r.Stdout, `argv=["/bin/bash" "/proc.sh" "/bin/bash"] tty=false`) {
		t.Errorf("exit %d, stdout %q, stderr %q", r.Code, r.Stdout, r.Stderr)
	}
}
