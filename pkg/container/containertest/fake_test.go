package containertest_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/vr-paas/vr/pkg/container"
	"github.com/vr-paas/vr/pkg/container/containertest"
)

func spec(name string, argv ...string) container.Spec {
	return container.Spec{Name: name, Rootfs: container.Rootfs{Dir: "/r"}, Process: container.Process{Argv: argv}}
}

func TestFakeRunsTheHandler(t *testing.T) {
	b := &containertest.Backend{Handler: func(ctx context.Context, s container.Spec, p container.Process, st container.Streams) (int, error) {
		fmt.Fprintf(st.Out, "%s ran %s with %s\n", s.Name, strings.Join(p.Argv, " "), p.Cwd)
		return 3, nil
	}}
	var out bytes.Buffer
	code, err := b.Run(context.Background(), spec("web", "/proc.sh", "run"), container.Streams{Out: &out})
	if err != nil || code != 3 {
		t.Fatalf("Run = %d, %v", code, err)
	}
	if out.String() != "web ran /proc.sh run with /\n" {
		t.Errorf("output %q", out.String())
	}
	if got := b.Specs(); len(got) != 1 || got[0].Name != "web" {
		t.Errorf("Specs() = %+v", got)
	}
	if left, _ := b.Leftovers(context.Background(), "web"); len(left) != 0 {
		t.Errorf("Leftovers after Run = %q", left)
	}
}

func TestFakeValidatesAndTracksRunning(t *testing.T) {
	b := &containertest.Backend{}
	ctx := context.Background()
	if _, err := b.Run(ctx, spec("web"), container.Streams{}); !errors.Is(err, container.ErrInvalidSpec) {
		t.Errorf("Run without argv = %v, want ErrInvalidSpec", err)
	}
	b.SetRunning("web")
	if _, err := b.Run(ctx, spec("web", "x"), container.Streams{}); !errors.Is(err, container.ErrExists) {
		t.Errorf("Run over a running container = %v, want ErrExists", err)
	}
	if err := b.Cleanup(ctx, "web"); err != nil {
		t.Fatal(err)
	}
	c, err := b.Start(ctx, spec("web", "x"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ctx, container.Process{Argv: []string{"y"}}, container.Streams{}); err != nil {
		t.Fatal(err)
	}
	if err := c.Destroy(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ctx, container.Process{Argv: []string{"y"}}, container.Streams{}); !errors.Is(err, container.ErrNotFound) {
		t.Errorf("Exec after Destroy = %v, want ErrNotFound", err)
	}
	if got := b.Cleaned(); len(got) != 1 || got[0] != "web" {
		t.Errorf("Cleaned() = %q", got)
	}
	if got := b.Processes(); len(got) != 1 || got[0].Argv[0] != "y" {
		t.Errorf("Processes() = %+v", got)
	}
}
