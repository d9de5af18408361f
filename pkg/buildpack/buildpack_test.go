package buildpack_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/vr-paas/vr/pkg/buildpack"
)

func testdata(rel string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata", rel)
}

func bp(name string) buildpack.Buildpack {
	return buildpack.Buildpack{URL: "https://example.com/" + name + ".git", Dir: testdata("buildpacks/" + name)}
}

// layout is a build of a copy of the hello app on the host.
func layout(t *testing.T) buildpack.Layout {
	t.Helper()
	dir := t.TempDir()
	l := buildpack.Layout{
		BuildDir: filepath.Join(dir, "build"), CacheDir: filepath.Join(dir, "cache"), EnvDir: filepath.Join(dir, "env"),
		Env: []string{"PATH=/usr/bin:/bin"},
	}
	for _, d := range []string{l.BuildDir, l.CacheDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(l.BuildDir, "hello.txt"), []byte("Hello, test!\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := buildpack.WriteEnvDir(l.EnvDir, map[string]string{"A": "1", "B_2": "two words\nand a line"}); err != nil {
		t.Fatal(err)
	}
	return l
}

func TestDetectCompileRelease(t *testing.T) {
	ctx := context.Background()
	ex := buildpack.HostExecutor{}
	l := layout(t)
	chosen, results, err := buildpack.Detect(ctx, ex, []buildpack.Buildpack{bp("never"), bp("hello"), bp("failing")}, l)
	if err != nil || chosen != 1 || len(results) != 2 {
		t.Fatalf("Detect = %d, %+v, %v", chosen, results, err)
	}
	if r := results[0]; r.Detected() || r.ExitCode != 1 || r.Output != "never: this buildpack detects nothing" || r.Duration <= 0 {
		t.Errorf("never: %+v", r)
	}
	if r := results[1]; !r.Detected() || r.Name != "HelloFramework" || r.Summary() != `https://example.com/hello.git: detected "HelloFramework"` {
		t.Errorf("hello: %+v", r)
	}

	var out bytes.Buffer
	if err := buildpack.Compile(ctx, ex, bp("hello"), l, &out); err != nil {
		t.Fatalf("compile: %v\n%s", err, out.String())
	}
	if b, _ := os.ReadFile(filepath.Join(l.BuildDir, "goodbye.txt")); string(b) != "Goodbye, test!\n" {
		t.Errorf("goodbye.txt = %q", b)
	}
	if b, _ := os.ReadFile(filepath.Join(l.BuildDir, "env.txt")); string(b) != "A=1\nB_2=two words\nand a line\n" {
		t.Errorf("env.txt (ENV_DIR) = %q", b)
	}
	if !strings.Contains(out.String(), "0 earlier build(s)") {
		t.Errorf("compile output: %s", out.String())
	}

	raw, err := buildpack.Release(ctx, ex, bp("hello"), l, nil)
	if err != nil {
		t.Fatal(err)
	}
	rd, err := buildpack.ParseRelease("release", raw)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"addons":                []any{"shared-database:5mb"},
		"config_vars":           map[string]any{"PATH": "bin:/usr/bin:/bin"},
		"default_process_types": map[string]any{"hello": "cat hello.txt", "web": "busybox httpd -f -p $PORT -h public"},
	}
	if !reflect.DeepEqual(rd, want) {
		t.Errorf("release = %#v", rd)
	}
	if got := strings.Join(buildpack.CompileArgv(bp("hello"), l), " "); got != bp("hello").Dir+"/bin/compile "+l.BuildDir+" "+l.CacheDir+" "+l.EnvDir {
		t.Errorf("CompileArgv = %s", got)
	}
}

func TestFailures(t *testing.T) {
	ctx := context.Background()
	ex := buildpack.HostExecutor{}
	l := layout(t)
	if err := os.Remove(filepath.Join(l.BuildDir, "hello.txt")); err != nil {
		t.Fatal(err)
	}
	missing := buildpack.Buildpack{URL: "missing", Dir: t.TempDir()}
	_, results, err := buildpack.Detect(ctx, ex, []buildpack.Buildpack{bp("never"), bp("hello"), missing}, l)
	var nm *buildpack.NoMatchError
	if !errors.As(err, &nm) || len(nm.Results) != 3 || len(results) != 3 {
		t.Fatalf("err = %v", err)
	}
	want := "no buildpack detected the app; tried 3: https://example.com/never.git: exit 1 (never: this buildpack detects nothing); " +
		"https://example.com/hello.git: exit 1 (no hello.txt); missing: exit 127 (bin/detect missing or not executable)"
	if err.Error() != want {
		t.Errorf("message:\n%s\nwant\n%s", err, want)
	}

	var out bytes.Buffer
	err = buildpack.Compile(ctx, ex, bp("failing"), l, &out)
	var se *buildpack.StepError
	if !errors.As(err, &se) || se.ExitCode != 3 || !buildpack.IsStepError(err, "compile") ||
		err.Error() != "compile with https://example.com/failing.git failed with exit code 3" {
		t.Errorf("compile: %v", err)
	}
	if !strings.Contains(out.String(), "failing: starting\n") || !strings.Contains(out.String(), "failing: giving up\n") {
		t.Errorf("output (stdout and stderr): %q", out.String())
	}
	if err := buildpack.Compile(ctx, ex, missing, l, &out); !strings.Contains(err.Error(), "exit code 127 (bin/compile missing or not executable)") {
		t.Errorf("missing compile: %v", err)
	}

	// A release that fails or prints too much.
	bad := t.TempDir()
	if err := os.MkdirAll(filepath.Join(bad, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	script := "#!/bin/sh\necho 'release is broken' >&2\nexit 4\n"
	if err := os.WriteFile(filepath.Join(bad, "bin", "release"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err = buildpack.Release(ctx, ex, buildpack.Buildpack{URL: "bad", Dir: bad}, l, nil)
	if err == nil || err.Error() != "release with bad failed with exit code 4: release is broken" {
		t.Errorf("release: %v", err)
	}
	script = "#!/bin/sh\nhead -c 2000000 /dev/zero\n"
	if err := os.WriteFile(filepath.Join(bad, "bin", "release"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err = buildpack.Release(ctx, ex, buildpack.Buildpack{URL: "bad", Dir: bad}, l, nil); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("huge release: %v", err)
	}
}

func TestHostExecutorStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	code, err := buildpack.HostExecutor{StopTimeout: time.Second}.Exec(ctx, buildpack.Cmd{Argv: []string{"/bin/sleep", "30"}})
	if err == nil || code != 128+15 || time.Since(start) > 5*time.Second {
		t.Errorf("code %d, err %v after %s", code, err, time.Since(start))
	}
}

func TestParseRelease(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want map[string]any
		err  string
	}{
		{"", nil, ""},
		{"---\n", nil, ""},
		{"# nothing\n", nil, ""},
		{"{}", map[string]any{}, ""},
		{"config_vars: {A: yes, B: '0777', C: 0777, D: 1.5, E: ~}\n", map[string]any{"config_vars": map[string]any{"A": true, "B": "0777", "C": int64(511), "D": 1.5, "E": nil}}, ""},
		{"default_process_types:\n  web: bin/web --port $PORT\naddons: []\n", map[string]any{"default_process_types": map[string]any{"web": "bin/web --port $PORT"}, "addons": []any{}}, ""},
		{"- a\n- b\n", nil, "expected a YAML mapping"},
		{"just text", nil, "expected a YAML mapping"},
		{"a: [unclosed\n", nil, "not YAML"},
	} {
		got, err := buildpack.ParseRelease("release", []byte(tc.in))
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: err = %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if !reflect.DeepEqual(normalise(got), normalise(tc.want)) {
			t.Errorf("%q: got %#v, want %#v", tc.in, got, tc.want)
		}
	}
}

// normalise makes ints comparable whatever their Go type.
func normalise(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			out[k] = normalise(e)
		}
		return out
	case []any:
		out := []any{}
		for _, e := range x {
			out = append(out, normalise(e))
		}
		return out
	case int:
		return int64(x)
	}
	return v
}

func TestWriteEnvDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "env")
	if err := buildpack.WriteEnvDir(dir, map[string]string{"PATH_EXTRA": "/x", "EMPTY": ""}); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 2 {
		t.Errorf("entries: %v", ents)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "PATH_EXTRA")); string(b) != "/x" {
		t.Errorf("value: %q", b)
	}
	for _, bad := range []string{"../evil", "A-B", "", "1A"} {
		if err := buildpack.WriteEnvDir(t.TempDir(), map[string]string{bad: "x"}); err == nil {
			t.Errorf("name %q accepted", bad)
		}
	}
}
