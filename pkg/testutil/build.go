package testutil

import (
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

var built struct {
	mu   sync.Mutex
	dir  string                  // holds the binaries; made by the first build
	bins map[string]*builtBinary // by package
}

type builtBinary struct {
	once sync.Once
	path string
	err  error
}

// BuildBinary builds the main package pkg (an import path, e.g.
// "github.com/vr-paas/vr/cmd/vruntime") with the go command, once per test process, and
// returns the binary's path. The binaries are in a temporary directory that outlives the
// test: call RemoveBinaries from TestMain after m.Run.
func BuildBinary(t testing.TB, pkg string) string {
	t.Helper()
	built.mu.Lock()
	if built.bins == nil {
		built.bins = map[string]*builtBinary{}
	}
	b := built.bins[pkg]
	if b == nil {
		b = &builtBinary{}
		built.bins[pkg] = b
	}
	built.mu.Unlock()
	b.once.Do(func() { b.path, b.err = build(pkg) })
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

func build(pkg string) (string, error) {
	built.mu.Lock()
	if built.dir == "" {
		dir, err := os.MkdirTemp("", "vr-test-bin")
		if err != nil {
			built.mu.Unlock()
			return "", err
		}
		built.dir = dir
	}
	dir := built.dir
	built.mu.Unlock()
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	// One subdirectory per package, so the binary keeps its name.
	sub := filepath.Join(dir, strings.ReplaceAll(pkg, "/", "_"))
	if err := os.Mkdir(sub, 0o755); err != nil {
		return "", err
	}
	p := filepath.Join(sub, path.Base(pkg))
	out, err := exec.Command(goBin, "build", "-o", p, pkg).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build %s: %v\n%s", pkg, err, strings.TrimSpace(string(out)))
	}
	return p, nil
}

// RemoveBinaries removes the binaries BuildBinary built. Call it from TestMain once m.Run
// has returned.
func RemoveBinaries() {
	built.mu.Lock()
	defer built.mu.Unlock()
	if built.dir != "" {
		_ = os.RemoveAll(built.dir)
	}
}
