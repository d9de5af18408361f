package buildpack_test

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/vr-paas/vr/pkg/buildpack"
)

func TestSlugignoreMatch(t *testing.T) {
	si := buildpack.ParseSlugignore([]byte(strings.Join([]string{
		"# comment",
		"",
		"*.psd",
		"/tmp",
		"docs/",
		"spec/fixtures",
		"**/cache/*.bin",
		"logs/**",
		"a?c.txt   ",
		`trailing\ `,
		`\#hash`,
		"!keep.psd",
		"[abc",
		"/",
	}, "\n")))
	cases := []struct {
		rel   string
		isDir bool
		want  bool
	}{
		{"design.psd", false, true},
		{"assets/img/design.psd", false, true},
		{"design.psd.txt", false, false},
		{"tmp", true, true},
		{"tmp", false, true},
		{"src/tmp", true, false}, // anchored
		{"docs", true, true},
		{"docs", false, false}, // dir-only
		{"lib/docs", true, true},
		{"spec/fixtures", true, true},
		{"x/spec/fixtures", true, false},
		{"cache/x.bin", false, true},
		{"a/b/cache/x.bin", false, true},
		{"a/b/cache/x.txt", false, false},
		{"logs/a/b.log", false, true},
		{"logs", true, false},
		{"abc.txt", false, true},
		{"sub/axc.txt", false, true},
		{"trailing ", false, true},
		{"#hash", false, true},
		{"keep.psd", false, true}, // negation is not supported: still matched by *.psd
		{"README.md", false, false},
	}
	for _, tc := range cases {
		if got := si.Match(tc.rel, tc.isDir); got != tc.want {
			t.Errorf("Match(%q, dir=%v) = %v, want %v", tc.rel, tc.isDir, got, tc.want)
		}
	}
	warnings := strings.Join(si.Warnings, "\n")
	for _, w := range []string{`.slugignore:12: "!keep.psd": negation (!) is not supported`, `.slugignore:13: "[abc" is not a valid pattern`, `.slugignore:14: "/" matches nothing`} {
		if !strings.Contains(warnings, w) {
			t.Errorf("warnings lack %q:\n%s", w, warnings)
		}
	}
	// A blank line matches nothing (the original deleted the whole app).
	if s := buildpack.ParseSlugignore([]byte("\n\n")); len(s.Patterns) != 0 || s.Match("x", false) {
		t.Errorf("blank lines: %+v", s)
	}
}

func TestSlugignoreApply(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"keep.txt", "big.psd", "docs/a.md", "docs/sub/b.md", "src/x.go", "src/deep/z.psd", "vendor/docs/c.md"} {
		p := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "victim.psd"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".slugignore"), []byte("*.psd\ndocs/\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	si, err := buildpack.ReadSlugignore(dir)
	if err != nil {
		t.Fatal(err)
	}
	removed, err := si.Apply(dir)
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(removed)
	if got := strings.Join(removed, " "); got != "big.psd docs src/deep/z.psd vendor/docs" {
		t.Errorf("removed %s", got)
	}
	var left []string
	_ = filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		rel, _ := filepath.Rel(dir, p)
		if !fi.IsDir() {
			left = append(left, rel)
		}
		return nil
	})
	sort.Strings(left)
	if got := strings.Join(left, " "); got != ".slugignore keep.txt link src/x.go" {
		t.Errorf("left %s", got)
	}
	if _, err := os.Stat(filepath.Join(outside, "victim.psd")); err != nil {
		t.Errorf("a file behind a symlink was removed: %v", err)
	}
	// A .slugignore that is a symlink (to a host file) is not followed.
	d2 := t.TempDir()
	if err := os.Symlink(filepath.Join(dir, "keep.txt"), filepath.Join(d2, ".slugignore")); err != nil {
		t.Fatal(err)
	}
	if si, err := buildpack.ReadSlugignore(d2); err != nil || len(si.Patterns) != 0 || len(si.Warnings) != 1 {
		t.Errorf("symlinked .slugignore: %+v %v", si, err)
	}
	// No .slugignore: nothing to do.
	si, err = buildpack.ReadSlugignore(t.TempDir())
	if err != nil || len(si.Patterns) != 0 {
		t.Errorf("missing file: %+v %v", si, err)
	}
}
