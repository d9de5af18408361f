package schema_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/vr-paas/vr/pkg/schema"
)

func TestProcNameRoundTrip(t *testing.T) {
	tests := []struct {
		s    string
		want schema.ProcName
	}{
		// The example of the original's tests and of the reference's Appendix B.
		{"node_example-v2-local-f96054b7-web-5003", schema.ProcName{"node_example", "v2", "local", "f96054b7", "web", 5003}},
		{"vr_python_example-v5-prod-f9ab779c-web-5123", schema.ProcName{"vr_python_example", "v5", "prod", "f9ab779c", "web", 5123}},
		{"app-1.2.3-prod-00000000-worker-0", schema.ProcName{"app", "1.2.3", "prod", "00000000", "worker", 0}},
		{"app-v1-prod-abcdef12-web-65535", schema.ProcName{"app", "v1", "prod", "abcdef12", "web", 65535}},
	}
	for _, tt := range tests {
		got, err := schema.ParseProcName(tt.s)
		if err != nil {
			t.Errorf("ParseProcName(%q): %v", tt.s, err)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseProcName(%q) = %+v, want %+v", tt.s, got, tt.want)
		}
		if got.String() != tt.s {
			t.Errorf("String() = %q, want %q", got.String(), tt.s)
		}
		n, err := schema.NewProcName(tt.want.App, tt.want.Version, tt.want.Config, tt.want.Hash, tt.want.Proc, tt.want.Port)
		if err != nil || n != tt.want {
			t.Errorf("NewProcName(%+v) = %+v, %v", tt.want, n, err)
		}
	}
}

func TestNewProcNameRejects(t *testing.T) {
	tests := []struct {
		name    string
		n       schema.ProcName
		wantKey string
		wantMsg string
	}{
		{"dash in version", schema.ProcName{"app", "v1-rc1", "prod", "abcd1234", "web", 5000}, "version",
			`version "v1-rc1" contains "-", which separates the fields of proc names (app-version-config-hash-proc-port); use "_" or "." instead`},
		{"dash in app", schema.ProcName{"my-app", "v1", "prod", "abcd1234", "web", 5000}, "app_name", `app name "my-app" contains "-"`},
		{"dash in config", schema.ProcName{"app", "v1", "pr-od", "abcd1234", "web", 5000}, "config_name", `config name "pr-od" contains "-"`},
		{"dash in hash", schema.ProcName{"app", "v1", "prod", "ab-cd", "web", 5000}, "release_hash", `release hash "ab-cd" contains "-"`},
		{"dash in proc", schema.ProcName{"app", "v1", "prod", "abcd1234", "my-worker", 5000}, "proc_name", `proc name "my-worker" contains "-"`},
		{"empty hash", schema.ProcName{"app", "v1", "build", "", "build", 0}, "release_hash", "release hash must not be empty"},
		{"empty app", schema.ProcName{"", "v1", "prod", "abcd1234", "web", 1}, "app_name", "app name must not be empty"},
		{"space", schema.ProcName{"my app", "v1", "prod", "abcd1234", "web", 1}, "app_name", "whitespace"},
		{"slash in proc", schema.ProcName{"app", "v1", "prod", "abcd1234", "a/b", 1}, "proc_name", `contains "/"`},
		{"slash in version (tag rule)", schema.ProcName{"app", "gittag/v1", "prod", "abcd1234", "web", 1}, "version", `invalid tag name "gittag/v1"`},
		{"colon", schema.ProcName{"app", "v1", "a:b", "abcd1234", "web", 1}, "config_name", `contains ":"`},
		{"dotdot", schema.ProcName{"..", "v1", "prod", "abcd1234", "web", 1}, "app_name", `must not be ".."`},
		{"port high", schema.ProcName{"app", "v1", "prod", "abcd1234", "web", 65536}, "port", "65536 is out of range; expected 0..65535"},
		{"port negative", schema.ProcName{"app", "v1", "prod", "abcd1234", "web", -1}, "port", "out of range"},
		{"long app", schema.ProcName{strings.Repeat("a", 51), "v1", "prod", "abcd1234", "web", 1}, "app_name", "at most 50"},
		// The proc name is the container name: [A-Za-z0-9][A-Za-z0-9_.-]*, at most container.MaxNameLen bytes.
		{"plus in version", schema.ProcName{"app", "v1+build", "prod", "abcd1234", "web", 1}, "version",
			`version "v1+build" contains '+'; the proc name is the container name, so use only ASCII letters, digits, "_" and "."`},
		{"accent in version", schema.ProcName{"app", "café", "prod", "abcd1234", "web", 1}, "version", `version "café" contains 'é'`},
		{"at in version", schema.ProcName{"app", "v@1", "prod", "abcd1234", "web", 1}, "version", `version "v@1" contains '@'`},
		{"accent in app", schema.ProcName{"appé", "v1", "prod", "abcd1234", "web", 1}, "app_name", `app name "appé" contains 'é'`},
		{"app starts with underscore", schema.ProcName{"_app", "v1", "prod", "abcd1234", "web", 1}, "app_name",
			`app name "_app" starts with '_'; it begins the container name, which must start with a letter or digit`},
		{"app starts with dot", schema.ProcName{".app", "v1", "prod", "abcd1234", "web", 1}, "app_name", `starts with '.'`},
		{"bang in config", schema.ProcName{"app", "v1", "prod!", "abcd1234", "web", 1}, "config_name", `config name "prod!" contains '!'`},
		{"percent in hash", schema.ProcName{"app", "v1", "prod", "ab%cd", "web", 1}, "release_hash", `release hash "ab%cd" contains '%'`},
		{"plus in proc", schema.ProcName{"app", "v1", "prod", "abcd1234", "web+1", 1}, "proc_name", `proc name "web+1" contains '+'`},
		{"emoji in proc", schema.ProcName{"app", "v1", "prod", "abcd1234", "w😀", 1}, "proc_name", `contains '😀'`},
		{"too long, proc longest", schema.ProcName{"app", "v1", "prod", "abcd1234", strings.Repeat("w", 200), 5000}, "proc_name",
			"is 226 bytes long; at most 200, since it is the container name; shorten the proc name (200 bytes)"},
		{"too long, version longest", schema.ProcName{"app", strings.Repeat("v", 100), "prod", "abcd1234", strings.Repeat("w", 90), 5000}, "version",
			"shorten the version (100 bytes)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := schema.NewProcName(tt.n.App, tt.n.Version, tt.n.Config, tt.n.Hash, tt.n.Proc, tt.n.Port)
			var se *schema.Error
			if !errors.As(err, &se) {
				t.Fatalf("err = %v, want *schema.Error", err)
			}
			if se.Key != tt.wantKey || !strings.Contains(se.Msg, tt.wantMsg) {
				t.Errorf("err = key %q msg %q; want key %q msg containing %q", se.Key, se.Msg, tt.wantKey, tt.wantMsg)
			}
		})
	}
}

func TestValidateVersionServerTagRules(t *testing.T) {
	// The tags the original server's test_views.py refuses, plus vr's "-".
	for _, tag := range []string{"gittag/v1", "my:tag", "^tag", "~other:tag", "tag?other*tag\\tag", "a tag", "a\x00b", "a\rb", "a\nb", "a[b", "v1-rc1", "",
		// Not container-name characters (the version is part of the container name).
		"v1+build.5", "café", "v@1", "v1,2", "v=1", "v'1", "v\u00a01"} {
		if err := schema.ValidateVersion(tag); err == nil {
			t.Errorf("ValidateVersion(%q) = nil, want an error", tag)
		}
	}
	for _, tag := range []string{"v1", "9.0", "1.2.3", "release_2013_05", "3a5b0d3f6a1c", "v1_build.5", "tip", ".hidden", "_x", "V1.0.RC1"} {
		if err := schema.ValidateVersion(tag); err != nil {
			t.Errorf("ValidateVersion(%q) = %v, want nil", tag, err)
		}
	}
}

func TestParseProcNameRejects(t *testing.T) {
	tests := []struct{ s, want string }{
		{"app-v1-prod-abcd1234-web", `proc name "app-v1-prod-abcd1234-web" has 5 "-"-separated fields; expected 6: app-version-config-hash-proc-port`},
		{"app-v1-rc1-prod-abcd1234-web-5000", `has 7 "-"-separated fields`},
		{"app-v1-prod-abcd1234-web-05000", `port "05000" is not a decimal number without leading zeros`},
		{"app-v1-prod-abcd1234-web-+5", `port "+5"`},
		{"app-v1-prod-abcd1234-web-99999", `key "port": proc name "app-v1-prod-abcd1234-web-99999": 99999 is out of range`},
		{"app-v1-build--build-0", `key "release_hash": proc name "app-v1-build--build-0": release hash must not be empty`},
		{"supervisord", `has 1 "-"-separated fields`},
	}
	for _, tt := range tests {
		_, err := schema.ParseProcName(tt.s)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseProcName(%q) error = %v, want containing %q", tt.s, err, tt.want)
		}
		var bi interface{ BadInput() bool }
		if err != nil && (!errors.As(err, &bi) || !bi.BadInput()) {
			t.Errorf("ParseProcName(%q) error does not report BadInput", tt.s)
		}
	}
}

func TestParseProcNameLenient(t *testing.T) {
	unknown := func(s string) schema.ProcName {
		return schema.ProcName{App: s, Version: schema.Unknown, Config: schema.Unknown, Hash: schema.Unknown, Proc: s}
	}
	tests := []struct {
		s    string
		want schema.ProcName
	}{
		{"node_example-v2-local-f96054b7-web-5003", schema.ProcName{"node_example", "v2", "local", "f96054b7", "web", 5003}},
		// The original's build containers: empty hash field, port 0.
		{"vr_python_example-v5-build--build-0", schema.ProcName{"vr_python_example", "v5", "build", "", "build", 0}},
		{"app-v1-prod-abcd-web-0005", schema.ProcName{"app", "v1", "prod", "abcd", "web", 5}},
		{"supervisord", unknown("supervisord")},
		{"app-v1-rc1-prod-abcd1234-web-5000", unknown("app-v1-rc1-prod-abcd1234-web-5000")},
		{"app-v1-prod-abcd1234-web-http", unknown("app-v1-prod-abcd1234-web-http")},
		{"app-v1-prod-abcd1234-web-", unknown("app-v1-prod-abcd1234-web-")},
		{"", unknown("")},
	}
	for _, tt := range tests {
		if got := schema.ParseProcNameLenient(tt.s); got != tt.want {
			t.Errorf("ParseProcNameLenient(%q) = %+v, want %+v", tt.s, got, tt.want)
		}
	}
}

func TestSwarmName(t *testing.T) {
	got, err := schema.SwarmName("vr_python_example", "prod", "web")
	if err != nil || got != "vr_python_example-prod-web" {
		t.Errorf("SwarmName = %q, %v; want vr_python_example-prod-web", got, err)
	}
	if _, err := schema.SwarmName("app", "eu-west", "web"); err == nil || !strings.Contains(err.Error(), `key "config_name"`) {
		t.Errorf("SwarmName with a dash in config: err = %v", err)
	}
	app, cfg, proc, err := schema.ParseSwarmName("vr_python_example-prod-web")
	if err != nil || app != "vr_python_example" || cfg != "prod" || proc != "web" {
		t.Errorf("ParseSwarmName = %q %q %q %v", app, cfg, proc, err)
	}
	if _, _, _, err := schema.ParseSwarmName("a-b"); err == nil {
		t.Errorf("ParseSwarmName(a-b) succeeded")
	}
	n := schema.ProcName{"vr_python_example", "v5", "prod", "f9ab779c", "web", 5123}
	if n.SwarmName() != "vr_python_example-prod-web" || n.ShortName() != "vr_python_example-v5-web" {
		t.Errorf("SwarmName/ShortName = %q %q", n.SwarmName(), n.ShortName())
	}
}
