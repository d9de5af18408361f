package runner_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vr-paas/vr/pkg/container"
	"github.com/vr-paas/vr/pkg/runner"
	"github.com/vr-paas/vr/pkg/schema"
)

// tricky values that the original's env.sh (export K="V", no escaping) broke or expanded.
var trickyEnv = map[string]string{
	"PLAIN":    "hello world",
	"QUOTES":   `say "hi" and 'bye'`,
	"DOLLAR":   "cost $5 and ${HOME} and $(id) and `id`",
	"BACKS":    `a\b\\c\n`,
	"NEWLINE":  "line1\nline2",
	"EMPTY":    "",
	"FROMHOST": "$VR_TEST_HOST_VALUE",
	"UNSET":    "$VR_TEST_SURELY_UNSET",
	"PERCENT":  "100% %s",
	"BCRYPT":   "$2a$10$N9qo8uLOickgx2ZMRZoMye",
	"NOTNAME":  "$5 off",
	"UNICODE":  "héllo ✓",
}

func TestEnvShQuotesEveryValue(t *testing.T) {
	getenv := func(k string) string {
		if k == "VR_TEST_HOST_VALUE" {
			return "from the host's env"
		}
		return ""
	}
	data := runner.EnvSh(trickyEnv, getenv)
	f := filepath.Join(t.TempDir(), "env.sh")
	if err := os.WriteFile(f, data, 0o644); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for k, v := range trickyEnv {
		want[k] = v
	}
	want["FROMHOST"] = "from the host's env"
	want["UNSET"] = ""
	for _, sh := range []string{"/bin/sh", "/bin/busybox sh", "/bin/bash"} {
		argv := strings.Fields(sh)
		if _, err := os.Stat(argv[0]); err != nil {
			continue
		}
		for k, v := range want {
			argv := append(argv, "-c", `. "$1"; printf %s "$(eval printf %s \"\$$2\")"`, "sh", f, k)
			out, err := exec.Command(argv[0], argv[1:]...).Output()
			if err != nil {
				t.Fatalf("%s: source env.sh: %v\n%s", sh, err, data)
			}
			// $(...) strips trailing newlines; none of the values end with one.
			if string(out) != v {
				t.Errorf("%s: %s = %q, want %q", sh, k, out, v)
			}
		}
	}
	if !strings.Contains(string(data), "export DOLLAR='cost $5 and ${HOME} and $(id) and `id`'\n") {
		t.Errorf("env.sh:\n%s", data)
	}
}

func TestProcShCommandForms(t *testing.T) {
	cases := []struct {
		cmd  string
		want string // the line of proc.sh that runs it
	}{
		{"python app.py --port $PORT", "\texec python app.py --port $PORT\n"},
		{"busybox httpd -f -p $PORT -h /app/public", "\texec busybox httpd -f -p $PORT -h /app/public\n"},
		{"./bin/web > /tmp/log 2>&1", "\texec ./bin/web > /tmp/log 2>&1\n"},
		{"cd sub && exec ./web", "\texec /bin/sh -c 'cd sub && exec ./web'\n"},
		{"a; b", "\texec /bin/sh -c 'a; b'\n"},
		{"FOO=1 ./web", "\texec /bin/sh -c 'FOO=1 ./web'\n"},
		{"source venv/bin/activate", "\texec /bin/sh -c 'source venv/bin/activate'\n"},
		{"echo 'it''s'", "\texec echo 'it''s'\n"},
		{"sh -c 'echo \"$PORT\" | cat'", "\texec /bin/sh -c 'sh -c '\\''echo \"$PORT\" | cat'\\'''\n"},
	}
	for _, tc := range cases {
		sh := string(runner.ProcSh("/bin/sh", tc.cmd, 5000))
		if !strings.Contains(sh, tc.want) {
			t.Errorf("cmd %q: proc.sh lacks %q:\n%s", tc.cmd, tc.want, sh)
		}
		if !strings.HasPrefix(sh, "#!/bin/sh\n") || !strings.Contains(sh, "export PORT=5000\n") || !strings.HasSuffix(sh, "fi\nexec \"$@\"\n") {
			t.Errorf("proc.sh:\n%s", sh)
		}
		// It is valid sh.
		f := filepath.Join(t.TempDir(), "proc.sh")
		if err := os.WriteFile(f, []byte(sh), 0o755); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command("/bin/sh", "-n", f).CombinedOutput(); err != nil {
			t.Errorf("cmd %q: sh -n: %v %s", tc.cmd, err, out)
		}
	}
	if sh := string(runner.ProcSh("/bin/bash", "x", 0)); strings.Contains(sh, "PORT") || !strings.HasPrefix(sh, "#!/bin/bash\n") {
		t.Errorf("port 0 or shell:\n%s", sh)
	}
}

func TestSettingsYAML(t *testing.T) {
	if b, err := runner.SettingsYAML(nil); err != nil || string(b) != "{}\n" {
		t.Errorf("empty: %q %v", b, err)
	}
	b, err := runner.SettingsYAML(map[string]any{"b": 1, "a": map[string]any{"x": []any{"y", true}}, "greeting": "@How's it going?"})
	if err != nil {
		t.Fatal(err)
	}
	want := "a:\n  x:\n    - \"y\"\n    - true\nb: 1\ngreeting: '@How''s it going?'\n"
	if string(b) != want {
		t.Errorf("got\n%s\nwant\n%s", b, want)
	}
}

func TestContainerName(t *testing.T) {
	n := schema.ProcName{App: "myapp", Version: "v1", Config: "prod", Hash: "abcd1234", Proc: "web", Port: 5000}
	if got := runner.ContainerName(n); got != "myapp-v1-prod-abcd1234-web-5000" {
		t.Errorf("plain: %q", got)
	}
	odd := n
	odd.App = "my+app@é"
	got := runner.ContainerName(odd)
	if err := container.ValidateName(got); err != nil || !strings.HasPrefix(got, "my_app__-v1-prod-abcd1234-web-5000.") {
		t.Errorf("odd: %q %v", got, err)
	}
	odd2 := odd
	odd2.App = "my+app@è"
	if runner.ContainerName(odd2) == got {
		t.Error("distinct procs share a container name")
	}
	long := n
	long.Version = strings.Repeat("v", 300)
	if got := runner.ContainerName(long); len(got) > 180 || container.ValidateName(got) != nil {
		t.Errorf("long: %d bytes, %q", len(got), got)
	}
}

func TestLookupOwnerAndResolveIn(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"usr/etc", "usr/bin"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// etc is an absolute symlink inside the root: it must resolve inside it, not on the host.
	if err := os.Symlink("/usr/etc", filepath.Join(root, "etc")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("usr/bin", filepath.Join(root, "bin")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "usr/etc/passwd"), []byte("root:x:0:0::/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\nweb:x:1234:2345::/app:/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "usr/etc/group"), []byte("root:x:0:\nnogroup:x:65534:\nstaff:x:50:\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := runner.ResolveIn(root, "/etc/passwd"); got != filepath.Join(root, "usr/etc/passwd") {
		t.Errorf("ResolveIn = %s", got)
	}
	if got := runner.ResolveIn(root, "/bin/../../../etc/group"); got != filepath.Join(root, "usr/etc/group") {
		t.Errorf("ResolveIn with .. = %s", got)
	}
	cases := []struct {
		user, group string
		uid, gid    int
		errKey      string
	}{
		{"", "", 65534, 65534, ""},
		{"web", "", 1234, 2345, ""},
		{"web", "staff", 1234, 50, ""},
		{"web", "nogroup", 1234, 65534, ""},
		{"4321", "99", 4321, 99, ""},
		{"nosuch", "", 0, 0, "user"},
		{"web", "nosuch", 0, 0, "group"},
	}
	for _, tc := range cases {
		o, err := runner.LookupOwner(root, tc.user, tc.group)
		if tc.errKey != "" {
			se, ok := err.(*schema.Error)
			if !ok || se.Key != tc.errKey || !strings.Contains(se.Msg, root) {
				t.Errorf("%q/%q: error %v, want a schema error about %s naming the file", tc.user, tc.group, err, tc.errKey)
			}
			continue
		}
		if err != nil || o.UID != tc.uid || o.GID != tc.gid {
			t.Errorf("%q/%q: %+v %v; want %d:%d", tc.user, tc.group, o, err, tc.uid, tc.gid)
		}
	}
}

// TestResolveInLongSymlinkChain: a chain of more links than ResolveIn follows must not give a
// host path that still holds a link (here, to a host file outside the root).
func TestResolveInLongSymlinkChain(t *testing.T) {
	root := t.TempDir()
	secret := filepath.Join(t.TempDir(), "passwd")
	if err := os.WriteFile(secret, []byte("web:x:0:0::/:/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	const n = 45
	for i := 0; i < n; i++ {
		if err := os.Symlink(fmt.Sprintf("l%d", i+1), filepath.Join(root, "etc", fmt.Sprintf("l%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(secret, filepath.Join(root, "etc", fmt.Sprintf("l%d", n))); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("l0", filepath.Join(root, "etc", "passwd")); err != nil {
		t.Fatal(err)
	}
	got := runner.ResolveIn(root, "/etc/passwd")
	if data, err := os.ReadFile(got); err == nil {
		t.Errorf("ResolveIn = %s, which reads %q (a file outside the root)", got, data)
	}
	if o, err := runner.LookupOwner(root, "web", ""); err == nil {
		t.Errorf("LookupOwner found %+v through a host file", o)
	}
}
