package uptest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vr-paas/vr/pkg/uptest"
)

// writeTests creates the named files in a new dir with the given contents, executable.
func writeTests(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		mode := os.FileMode(0o755)
		if strings.HasPrefix(content, "#noexec") {
			mode = 0o644
		}
		if content == "DIR" {
			if err := os.Mkdir(filepath.Join(dir, name), 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), mode); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestList(t *testing.T) {
	dir := writeTests(t, map[string]string{"b": "", "a": "", ".hidden": "", "10_c": "", "sub": "DIR"})
	names, err := uptest.List(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"10_c", "a", "b", "sub"}; !reflect.DeepEqual(names, want) {
		t.Errorf("List = %q, want %q", names, want)
	}
	names, err = uptest.List(filepath.Join(dir, "missing"))
	if err != nil || names != nil {
		t.Errorf("List(missing) = %q, %v; want nil, nil", names, err)
	}
}

func runSuite(t *testing.T, files map[string]string, opts uptest.Options) []uptest.Result {
	t.Helper()
	dir := writeTests(t, files)
	names, err := uptest.List(dir)
	if err != nil {
		t.Fatal(err)
	}
	s := uptest.Suite{Dir: dir, Names: names, Host: "127.0.0.1", Port: 5123}
	res, err := s.Run(context.Background(), uptest.LocalExecutor(nil, 200*time.Millisecond), opts)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestRunPassFailArgsAndOrder(t *testing.T) {
	res := runSuite(t, map[string]string{
		"01_pass": "#!/bin/sh\necho \"host=$1 port=$2\"\n",
		"02_fail": "#!/bin/sh\necho to-stderr >&2\nexit 3\n",
		"03_noex": "#noexec\n",
		"04_dir":  "DIR",
	}, uptest.Options{})
	if len(res) != 4 {
		t.Fatalf("got %d results: %+v", len(res), res)
	}
	if r := res[0]; r.Name != "01_pass" || !r.Passed || r.Output != "host=127.0.0.1 port=5123\n" || r.ExitCode != 0 {
		t.Errorf("pass: %+v", r)
	}
	if r := res[1]; r.Name != "02_fail" || r.Passed || r.Output != "to-stderr\n" || r.ExitCode != 3 {
		t.Errorf("fail: %+v", r)
	}
	if r := res[2]; r.Passed || !strings.Contains(r.Output, "permission denied") {
		t.Errorf("not executable: %+v", r)
	}
	if r := res[3]; r.Passed || r.Output == "" {
		t.Errorf("directory: %+v", r)
	}
	if uptest.Passed(res) {
		t.Error("Passed = true")
	}
	if got := uptest.Failed(res); !reflect.DeepEqual(got, []string{"02_fail", "03_noex", "04_dir"}) {
		t.Errorf("Failed = %q", got)
	}
}

func TestRunHangingTestIsKilledAndReported(t *testing.T) {
	start := time.Now()
	res := runSuite(t, map[string]string{
		// Ignores SIGTERM, and leaves a child holding the output open.
		"01_hang": "#!/bin/sh\ntrap '' TERM\necho started\nsleep 100 &\nwhile :; do sleep 0.05; done\n",
		"02_next": "#!/bin/sh\necho ran\n",
	}, uptest.Options{Timeout: 300 * time.Millisecond})
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
	r := res[0]
	if r.Passed || !r.TimedOut || r.ExitCode != 137 || !strings.HasPrefix(r.Output, "started\n") || !strings.Contains(r.Output, "did not finish within 300ms and was killed") {
		t.Errorf("hanging test: %+v", r)
	}
	if !res[1].Passed || res[1].Output != "ran\n" {
		t.Errorf("the test after the hanging one: %+v", res[1])
	}
}

func TestEncodeAwkwardOutputStaysValidJSON(t *testing.T) {
	res := runSuite(t, map[string]string{
		"pct":    "#!/bin/sh\nprintf '100%% done %%s %%d \"quoted\" <b>&\\n'\n",
		"binary": "#!/bin/sh\nprintf 'a\\000b\\377\\376c\\033[0m\\t\\r\\n'\nexit 1\n",
	}, uptest.Options{})
	var b bytes.Buffer
	if err := uptest.Encode(&b, res); err != nil {
		t.Fatal(err)
	}
	line := b.String()
	if strings.Count(line, "\n") != 1 || !strings.HasSuffix(line, "\n") {
		t.Errorf("not one line: %q", line)
	}
	if !strings.Contains(line, `\u003cb\u003e\u0026`) {
		t.Errorf("<, > and & should be escaped as the original's encoder did: %s", line)
	}
	var back []map[string]any
	if err := json.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatalf("invalid JSON %q: %v", line, err)
	}
	for _, k := range []string{"Name", "Output", "Passed"} {
		if _, ok := back[0][k]; !ok {
			t.Errorf("key %s missing: %v", k, back[0])
		}
	}
	// binary sorts first.
	if got := back[0]["Output"]; got != "a\x00b\uFFFDc\x1b[0m\t\r\n" {
		t.Errorf("binary output = %q", got)
	}
	if got := back[1]["Output"]; got != "100% done %s %d \"quoted\" <b>&\n" {
		t.Errorf("%% output = %q", got)
	}
}

func TestEncodeNone(t *testing.T) {
	var b bytes.Buffer
	if err := uptest.Encode(&b, nil); err != nil || b.String() != "[]\n" {
		t.Errorf("Encode(nil) = %q, %v", b.String(), err)
	}
	if !uptest.Passed(nil) {
		t.Error("Passed(nil) = false")
	}
}

func TestOutputIsCapped(t *testing.T) {
	res := runSuite(t, map[string]string{"big": "#!/bin/sh\nhead -c 100000 /dev/zero | tr '\\0' x\n"}, uptest.Options{MaxOutput: 1000})
	r := res[0]
	if !r.Passed || !strings.HasPrefix(r.Output, strings.Repeat("x", 1000)+"\n[99000 more bytes of output dropped]") {
		t.Errorf("capped output: passed %v, %d bytes, tail %q", r.Passed, len(r.Output), r.Output[max(0, len(r.Output)-60):])
	}
}

func TestExecutorErrorStandsInForOutput(t *testing.T) {
	s := uptest.Suite{Dir: "/x", Names: []string{"t"}, Host: "h", Port: 1}
	failing := func(ctx context.Context, argv []string, out io.Writer) (int, error) {
		if !reflect.DeepEqual(argv, []string{"/x/t", "h", "1"}) {
			t.Errorf("argv %q", argv)
		}
		return -1, os.ErrPermission
	}
	res, err := s.Run(context.Background(), failing, uptest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r := res[0]; r.Passed || r.ExitCode != -1 || r.Output != "permission denied" {
		t.Errorf("%+v", r)
	}
}

func TestCancelStopsTheSuite(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	s := uptest.Suite{Dir: "/x", Names: []string{"a", "b", "c"}}
	res, err := s.Run(ctx, func(ctx context.Context, argv []string, out io.Writer) (int, error) {
		calls++
		cancel()
		return 0, nil
	}, uptest.Options{})
	if err == nil || calls != 1 || len(res) != 1 {
		t.Errorf("after cancel: err %v, %d calls, %d results", err, calls, len(res))
	}
}
