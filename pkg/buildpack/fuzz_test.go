package buildpack_test

import (
	"strings"
	"testing"
	"time"

	"github.com/vr-paas/vr/pkg/buildpack"
	"github.com/vr-paas/vr/pkg/schema"
)

// FuzzSlugignore feeds arbitrary .slugignore files and paths: no panic, no slow match, and
// a plain name always matches itself.
func FuzzSlugignore(f *testing.F) {
	f.Add("*.psd\ndocs/\n/tmp\n**/cache/**\n!x\n", "a/b/cache/c")
	f.Add(strings.Repeat("**/", 40)+"a", strings.Repeat("a/", 60)+"b")
	f.Add("[abc\n\\#x\ny\\ \n", "#x")
	f.Fuzz(func(t *testing.T, data, rel string) {
		si := buildpack.ParseSlugignore([]byte(data))
		start := time.Now()
		si.Match(rel, true)
		si.Match(rel, false)
		if d := time.Since(start); d > time.Second {
			t.Fatalf("Match took %s", d)
		}
		name := strings.TrimSpace(rel)
		if name != "" && !strings.ContainsAny(name, "/*?[]\\!# \t\r\n") {
			if !buildpack.ParseSlugignore([]byte(name)).Match(name, false) {
				t.Errorf("%q does not match itself", name)
			}
		}
	})
}

// FuzzParseRelease feeds arbitrary bin/release output: no panic, and what is accepted can be
// written to build_result.yaml.
func FuzzParseRelease(f *testing.F) {
	f.Add("---\naddons: []\nconfig_vars: {PATH: /bin}\ndefault_process_types:\n  web: run $PORT\n")
	f.Add("a: &x [1, 2]\nb: *x\nc: yes\nd: 0777\ne: 1e3\n")
	f.Add("- list\n")
	f.Fuzz(func(t *testing.T, data string) {
		rd, err := buildpack.ParseRelease("release", []byte(data))
		if err != nil || rd == nil {
			return
		}
		j := schema.BuildJob{AppName: "a", AppRepoURL: "u", AppRepoType: "git", Version: "v", BuildpackURL: "b", ReleaseData: rd}
		if _, err := j.Marshal(); err != nil {
			t.Errorf("accepted release %q cannot be written: %v", data, err)
		}
	})
}
