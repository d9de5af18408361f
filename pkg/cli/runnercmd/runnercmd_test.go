package runnercmd

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/vr-paas/vr/pkg/cli"
	"github.com/vr-paas/vr/pkg/cli/clitest"
	"github.com/vr-paas/vr/pkg/container"
	"github.com/vr-paas/vr/pkg/container/containertest"
	"github.com/vr-paas/vr/pkg/schema"
	"github.com/vr-paas/vr/pkg/testutil"
)

// fakeRoot returns a root constructor of the variant whose commands run containers on b.
func fakeRoot(v Variant, b *containertest.Backend) func(*cli.Deps) *cobra.Command {
	name := "vruntime"
	if v == Precise {
		name = "vruntime-precise"
	}
	return func(d *cli.Deps) *cobra.Command {
		return newRoot(&env{name: name, variant: v, d: d, newBackend: func(string) (container.Backend, error) { return b, nil }})
	}
}

// keyOf reads the key a bad_*.yaml sample must be refused for, from its first line.
func keyOf(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan()
	key, ok := strings.CutPrefix(sc.Text(), "# key: ")
	if !ok {
		t.Fatalf("%s: first line should be # key: <key>", path)
	}
	return strings.Fields(key)[0]
}

// TestBadProcYAMLIsExit2NamingTheKey: every command refuses every bad proc.yaml with exit 2
// and one line naming the file and the key, before anything else (no root needed).
func TestBadProcYAMLIsExit2NamingTheKey(t *testing.T) {
	t.Setenv("VR_ROOT", t.TempDir())
	files, err := filepath.Glob("../../../testdata/procs/bad_*.yaml")
	if err != nil || len(files) < 10 {
		t.Fatalf("samples: %v %v", files, err)
	}
	for _, v := range []Variant{Image, Precise} {
		b := &containertest.Backend{}
		for _, f := range files {
			key := keyOf(t, f)
			if v == Precise && strings.Contains(f, "image_missing") {
				continue
			}
			for _, sub := range []string{"setup", "run", "uptest", "shell", "teardown"} {
				if sub == "teardown" && strings.Contains(f, "image_missing") {
					continue // teardown does not need the image
				}
				r := clitest.Run(t, fakeRoot(v, b), sub, f)
				want := f + ":"
				if key != "(none:" {
					want = `key "` + key + `"`
				}
				if r.Code != cli.ExitBadInput || !strings.Contains(r.Stderr, want) || strings.Count(r.Stderr, "\n") != 1 {
					t.Errorf("%s %s %s: exit %d, stderr %q; want 2 and one line with %q", v, sub, filepath.Base(f), r.Code, r.Stderr, want)
				}
			}
		}
		if len(b.Specs()) > 0 || len(b.Cleaned()) > 0 {
			t.Errorf("a container was touched for a bad proc.yaml")
		}
	}
}

func TestCommandLine(t *testing.T) {
	b := &containertest.Backend{}
	cases := append(clitest.StandardCases("vruntime"),
		clitest.Case{Args: nil, Code: 2, Stderr: "vruntime: missing command (one of: run, setup, shell, teardown, uptest)", StderrLine: true},
		clitest.Case{Args: []string{"run", "a.yaml", "b.yaml"}, Code: 2, Stderr: "run: takes 1 argument(s)", StderrLine: true},
		clitest.Case{Args: []string{"run", "--stop-timeout", "soon", "a.yaml"}, Code: 2, Stderr: "invalid argument", StderrLine: true},
		clitest.Case{Args: []string{"uptest", "--help"}, Code: 0, Stdout: "--timeout duration"},
		clitest.Case{Args: []string{"setup", "/no/such/proc.yaml"}, Code: 2, Stderr: "vruntime: /no/such/proc.yaml: cannot read: no such file or directory", StderrLine: true},
	)
	clitest.RunTable(t, fakeRoot(Image, b), cases)
}

// writeProc writes a proc.yaml for a precise proc running cmd, under root as a deployer
// would, and returns its path.
func writeProc(t *testing.T, root string, c *schema.ProcConfig) string {
	t.Helper()
	name, err := c.Name()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "procs", name.String())
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "proc.yaml")
	if err := c.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	return path
}

func testProc(cmd string) *schema.ProcConfig {
	return &schema.ProcConfig{AppName: "demo", Version: "v1", ConfigName: "test", ReleaseHash: "abcd1234", ProcName: "web", Port: 5555, Cmd: cmd, User: "nobody"}
}

// setUp runs setup (precise, on the fake backend) for a new proc and returns its proc.yaml.
func setUp(t *testing.T, b *containertest.Backend, c *schema.ProcConfig) string {
	t.Helper()
	testutil.RequireRoot(t)
	root := t.TempDir()
	t.Setenv("VR_ROOT", root)
	path := writeProc(t, root, c)
	r := clitest.Run(t, fakeRoot(Precise, b), "setup", path)
	if r.Code != 0 {
		t.Fatalf("setup: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	return path
}
