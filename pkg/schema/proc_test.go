package schema_test

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/vr-paas/vr/pkg/schema"
)

// A proc.yaml as the original server's deploy task wrote it (PyYAML safe_dump of
// build_proc_info through ProcData) reads with the values the original saw, and vr writes it
// back byte for byte.
func TestProcConfigOriginalServerFile(t *testing.T) {
	data := readShared(t, "original_proc.yaml")
	p, err := schema.ParseProcConfig("proc.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	wantSettings := map[string]any{
		"answer": "yes", "big": 1e16, "debug": true, "empty": "", "greeting": "@We're testing, aren't we?",
		"nothing": nil, "ratio": 0.5, "version": "9.0", "when": "2013-05-01", "workers": 4, "zip": "01234",
		"db":    map[string]any{"host": "db1.example.com", "options": []any{"a", "b"}, "port": 5432},
		"pairs": []any{[]any{1, 2}, []any{"x", "y"}},
	}
	if !reflect.DeepEqual(p.Settings, wantSettings) {
		t.Errorf("settings = %#v\nwant %#v", p.Settings, wantSettings)
	}
	wantEnv := map[string]string{"DATABASE_URL": "postgres://u:p@db1/app", "FLAG": "true", "LANG": "C.UTF-8", "PORT_OFFSET": "10"}
	if !reflect.DeepEqual(p.Env, wantEnv) {
		t.Errorf("env = %#v", p.Env)
	}
	wantVols := []schema.Volume{{Host: "/var/log/app", Container: "/app/log"}, {Host: "/srv/data", Container: "/data"}}
	if !reflect.DeepEqual(p.Volumes, wantVols) {
		t.Errorf("volumes = %#v", p.Volumes)
	}
	if p.Port != 5123 || p.MemLimit != "256M" || p.MemswLimit != "1G" || p.User != "nobody" || p.Group != "nogroup" || p.Cmd != "" {
		t.Errorf("scalars: %+v", p)
	}
	name, err := p.Name()
	if err != nil || name.String() != "vr_python_example-v5-prod-f9ab779c-web-5123" {
		t.Errorf("Name() = %v, %v", name, err)
	}
	out, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != string(data) {
		t.Errorf("Marshal differs from the original's safe_dump:\n%s\nwant\n%s", out, data)
	}
}

// The build proc.yaml vbuild wrote (reference §1.5 step 6): empty release hash, port 0.
func TestProcConfigOriginalBuildProc(t *testing.T) {
	p, err := schema.ParseProcConfig("buildproc.yaml", readShared(t, "original_buildproc.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if p.ReleaseHash != "" || p.Port != 0 || p.ConfigName != "build" || p.ProcName != "build" || p.Settings != nil ||
		p.AppFolder != "/tmp/tmpab12cd/build/vr_python_example-0f6b4c8e8d9a1b2c3d4e5f6a7b8c9d0e" {
		t.Errorf("parsed %+v", p)
	}
	// vr refuses the original's empty hash field in names it builds.
	if _, err := p.Name(); err == nil || !strings.Contains(err.Error(), `key "release_hash": release hash must not be empty`) {
		t.Errorf("Name() error = %v", err)
	}
	out, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	// Empty strings come out as null, except the name fields.
	want := `app_folder: /tmp/tmpab12cd/build/vr_python_example-0f6b4c8e8d9a1b2c3d4e5f6a7b8c9d0e
app_name: vr_python_example
app_repo_type: null
app_repo_url: null
build_md5: null
build_url: null
buildpack_url: null
buildpack_version: null
cmd: /builder.sh /build/vr_python_example-0f6b4c8e8d9a1b2c3d4e5f6a7b8c9d0e /cache/buildpack_cache
config_name: build
env:
  BUILDPACK_DIRS: /heroku-buildpack-nodejs-1b2c:/yg-buildpack-python2-3d4e
group: null
host: null
image_md5: null
image_name: null
image_url: null
mem_limit: null
memsw_limit: null
port: 0
proc_name: build
release_hash: ''
settings: {}
user: nobody
version: v3
volumes:
- - /tmp/tmpab12cd/build
  - /build
- - /tmp/tmpab12cd/cache
  - /cache
`
	if string(out) != want {
		t.Errorf("Marshal:\n%s\nwant\n%s", out, want)
	}
}

func TestProcConfigDocumentedImageLines(t *testing.T) {
	p, err := schema.LoadProcConfig(shared + "doc_proc_image.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if p.ImageName != "ubuntu-core-12.04.3-amd64" || p.ImageMD5 != "ea978e31902dfbf4fc0dac5863d77988" ||
		p.ImageURL != "http://cdimage.ubuntu.com/ubuntu-core/releases/12.04/release/ubuntu-core-12.04.3-core-amd64.tar.gz" {
		t.Errorf("image keys: %+v", p)
	}
	name, err := p.Name()
	if err != nil || name.String() != "vr_node_example-v2-local-f96054b7-web-5003" {
		t.Errorf("Name() = %v, %v", name, err)
	}
}

// reference §8.8 (test_deploy.py): a proc.yaml written with safe_dump and read back equals
// the data, including "@We're testing, aren't we?", which PyYAML writes single-quoted.
func TestProcConfigAtQuoteRoundTrip(t *testing.T) {
	p := &schema.ProcConfig{
		AppName: "app", Version: "v1", ConfigName: "prod", ReleaseHash: "abcd1234", ProcName: "web", Port: 5000,
		Settings: map[string]any{"msg": "@We're testing, aren't we?", "how": "@How's it going?"},
		Env:      map[string]string{"MSG": "@We're testing, aren't we?"},
	}
	out, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"  msg: '@We''re testing, aren''t we?'\n",
		"  how: '@How''s it going?'\n",
		"  MSG: '@We''re testing, aren''t we?'\n",
	} {
		if !strings.Contains(string(out), line) {
			t.Errorf("output lacks %q:\n%s", line, out)
		}
	}
	back, err := schema.ParseProcConfig("proc.yaml", out)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p, back) {
		t.Errorf("round trip:\n%+v\n%+v", p, back)
	}
}

func TestProcConfigValuesNeedingQuotes(t *testing.T) {
	// Strings that YAML 1.1 or 1.2 would read as something else must come back as strings.
	tricky := []string{"yes", "No", "on", "OFF", "true", "null", "~", "", "9.0", "12", "1e3", "0o17", "017",
		"0x1F", "1_000", "1:20", "2001-12-14", "<<", "=", ".inf", ".5", "._5", "y", "n", "- a", "a: b", "#x",
		"x #y", "'q'", "\"d\"", "multi\nline", " lead", "trail ", "tab\there", "\x01ctl", "é ünï", "*alias", "&anchor",
		"!tag", "%pct", "@at", "`tick", "{a}", "[a]", "?", "|", ">", "-", ",", "...", "---"}
	settings := map[string]any{}
	for i, s := range tricky {
		settings[string(rune('a'+i%26))+strings.Repeat("x", i/26)+"_"+string(rune('0'+i%10))] = s
	}
	p := &schema.ProcConfig{ProcName: "web", Settings: settings, Env: map[string]string{"A": "yes", "B": "0o17", "C": ""}}
	out, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := schema.ParseProcConfig("proc.yaml", out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !reflect.DeepEqual(back.Settings, settings) {
		for k, v := range settings {
			if back.Settings[k] != v {
				t.Errorf("settings[%s]: wrote %q, read back %#v", k, v, back.Settings[k])
			}
		}
	}
	if !reflect.DeepEqual(back.Env, p.Env) {
		t.Errorf("env: %#v", back.Env)
	}
}

func TestProcConfigFloatsAndInts(t *testing.T) {
	p := &schema.ProcConfig{ProcName: "web", Settings: map[string]any{
		"f1": 1.0, "f2": 1e16, "f3": 1e-5, "nan": math.NaN(), "inf": math.Inf(1), "ninf": math.Inf(-1),
		"i": 3, "i64": int64(-7), "u": uint8(9), "neg0": math.Copysign(0, -1),
	}}
	out, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	// PyYAML's spelling of each (represent_float).
	for _, line := range []string{"  f1: 1.0\n", "  f2: 1.0e+16\n", "  f3: 1.0e-05\n", "  nan: .nan\n", "  inf: .inf\n",
		"  ninf: -.inf\n", "  i: 3\n", "  i64: -7\n", "  u: 9\n", "  neg0: -0.0\n"} {
		if !strings.Contains(string(out), line) {
			t.Errorf("output lacks %q:\n%s", line, out)
		}
	}
	back, err := schema.ParseProcConfig("proc.yaml", out)
	if err != nil {
		t.Fatal(err)
	}
	if back.Settings["f1"] != 1.0 || back.Settings["f2"] != 1e16 || back.Settings["i"] != 3 || !math.IsNaN(back.Settings["nan"].(float64)) {
		t.Errorf("read back %#v", back.Settings)
	}
}

func TestProcConfigPyYAMLScalars(t *testing.T) {
	// Unquoted settings mean what they meant to the original (PyYAML, YAML 1.1).
	data := "proc_name: web\nsettings:\n  a: yes\n  b: Off\n  c: 017\n  d: 0x1F\n  e: 1:20\n  f: 1_000\n  g: 1e3\n  h: 0o17\n  i: 2001-12-14\n  j: 1:20.5\n  k: ~\n  l: !!str 12\n  m: '12'\n  n: .NaN\n  o: =\n"
	p, err := schema.ParseProcConfig("proc.yaml", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"a": true, "b": false, "c": 15, "d": 31, "e": 80, "f": 1000, "g": "1e3", "h": "0o17",
		"i": "2001-12-14", "j": 80.5, "k": nil, "l": "12", "m": "12", "o": "="}
	for k, v := range want {
		if p.Settings[k] != v {
			t.Errorf("settings[%s] = %#v, want %#v", k, p.Settings[k], v)
		}
	}
	if f, ok := p.Settings["n"].(float64); !ok || !math.IsNaN(f) {
		t.Errorf("settings[n] = %#v, want NaN", p.Settings["n"])
	}
}

func TestProcConfigLegacyProcKey(t *testing.T) {
	p, err := schema.ParseProcConfig("proc.yaml", []byte("proc: worker\nport: 0\n"))
	if err != nil {
		t.Fatal(err)
	}
	if p.ProcName != "worker" {
		t.Errorf("ProcName = %q", p.ProcName)
	}
	out, _ := p.Marshal()
	if !strings.Contains(string(out), "proc_name: worker\n") || strings.Contains(string(out), "\nproc:") {
		t.Errorf("legacy key not written as proc_name:\n%s", out)
	}
	_, err = schema.ParseProcConfig("proc.yaml", []byte("proc: worker\nproc_name: web\n"))
	if err == nil || err.Error() != `proc.yaml:2: key "proc_name": "proc" is the legacy spelling of "proc_name" and both are given (line 1); keep only "proc_name"` {
		t.Errorf("both proc and proc_name: %v", err)
	}
}

func TestParseProcConfigLenient(t *testing.T) {
	data := "proc_name: web\nrun_as: alice\nfuture_key: {a: 1}\nport: 5000\nversion: v1-rc1\n"
	p, unknown, err := schema.ParseProcConfigLenient("proc.yaml", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(unknown, []string{"run_as", "future_key"}) || p.Port != 5000 || p.Version != "v1-rc1" {
		t.Errorf("lenient: %+v unknown=%q", p, unknown)
	}
	_, err = schema.ParseProcConfig("proc.yaml", []byte(data))
	if err == nil || !strings.HasPrefix(err.Error(), `proc.yaml:2: key "run_as": unknown key (known keys: app_folder,`) {
		t.Errorf("strict: %v", err)
	}
	// Types are still checked.
	if _, _, err := schema.ParseProcConfigLenient("proc.yaml", []byte("port: web\n")); err == nil {
		t.Errorf("lenient accepted port: web")
	}
}

func TestParseProcConfigErrors(t *testing.T) {
	tests := []struct{ name, data, want string }{
		{"neither proc_name nor cmd", "port: 5000\n", `proc.yaml: key "proc_name": must provide either proc_name or cmd`},
		{"null proc_name", "proc_name: null\n", `proc.yaml:1: key "proc_name": must provide either proc_name or cmd`},
		{"typo", "proc_name: web\nmem_limt: 256M\n", `proc.yaml:2: key "mem_limt": unknown key; did you mean "mem_limit"?`},
		{"port string", "proc_name: web\nport: '5000'\n", `proc.yaml:2: key "port": got a string ("5000"); expected a port number 0..65535; write it unquoted: port: 5000`},
		{"port range", "proc_name: web\nport: 70000\n", `proc.yaml:2: key "port": port 70000 is out of range; expected 0..65535`},
		{"port float", "proc_name: web\nport: 50.0\n", `proc.yaml:2: key "port": got a float (50.0); expected a port number 0..65535 written in plain decimal`},
		{"port octal", "proc_name: web\nport: 0777\n", `proc.yaml:2: key "port": got an int (0777); expected a port number 0..65535 written in plain decimal`},
		{"port tagged str", "proc_name: web\nport: !!str 5000\n", `proc.yaml:2: key "port": got a string ("5000"); expected a port number 0..65535; write it unquoted: port: 5000`},
		{"port negative", "proc_name: web\nport: -1\n", `proc.yaml:2: key "port": got an int (-1); expected a port number 0..65535 written in plain decimal`},
		{"version float", "proc_name: web\nversion: 9.0\n", `proc.yaml:2: key "version": got a float (9.0); quote it: version: "9.0"`},
		{"dash in version", "proc_name: web\nversion: v1-rc1\n", `proc.yaml:2: key "version": version "v1-rc1" contains "-"`},
		{"dash in proc", "proc_name: my-worker\n", `proc.yaml:1: key "proc_name": proc name "my-worker" contains "-"`},
		{"dash in legacy proc", "proc: my-worker\n", `proc.yaml:1: key "proc": proc name "my-worker" contains "-"`},
		{"relative volume", "proc_name: web\nvolumes:\n- [data, /data]\n", `proc.yaml:3: key "volumes": item 1: host dir "data" must be an absolute path`},
		{"dotdot volume", "proc_name: web\nvolumes:\n- [/data, /app/../../etc]\n", `proc.yaml:3: key "volumes": item 1: container dir "/app/../../etc" must not contain "." or ".." elements`},
		{"root volume", "proc_name: web\nvolumes:\n- [/data, /]\n", `proc.yaml:3: key "volumes": item 1: container dir must not be the root directory`},
		{"volume host space", "proc_name: web\nvolumes:\n- [/srv/data, /data]\n- [/srv/my data, /data2]\n", `proc.yaml:4: key "volumes": item 2: host dir "/srv/my data" contains whitespace`},
		{"volume container tab", "proc_name: web\nvolumes:\n- [/srv/data, \"/da\\tta\"]\n", `proc.yaml:3: key "volumes": item 1: container dir "/da\tta" contains a control character`},
		{"volume nbsp", "proc_name: web\nvolumes:\n- [\"/srv/my\\u00a0data\", /data]\n", `proc.yaml:3: key "volumes": item 1: host dir "/srv/my\u00a0data" contains whitespace`},
		{"volume flow style space", "proc_name: web\nvolumes: [[/a b, /c]]\n", `proc.yaml:2: key "volumes": item 1: host dir "/a b" contains whitespace`},
		{"version plus", "proc_name: web\nversion: v1+build\n", `proc.yaml:2: key "version": version "v1+build" contains '+'; the proc name is the container name`},
		{"version accent", "proc_name: web\nversion: café\n", `proc.yaml:2: key "version": version "café" contains 'é'`},
		{"version at", "proc_name: web\nversion: v@1\n", `proc.yaml:2: key "version": version "v@1" contains '@'`},
		{"app underscore first", "proc_name: web\napp_name: _app\n", `proc.yaml:2: key "app_name": app name "_app" starts with '_'`},
		{"proc name plus", "proc_name: web+1\n", `proc.yaml:1: key "proc_name": proc name "web+1" contains '+'`},
		{"legacy proc key", "proc: wéb\n", `proc.yaml:1: key "proc": proc name "wéb" contains 'é'`},
		{"config name", "proc_name: web\nconfig_name: prod!\n", `proc.yaml:2: key "config_name": config name "prod!" contains '!'`},
		{"release hash", "proc_name: web\nrelease_hash: ab%cd\n", `proc.yaml:2: key "release_hash": release hash "ab%cd" contains '%'`},
		{"name too long", "app_name: app\nversion: v1\nconfig_name: prod\nrelease_hash: abcd1234\nproc_name: " + strings.Repeat("w", 200) + "\nport: 5000\n",
			`proc.yaml:5: key "proc_name": the proc name "app-v1-prod-abcd1234-wwwwwwwwwwwwwwww..." (app-version-config-hash-proc-port) is 226 bytes long; at most 200`},
		{"volume triple", "proc_name: web\nvolumes:\n- [/a, /b, /c]\n", `proc.yaml:3: key "volumes": item 1: got a list of 3 items; expected a pair [host_dir, container_dir]`},
		{"volumes mapping", "proc_name: web\nvolumes: {a: b}\n", `proc.yaml:2: key "volumes": got a mapping; expected a list of [host_dir, container_dir] pairs`},
		{"mem_limit unit", "proc_name: web\nmem_limit: 256MB\n", `proc.yaml:2: key "mem_limit": size "256MB": expected a number of bytes with an optional K, M, G or T suffix, e.g. 256M`},
		{"mem_limit float", "proc_name: web\nmem_limit: 1.5\n", `proc.yaml:2: key "mem_limit": got a float (1.5); expected a size such as 256M or a number of bytes`},
		{"memsw below mem", "proc_name: web\nmem_limit: 1G\nmemsw_limit: 512M\n", `proc.yaml:3: key "memsw_limit": 512M is less than mem_limit 1G`},
		{"env list", "proc_name: web\nenv: [a]\n", `proc.yaml:2: key "env": got a list; expected a mapping of NAME: value`},
		{"env bad name", "proc_name: web\nenv:\n  A-B: x\n", `proc.yaml:2: key "env": variable name "A-B"`},
		{"env int key", "proc_name: web\nenv:\n  1: x\n", `proc.yaml:3: key "env": mapping keys must be strings, got an int (1); quote it`},
		{"env dup", "proc_name: web\nenv:\n  A: x\n  A: y\n", `proc.yaml:4: key "env": "A" appears twice (first on line 3)`},
		{"settings scalar", "proc_name: web\nsettings: 3\n", `proc.yaml:2: key "settings": got an int (3); expected a mapping`},
		{"settings bool key", "proc_name: web\nsettings:\n  yes: 1\n", `proc.yaml:3: key "settings": mapping keys must be strings, got yes, which YAML 1.1 (the original's parser) reads as a bool; quote it`},
		{"settings merge", "proc_name: web\nsettings:\n  base: &b {a: 1}\n  x:\n    <<: *b\n", `proc.yaml:5: key "settings": merge keys (<<) are not supported`},
		{"settings binary", "proc_name: web\nsettings:\n  b: !!binary aGVsbG8=\n", `proc.yaml:3: key "settings": unsupported tag !!binary`},
		{"settings huge int", "proc_name: web\nsettings:\n  n: 123456789012345678901234567890\n", `proc.yaml:3: key "settings": integer 123456789012345678901234567890 is out of range (64 bits) or malformed`},
		{"user with space", "proc_name: web\nuser: a b\n", `proc.yaml:2: key "user": "a b" contains whitespace or a control character`},
		{"repo type", "proc_name: web\napp_repo_type: svn\n", `proc.yaml:2: key "app_repo_type": got "svn"; expected git or hg`},
		{"build md5", "proc_name: web\nbuild_md5: xyz\n", `proc.yaml:2: key "build_md5": "xyz" is not an MD5 digest`},
		{"image without name", "proc_name: web\nimage_url: http://x/i.tar.gz\n", `proc.yaml: key "image_name": required with image_url`},
		{"image name slash", "proc_name: web\nimage_name: a/b\n", `proc.yaml:2: key "image_name": "a/b" must be a file name`},
		{"multi-line cmd", "cmd: |\n  a\n  b\n", `proc.yaml:1: key "cmd": "a\nb\n" must be one line of valid UTF-8`},
		{"relative app folder", "proc_name: web\napp_folder: build/x\n", `proc.yaml:2: key "app_folder": app folder "build/x" must be an absolute path`},
		{"alias bomb", "proc_name: web\nsettings:\n  a: &a [1,1,1,1,1,1,1,1,1,1]\n  b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n  c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\n  d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n  e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\n  f: [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n",
			`proc.yaml:`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := schema.ParseProcConfig("proc.yaml", []byte(tt.data))
			if err == nil {
				t.Fatalf("no error; want %s", tt.want)
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error:\n  %s\nwant prefix:\n  %s", err, tt.want)
			}
			var se *schema.Error
			if !errors.As(err, &se) {
				t.Errorf("error %T is not a *schema.Error", err)
			}
		})
	}
}

func TestProcConfigAliasBombIsBounded(t *testing.T) {
	// 10^6 leaves from a few hundred bytes; the reader must stop, not expand them.
	data := "proc_name: web\nsettings:\n  a: &a [1,1,1,1,1,1,1,1,1,1]\n  b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n  c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\n  d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n  e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\n  f: [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
	_, err := schema.ParseProcConfig("proc.yaml", []byte(data))
	if err == nil || !strings.Contains(err.Error(), "value too large or too many aliases") {
		t.Errorf("err = %v", err)
	}
	// A few aliases are fine.
	p, err := schema.ParseProcConfig("proc.yaml", []byte("proc_name: web\nsettings:\n  a: &x {k: v}\n  b: *x\n"))
	if err != nil || !reflect.DeepEqual(p.Settings["b"], map[string]any{"k": "v"}) {
		t.Errorf("alias: %v %#v", err, p.Settings)
	}
}

func TestProcConfigMemLimitInt(t *testing.T) {
	p, err := schema.ParseProcConfig("proc.yaml", []byte("proc_name: web\nmem_limit: 268435456\nmemsw_limit: 1G\n"))
	if err != nil {
		t.Fatal(err)
	}
	if p.MemLimit != "268435456" {
		t.Errorf("MemLimit = %q", p.MemLimit)
	}
	out, _ := p.Marshal()
	if !strings.Contains(string(out), "mem_limit: '268435456'\n") {
		t.Errorf("int limit not written as a string:\n%s", out)
	}
}

func TestProcConfigWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "proc.yaml")
	p, err := schema.ParseProcConfig("proc.yaml", readShared(t, "original_proc.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := p.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v, want 0600", fi.Mode().Perm())
	}
	back, err := schema.LoadProcConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p, back) {
		t.Errorf("read back differs")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%d entries in the directory, want 1", len(entries))
	}
	// Writing into a missing directory fails cleanly.
	if err := p.WriteFile(filepath.Join(dir, "missing", "proc.yaml")); err == nil {
		t.Errorf("WriteFile into a missing directory succeeded")
	}
}

func TestProcConfigMarshalRefusesUnwritable(t *testing.T) {
	for _, p := range []*schema.ProcConfig{
		{ProcName: "web", Settings: map[string]any{"x": make(chan int)}},
		{ProcName: "web", Settings: map[string]any{"x": "\xff"}},
		{ProcName: "web", Env: map[string]string{"X": "\xff"}},
		{ProcName: "web", Settings: map[string]any{"x": []byte("a")}},
	} {
		if out, err := p.Marshal(); err == nil {
			t.Errorf("Marshal(%#v) succeeded:\n%s", p.Settings, out)
		}
	}
}

func TestProcConfigKeys(t *testing.T) {
	want := []string{"app_folder", "app_name", "app_repo_type", "app_repo_url", "build_md5", "build_url",
		"buildpack_url", "buildpack_version", "cmd", "config_name", "env", "group", "host", "image_md5",
		"image_name", "image_url", "mem_limit", "memsw_limit", "port", "proc_name", "release_hash", "settings",
		"user", "version", "volumes"}
	if got := schema.ProcConfigKeys(); !reflect.DeepEqual(got, want) {
		t.Errorf("ProcConfigKeys = %q", got)
	}
	// Marshal writes exactly these keys.
	out, _ := (&schema.ProcConfig{ProcName: "web"}).Marshal()
	var keys []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if !strings.HasPrefix(line, " ") && !strings.HasPrefix(line, "-") {
			k, _, _ := strings.Cut(line, ":")
			keys = append(keys, k)
		}
	}
	if !reflect.DeepEqual(keys, want) {
		t.Errorf("written keys = %q", keys)
	}
}
