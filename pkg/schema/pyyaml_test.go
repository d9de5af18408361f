package schema_test

import (
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vr-paas/vr/pkg/schema"
	"github.com/vr-paas/vr/pkg/testutil"
)

// These tests check compatibility with the original's YAML library directly, by running
// PyYAML: Debian's python3 with python3-yaml (scripts/deps.sh installs both). They skip where
// it is missing, and fail instead under VR_TEST_REQUIRE=all.

// pythonBin is Debian's interpreter, which sees python3-yaml (a pyenv python3 earlier on PATH
// may not).
const pythonBin = "/usr/bin/python3"

func requirePyYAML(t *testing.T) {
	t.Helper()
	if err := exec.Command(pythonBin, "-c", "import yaml").Run(); err != nil {
		testutil.Missing(t, "bin", "needs %s with PyYAML (scripts/deps.sh installs python3-yaml) to cross-check with the original's YAML library", pythonBin)
	}
}

func python(t *testing.T, script string, args ...string) string {
	t.Helper()
	out, err := exec.Command(pythonBin, append([]string{"-c", script}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("python3: %v\n%s", err, out)
	}
	return strings.TrimSuffix(string(out), "\n")
}

var trickyStrings = []string{"yes", "No", "on", "OFF", "true", "null", "~", "", "9.0", "12", "1e3", "0o17", "017",
	"0x1F", "1_000", "1:20", "2001-12-14", "<<", "=", ".inf", ".5", "._5", "y", "n", "- a", "a: b", "#x",
	"x #y", "'q'", "\"d\"", "multi\nline", "trailing newline\n", " lead", "trail ", "tab\there", "\x01ctl",
	"é ünï", "😀", "\u2028", "\u0085", "\ufeffbom", "*alias", "&anchor", "!tag", "%pct", "@at", "`tick",
	"{a}", "[a]", "?", "|", ">", "-", ",", "...", "---", "@We're testing, aren't we?",
	strings.Repeat("long words ", 20), strings.Repeat("x", 200)}

// PyYAML's safe_load reads what vr writes as the same data.
func TestPyYAMLReadsOurProcYAML(t *testing.T) {
	requirePyYAML(t)
	settings := map[string]any{"nested": map[string]any{"list": []any{1, 2.5, true, nil, []any{}}, "empty": map[string]any{}},
		"f": 1e16, "neg0": math.Copysign(0, -1), "big": int64(math.MaxInt64), "small": 1e-5}
	env := map[string]string{}
	for i, s := range trickyStrings {
		settings["s"+string(rune('A'+i%26))+string(rune('a'+i/26))] = s
		if !strings.ContainsAny(s, "\x00") {
			env["E"+string(rune('A'+i%26))+string(rune('A'+i/26))] = s
		}
	}
	byKey := map[string]any{}
	for i, s := range trickyStrings {
		byKey[s] = i
	}
	settings["keys"] = byKey
	p := &schema.ProcConfig{AppName: "app", Version: "9.0", ConfigName: "prod", ReleaseHash: "", ProcName: "web",
		Port: 5000, Settings: settings, Env: env, Volumes: []schema.Volume{{"/a b", "/c"}}, MemLimit: "256M"}
	out, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "proc.yaml")
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatal(err)
	}
	got := python(t, `import sys, json, yaml
d = yaml.safe_load(open(sys.argv[1], encoding="utf-8"))
print(json.dumps([d["settings"], d["env"], d["volumes"], d["version"], d["release_hash"], d["port"], d["cmd"], d["mem_limit"]], sort_keys=True))`, path)
	want, err := schema.PyJSON([]any{settings, env, [][]string{{"/a b", "/c"}}, "9.0", "", 5000, nil, "256M"})
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("PyYAML read:\n%s\nwant\n%s\nfile:\n%s", got, want, out)
	}
}

// vr reads what PyYAML's safe_dump writes as the same data (long strings folded, non-ASCII
// escaped, and so on).
func TestWeReadPyYAMLOutput(t *testing.T) {
	requirePyYAML(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "proc.yaml")
	script := `import sys, json, yaml
tricky = json.loads(sys.argv[2])
settings = {"s%03d" % i: s for i, s in enumerate(tricky)}
settings.update({"i": 12, "f": 1.5, "b": True, "n": None, "l": [1, [2, "x"]], "m": {"k": "v"}, "big": 1e300, "e": {}})
env = {"E%03d" % i: s for i, s in enumerate(tricky) if "\x00" not in s}
d = {"proc_name": "web", "version": "9.0", "port": 5000, "settings": settings, "env": env, "volumes": [["/h", "/c"]]}
open(sys.argv[1], "w").write(yaml.safe_dump(d, default_flow_style=False))
print(json.dumps([settings, env], sort_keys=True))`
	tricky, err := schema.PyJSON(trickyStrings)
	if err != nil {
		t.Fatal(err)
	}
	want := python(t, script, path, tricky)
	p, err := schema.LoadProcConfig(path)
	if err != nil {
		data, _ := os.ReadFile(path)
		t.Fatalf("%v\n%s", err, data)
	}
	got, err := schema.PyJSON([]any{p.Settings, p.Env})
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("vr read:\n%s\nwant (PyYAML's data)\n%s", got, want)
	}
}
