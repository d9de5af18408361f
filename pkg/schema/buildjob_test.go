package schema_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/vr-paas/vr/pkg/schema"
)

const shared = "../../testdata/schema/"

func readShared(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(shared + name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// The two build files of the manual.
func TestBuildJobDocumentedExamples(t *testing.T) {
	urls := []string{
		"https://github.com/heroku/heroku-buildpack-nodejs.git",
		"https://github.com/heroku/heroku-buildpack-scala.git",
		"https://github.com/yougov/yg-buildpack-python2.git",
	}
	tests := []struct {
		file string
		want schema.BuildJob
	}{
		{"doc_app_buildpack_urls.yaml", schema.BuildJob{AppName: "vr_python_example", AppRepoType: "hg",
			AppRepoURL: "https://github.com/btubbs/vr_python_example", BuildpackURLs: urls, Version: "v3"}},
		{"doc_app_buildpack_url.yaml", schema.BuildJob{AppName: "vr_python_example", AppRepoType: "hg",
			AppRepoURL: "https://github.com/btubbs/vr_python_example", BuildpackURL: urls[2], Version: "v3"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			j, err := schema.LoadBuildJob(shared + tt.file)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*j, tt.want) {
				t.Errorf("got %+v\nwant %+v", *j, tt.want)
			}
			// Round trip: written with all keys, read back the same.
			out, err := j.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			j2, err := schema.ParseBuildJob("out.yaml", out)
			if err != nil {
				t.Fatalf("re-parse: %v\n%s", err, out)
			}
			if !reflect.DeepEqual(j, j2) {
				t.Errorf("round trip changed the job:\n%+v\n%+v", j, j2)
			}
			// The written file holds the original's lines as they were (same PyYAML layout).
			for _, line := range strings.Split(strings.TrimSpace(string(readShared(t, tt.file))), "\n") {
				if !strings.Contains(string(out), line+"\n") {
					t.Errorf("output lacks line %q:\n%s", line, out)
				}
			}
		})
	}
}

// A build_result.yaml as the original's BuildData.as_yaml wrote it parses, and vr writes the
// same twelve keys byte for byte, plus app_revision and env.
func TestBuildResultOriginal(t *testing.T) {
	data := readShared(t, "original_build_result.yaml")
	j, err := schema.ParseBuildJob("build_result.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"addons":                []any{},
		"config_vars":           map[string]any{"PATH": "/app/.heroku/python/bin:/usr/local/bin:/usr/bin:/bin", "PYTHONUNBUFFERED": true},
		"default_process_types": map[string]any{"web": "python app.py"},
	}
	if !reflect.DeepEqual(j.ReleaseData, want) {
		t.Errorf("release_data = %#v", j.ReleaseData)
	}
	if j.BuildMD5 != "0cc175b9c0f1b6a831c399e269772661" || j.BuildpackVersion != "3a5b0d3f6a1c3c1e2b3c4d5e6f708192a3b4c5d6" {
		t.Errorf("outputs not read: %+v", j)
	}
	out, err := j.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, line := range strings.SplitAfter(string(out), "\n") {
		if line != "app_revision: null\n" && line != "env: {}\n" {
			kept = append(kept, line)
		}
	}
	if got := strings.Join(kept, ""); got != string(data) {
		t.Errorf("written build_result differs from the original's:\n%s\nwant\n%s", got, data)
	}
	if !strings.Contains(string(out), "app_revision: null\n") || !strings.Contains(string(out), "env: {}\n") {
		t.Errorf("app_revision or env missing:\n%s", out)
	}
}

func TestBuildResultWithVRKeys(t *testing.T) {
	j := &schema.BuildJob{
		AppName: "app", AppRepoURL: "https://example.com/app.git", AppRepoType: "git", Version: "9.0",
		BuildpackURLs: []string{"https://example.com/bp.git#abc"},
		Env:           map[string]string{"B": "2", "A": "yes"},
		AppRevision:   "0123456789abcdef0123456789abcdef01234567",
		BuildMD5:      "0CC175B9C0F1B6A831C399E269772661",
		ReleaseData:   map[string]any{},
	}
	out, err := j.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	want := `app_name: app
app_repo_type: git
app_repo_url: https://example.com/app.git
app_revision: 0123456789abcdef0123456789abcdef01234567
build_md5: 0CC175B9C0F1B6A831C399E269772661
buildpack_url: null
buildpack_urls:
- https://example.com/bp.git#abc
buildpack_version: null
env:
  A: 'yes'
  B: '2'
image_md5: null
image_name: null
image_url: null
release_data: {}
version: '9.0'
`
	if string(out) != want {
		t.Errorf("Marshal:\n%s\nwant\n%s", out, want)
	}
	j2, err := schema.ParseBuildJob("r.yaml", out)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(j, j2) {
		t.Errorf("round trip: %+v\n%+v", j, j2)
	}
}

func TestBuildJobSingleStringBuildpackURLs(t *testing.T) {
	j, err := schema.ParseBuildJob("app.yaml", []byte("app_name: a\napp_repo_url: u\napp_repo_type: git\nversion: v1\nbuildpack_urls: https://x/bp.git\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(j.BuildpackURLs, []string{"https://x/bp.git"}) {
		t.Errorf("BuildpackURLs = %q", j.BuildpackURLs)
	}
}

func TestParseBuildJobErrors(t *testing.T) {
	const base = "app_name: a\napp_repo_url: https://x/a\napp_repo_type: git\nbuildpack_url: https://x/bp\n"
	tests := []struct {
		name, data, want string
	}{
		{"float version", base + "version: 9.0\n", `app.yaml:5: key "version": got a float (9.0); quote it: version: "9.0"`},
		{"int version", base + "version: 12\n", `app.yaml:5: key "version": got an int (12); quote it: version: "12"`},
		{"yaml 1.1 bool version", base + "version: on\n", `app.yaml:5: key "version": got on, which YAML 1.1 (the original's parser) reads as a bool; quote it: version: "on"`},
		{"yaml 1.2 octal", base + "version: 0o17\n", `app.yaml:5: key "version": got an int (0o17); quote it: version: "0o17"`},
		{"date version", base + "version: 2013-05-01\n", `app.yaml:5: key "version": got a timestamp (2013-05-01); quote it: version: "2013-05-01"`},
		{"list version", base + "version: [1]\n", `app.yaml:5: key "version": got a list; expected a string`},
		{"typo", base + "version: v1\nbuildpack_ulrs: []\n", `app.yaml:6: key "buildpack_ulrs": unknown key; did you mean "buildpack_urls"? (known keys: app_name, app_repo_type, app_repo_url, app_revision, build_md5, buildpack_url, buildpack_urls, buildpack_version, env, image_md5, image_name, image_url, release_data, version)`},
		{"missing version", base, `app.yaml: key "version": required key is missing or empty`},
		{"null version", base + "version:\n", `app.yaml:5: key "version": required key is missing or empty`},
		{"duplicate", base + "version: v1\nversion: v2\n", `app.yaml:6: key "version": appears twice (first on line 5)`},
		{"repo type", "app_name: a\napp_repo_url: u\napp_repo_type: svn\nbuildpack_url: b\nversion: v1\n", `app.yaml:3: key "app_repo_type": got "svn"; expected git or hg`},
		{"no buildpack", "app_name: a\napp_repo_url: u\napp_repo_type: git\nversion: v1\n", `app.yaml: key "buildpack_urls": must provide either buildpack_url or buildpack_urls`},
		{"empty buildpack list", "app_name: a\napp_repo_url: u\napp_repo_type: git\nversion: v1\nbuildpack_urls: []\n", `app.yaml:5: key "buildpack_urls": must provide either buildpack_url or buildpack_urls`},
		{"dash in app name", "app_name: my-app\napp_repo_url: u\napp_repo_type: git\nversion: v1\nbuildpack_url: b\n", `app.yaml:1: key "app_name": app name "my-app" contains "-"`},
		{"dash in version", base + "version: v1-rc1\n", `app.yaml:5: key "version": version "v1-rc1" contains "-"`},
		{"image without name", base + "version: v1\nimage_url: http://x/i.tar.gz\n", `app.yaml: key "image_name": required with image_url`},
		{"bad md5", base + "version: v1\nimage_md5: abc\n", `app.yaml:6: key "image_md5": "abc" is not an MD5 digest; expected 32 hex digits`},
		{"bad revision", base + "version: v1\napp_revision: HEAD\n", `app.yaml:6: key "app_revision": "HEAD" is not a revision`},
		{"env name", base + "version: v1\nenv:\n  1X: a\n", `app.yaml:6: key "env": variable name "1X": expected a letter`},
		{"env nested", base + "version: v1\nenv:\n  X: [a]\n", `app.yaml:7: key "env": value of "X": got a list; expected a string`},
		{"release data list", base + "version: v1\nrelease_data: [a]\n", `app.yaml:6: key "release_data": got a list; expected a mapping`},
		{"not a mapping", "- a\n- b\n", `app.yaml:1: expected a mapping of keys, got a list`},
		{"empty file", "", `app.yaml: the file is empty; expected a mapping of keys`},
		{"only comments", "# nothing\n", `app.yaml: the file is empty; expected a mapping of keys`},
		{"null document", "~\n", `app.yaml:1: the document is empty (null); expected a mapping of keys`},
		{"two documents", base + "version: v1\n---\na: 1\n", `app.yaml:6: more than one YAML document (---); expected exactly one`},
		{"syntax", "app_name: a\n  bad: [\n", `app.yaml:2: invalid YAML: mapping values are not allowed in this context`},
		{"merge key", "<<: {a: 1}\n", `app.yaml:1: merge keys (<<) are not supported; write the keys out`},
		{"tab indent", "app_name:\n\t- a\n", `app.yaml:2: invalid YAML: found character that cannot start any token`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := schema.ParseBuildJob("app.yaml", []byte(tt.data))
			if err == nil {
				t.Fatalf("no error; want %s", tt.want)
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error:\n  %s\nwant prefix:\n  %s", err, tt.want)
			}
			var se *schema.Error
			if !errors.As(err, &se) || !se.BadInput() {
				t.Errorf("error %T is not a *schema.Error", err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
		})
	}
}

func TestLoadBuildJobMissingFile(t *testing.T) {
	_, err := schema.LoadBuildJob(filepath.Join(t.TempDir(), "nope.yaml"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("err = %v, want fs.ErrNotExist in the chain", err)
	}
	var se *schema.Error
	if !errors.As(err, &se) || !strings.HasSuffix(se.Error(), "nope.yaml: cannot read: no such file or directory") {
		t.Errorf("err = %v", err)
	}
}

func TestBuildJobWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "build_result.yaml")
	j, err := schema.LoadBuildJob(shared + "doc_app_buildpack_urls.yaml")
	if err != nil {
		t.Fatal(err)
	}
	j.BuildMD5 = "0cc175b9c0f1b6a831c399e269772661"
	if err := j.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	back, err := schema.LoadBuildJob(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(j, back) {
		t.Errorf("written and read back: %+v\n%+v", j, back)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only build_result.yaml (no temporary files)", len(entries))
	}
	// An invalid job is not written.
	j.Version = "9-0"
	err = j.WriteFile(filepath.Join(dir, "bad.yaml"))
	if err == nil || !strings.Contains(err.Error(), `bad.yaml: key "version"`) {
		t.Errorf("WriteFile of an invalid job: %v", err)
	}
	if _, statErr := os.Stat(filepath.Join(dir, "bad.yaml")); !errors.Is(statErr, fs.ErrNotExist) {
		t.Errorf("an invalid job was written")
	}
}
