package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/vr-paas/vr/pkg/cli"
)

func TestShell(t *testing.T) {
	dir, root := project(t, "hello")
	var out, errb bytes.Buffer
	in := strings.NewReader("id -un; ls; exit 5\n")
	code := cli.Run(context.Background(), newRootCmd, []string{"--root", root, "shell", "app.yaml"}, cli.Streams{In: in, Out: &out, Err: &errb})
	if code != 5 {
		t.Errorf("exit %d, want the shell's 5\nstdout: %s\nstderr: %s", code, out.String(), errb.String())
	}
	if !strings.Contains(out.String(), "nobody\n") || !strings.Contains(out.String(), "hello.txt") {
		t.Errorf("stdout: %s", out.String())
	}
	if !strings.Contains(errb.String(), "vbuild: to run the compile by hand: /tmp/buildpacks/hello-") {
		t.Errorf("stderr: %s", errb.String())
	}
	if strings.Contains(errb.String(), "panic") || strings.Contains(errb.String(), "vbuild: exit") {
		t.Errorf("stderr: %s", errb.String())
	}
	if _, err := readDirNames(dir); err != nil {
		t.Fatal(err)
	}
	names, _ := readDirNames(dir)
	if strings.Join(names, " ") != "app.yaml" {
		t.Errorf("vbuild shell wrote files: %v", names)
	}
}
