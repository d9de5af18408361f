package runnercmd

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vr-paas/vr/pkg/cli/clitest"
	"github.com/vr-paas/vr/pkg/container"
	"github.com/vr-paas/vr/pkg/container/containertest"
)

func TestUptest(t *testing.T) {
	b := &containertest.Backend{Handler: func(ctx context.Context, spec container.Spec, p container.Process, s container.Streams) (int, error) {
		// argv: shell /proc.sh <test> <host> <port>
		if len(p.Argv) < 5 {
			return 0, nil // the holder's own process
		}
		fmt.Fprintf(s.Out, "%s %s %s%%\n", filepath.Base(p.Argv[2]), p.Argv[3], p.Argv[4])
		if strings.HasSuffix(p.Argv[2], "fail") {
			return 1, nil
		}
		return 0, nil
	}}
	c := testProc("true")
	path := setUp(t, b, c)
	tests := filepath.Join(filepath.Dir(path), "rootfs/app/uptests/web")

	// No uptests: [] and exit 0.
	r := clitest.Run(t, fakeRoot(Precise, b), "uptest", path)
	if r.Code != 0 || r.Stdout != "[]\n" {
		t.Errorf("no uptests: exit %d, stdout %q, stderr %q", r.Code, r.Stdout, r.Stderr)
	}

	if err := os.MkdirAll(tests, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"01_ok", "02_ok"} {
		if err := os.WriteFile(filepath.Join(tests, n), nil, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	r = clitest.Run(t, fakeRoot(Precise, b), "uptest", path)
	var res []map[string]any
	if err := json.Unmarshal([]byte(r.Stdout), &res); err != nil || r.Code != 0 || len(res) != 2 || strings.Count(r.Stdout, "\n") != 1 {
		t.Fatalf("passing: exit %d, stdout %q, stderr %q (%v)", r.Code, r.Stdout, r.Stderr, err)
	}
	if res[0]["Name"] != "01_ok" || res[0]["Output"] != "01_ok 127.0.0.1 5555%\n" || res[0]["Passed"] != true {
		t.Errorf("result: %v", res[0])
	}

	if err := os.WriteFile(filepath.Join(tests, "03_fail"), nil, 0o755); err != nil {
		t.Fatal(err)
	}
	r = clitest.Run(t, fakeRoot(Precise, b), "uptest", path)
	if err := json.Unmarshal([]byte(r.Stdout), &res); err != nil || r.Code != 1 || len(res) != 3 || res[2]["Passed"] != false {
		t.Errorf("failing: exit %d, stdout %q (%v)", r.Code, r.Stdout, err)
	}
	if r.Stderr != "vruntime-precise: 1 of 3 uptests failed: 03_fail\n" {
		t.Errorf("failing: stderr %q", r.Stderr)
	}
	// The uptests ran in one container of their own, not the proc's.
	specs := b.Specs()
	last := specs[len(specs)-1]
	if !strings.Contains(last.Name, "-uptest-") || last.Network != container.NetworkHost {
		t.Errorf("uptest container %q network %q", last.Name, last.Network)
	}
	if got, want := len(b.Processes()), 5; got != want {
		t.Errorf("%d processes run, want %d", got, want)
	}
}
