package schema_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"unicode/utf8"

	"github.com/vr-paas/vr/pkg/container"
	"github.com/vr-paas/vr/pkg/schema"
)

// The fuzzers check that no parser panics, and that whatever a parser accepts, its writer
// writes and the parser reads back to the same document (parse → marshal → parse → marshal
// gives the same bytes twice).

func addSharedSeeds(f *testing.F, names ...string) {
	for _, n := range names {
		data, err := os.ReadFile(filepath.Join(shared, n))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
}

var yamlSeeds = []string{
	"", "~\n", "- a\n", "a: [\n", "<<: {a: 1}\n", "a: &x 1\nb: *x\n", "a: 1\n---\nb: 2\n",
	"proc_name: web\nsettings:\n  a: &a [1,1]\n  b: [*a,*a]\n",
	"proc_name: web\nsettings: {a: yes, b: 0x1F, c: 1:20, d: 2001-12-14, e: .nan, f: !!str 1}\n",
	"proc: web\nport: 0\nenv: {A: 1, B: null, C: yes}\nvolumes: [[/a, /b]]\nmem_limit: 1024\n",
	"version: 9.0\n", "app_name: a\napp_repo_url: u\napp_repo_type: git\nversion: v1\nbuildpack_urls: x\n",
}

func FuzzParseProcConfig(f *testing.F) {
	addSharedSeeds(f, "original_proc.yaml", "original_buildproc.yaml", "doc_proc_image.yaml")
	for _, s := range yamlSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _, _ = schema.ParseProcConfigLenient("proc.yaml", data)
		p, err := schema.ParseProcConfig("proc.yaml", data)
		if err != nil {
			return
		}
		out, err := p.Marshal()
		if err != nil {
			t.Fatalf("accepted but cannot write: %v", err)
		}
		p2, err := schema.ParseProcConfig("proc.yaml", out)
		if err != nil {
			t.Fatalf("cannot read back what was written: %v\n%s", err, out)
		}
		out2, err := p2.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, out2) {
			t.Fatalf("not stable:\n%s\n---\n%s", out, out2)
		}
	})
}

func FuzzParseBuildJob(f *testing.F) {
	addSharedSeeds(f, "original_build_result.yaml", "doc_app_buildpack_urls.yaml", "doc_app_buildpack_url.yaml")
	for _, s := range yamlSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		j, err := schema.ParseBuildJob("app.yaml", data)
		if err != nil {
			return
		}
		out, err := j.Marshal()
		if err != nil {
			t.Fatalf("accepted but cannot write: %v", err)
		}
		j2, err := schema.ParseBuildJob("app.yaml", out)
		if err != nil {
			t.Fatalf("cannot read back what was written: %v\n%s", err, out)
		}
		out2, err := j2.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, out2) {
			t.Fatalf("not stable:\n%s\n---\n%s", out, out2)
		}
	})
}

func FuzzParseImageSpec(f *testing.F) {
	addSharedSeeds(f, "doc_image.yaml")
	for _, s := range yamlSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := schema.ParseImageSpec("image.yaml", data)
		if err != nil {
			return
		}
		out, err := s.Marshal()
		if err != nil {
			t.Fatalf("accepted but cannot write: %v", err)
		}
		s2, err := schema.ParseImageSpec("image.yaml", out)
		if err != nil {
			t.Fatalf("cannot read back what was written: %v\n%s", err, out)
		}
		out2, err := s2.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, out2) {
			t.Fatalf("not stable:\n%s\n---\n%s", out, out2)
		}
	})
}

func FuzzParseProcfile(f *testing.F) {
	addSharedSeeds(f, "Procfile")
	for _, s := range []string{"web: a\n", "\ufeffweb: a\r\n", "web: \"a b\" # c\n", "web: 'it''s'\n",
		"web: \"a\\tb\"\n", "web: \"a\" b\n", "web:\n", "  web: a\n", "web: a\nweb: b\n", "w-1: x\n# c\n\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		pf, err := schema.ParseProcfile("Procfile", data)
		if err != nil {
			return
		}
		out, err := pf.Marshal()
		if err != nil {
			t.Fatalf("accepted but cannot write: %v", err)
		}
		back, err := schema.ParseProcfile("Procfile", out)
		if err != nil {
			t.Fatalf("cannot read back what was written: %v\n%q", err, out)
		}
		if len(back.Entries) != len(pf.Entries) {
			t.Fatalf("%d entries read back, %d written", len(back.Entries), len(pf.Entries))
		}
		for i, e := range back.Entries {
			if e.Name != pf.Entries[i].Name || e.Command != pf.Entries[i].Command {
				t.Fatalf("entry %d: wrote %q: %q, read back %q: %q (file %q)", i, pf.Entries[i].Name, pf.Entries[i].Command, e.Name, e.Command, out)
			}
		}
	})
}

func FuzzParseProcName(f *testing.F) {
	f.Add("node_example-v2-local-f96054b7-web-5003", "app", "v1", "prod", "abcd1234", "web", 5000)
	f.Add("vr_python_example-v5-build--build-0", "a", "1.0", "c", "h", "p", 0)
	f.Add("supervisord", "my-app", "v1", "prod", "h", "web", 70000)
	f.Add("a-b-c-d-e-05", "é", "v 1", "a:b", "", "x/y", -1)
	f.Add("app-v1+build-prod-h-web-1", "_app", "v1+build", "café", "v@1", ".", 65535)
	f.Fuzz(func(t *testing.T, s, app, version, config, hash, proc string, port int) {
		// Any string: no panic; what parses prints back the same, is a container name, and
		// the lenient parser agrees.
		if n, err := schema.ParseProcName(s); err == nil {
			if n.String() != s {
				t.Fatalf("ParseProcName(%q).String() = %q", s, n.String())
			}
			if err := container.ValidateName(s); err != nil {
				t.Fatalf("ParseProcName accepted %q, which is not a container name: %v", s, err)
			}
			if l := schema.ParseProcNameLenient(s); l != n {
				t.Fatalf("lenient %+v != strict %+v", l, n)
			}
		}
		l := schema.ParseProcNameLenient(s)
		if l.Version == schema.Unknown && l.Port != 0 {
			t.Fatalf("lenient fallback with port %d", l.Port)
		}
		// Valid fields: the name parses back to the same fields.
		n, err := schema.NewProcName(app, version, config, hash, proc, port)
		if err != nil {
			return
		}
		if err := container.ValidateName(n.String()); err != nil {
			t.Fatalf("NewProcName accepted %+v, but %q is not a container name: %v", n, n.String(), err)
		}
		back, err := schema.ParseProcName(n.String())
		if err != nil {
			t.Fatalf("NewProcName accepted %+v but ParseProcName(%q): %v", n, n.String(), err)
		}
		if back != n {
			t.Fatalf("round trip %+v -> %q -> %+v", n, n.String(), back)
		}
		if _, err := schema.SwarmName(app, config, proc); err != nil {
			t.Fatalf("SwarmName refused fields NewProcName accepted: %v", err)
		}
	})
}

func FuzzPyJSONString(f *testing.F) {
	for _, s := range []string{"", "a", "\u00a3", "😀", "\x7f", "\"\\/\b\f\n\r\t", "\u2028", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		j, err := schema.PyJSON(s)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < len(j); i++ {
			if j[i] < 0x20 || j[i] > 0x7e {
				t.Fatalf("PyJSON(%q) = %q is not printable ASCII", s, j)
			}
		}
		var back string
		if err := json.Unmarshal([]byte(j), &back); err != nil {
			t.Fatalf("PyJSON(%q) = %q is not JSON: %v", s, j, err)
		}
		if utf8.ValidString(s) && back != s {
			t.Fatalf("PyJSON(%q) = %q reads back as %q", s, j, back)
		}
	})
}

func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"256M", "1G", "1073741824", "1k", "8E", "7e", "9223372036854775807", "9223372036854775808",
		"16E", "0", "0M", "", "M", "-1", "+1", "1.5G", "1 G", "1MB", "0001K", "\u00b9M", "\xff"} {
		f.Add(s, int64(len(s)))
	}
	f.Add("1", int64(1)<<62)
	f.Add("1", int64(-1))
	f.Fuzz(func(t *testing.T, s string, n int64) {
		// Any string: no panic; what parses is positive and written by FormatSize in a form
		// that parses back to the same number and is written the same again.
		if v, err := schema.ParseSize(s); err == nil {
			if v <= 0 {
				t.Fatalf("ParseSize(%q) = %d", s, v)
			}
			out := schema.FormatSize(v)
			back, err := schema.ParseSize(out)
			if err != nil || back != v {
				t.Fatalf("ParseSize(%q) = %d, FormatSize = %q, read back as %d, %v", s, v, out, back, err)
			}
			if schema.FormatSize(back) != out {
				t.Fatalf("FormatSize not stable for %d: %q, %q", v, out, schema.FormatSize(back))
			}
		} else {
			var se *schema.Error
			if !errors.As(err, &se) {
				t.Fatalf("ParseSize(%q) error %T is not a *schema.Error", s, err)
			}
		}
		// Any positive number: FormatSize writes what ParseSize reads back.
		if n > 0 {
			if back, err := schema.ParseSize(schema.FormatSize(n)); err != nil || back != n {
				t.Fatalf("ParseSize(FormatSize(%d) = %q) = %d, %v", n, schema.FormatSize(n), back, err)
			}
		}
	})
}

func FuzzParseSwarmName(f *testing.F) {
	f.Add("vr_python_example-prod-web", "app", "prod", "web")
	f.Add("a-b", "my-app", "prod", "web")
	f.Add("a-b-c-d", "a", "", "p")
	f.Add("app--web", "_app", "café", "web+1")
	f.Add("app-v1+x-web", ".", "..", "a/b")
	f.Fuzz(func(t *testing.T, s, app, config, proc string) {
		// Any string: no panic; what parses joins back to the same string.
		if a, c, p, err := schema.ParseSwarmName(s); err == nil {
			back, err := schema.SwarmName(a, c, p)
			if err != nil || back != s {
				t.Fatalf("ParseSwarmName(%q) = %q, %q, %q; SwarmName = %q, %v", s, a, c, p, back, err)
			}
		}
		// Fields SwarmName accepts parse back to the same fields.
		name, err := schema.SwarmName(app, config, proc)
		if err != nil {
			return
		}
		a, c, p, err := schema.ParseSwarmName(name)
		if err != nil || a != app || c != config || p != proc {
			t.Fatalf("SwarmName(%q, %q, %q) = %q, parsed back as %q, %q, %q, %v", app, config, proc, name, a, c, p, err)
		}
	})
}

func FuzzParseImageResult(f *testing.F) {
	good, err := sampleImageResult().Marshal()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(bytes.Replace(good, []byte("cccc"), []byte("cccC"), 1))
	f.Add(bytes.Replace(good, []byte("script_sha256"), []byte("script_sha265"), 1))
	f.Add(bytes.Replace(good, []byte("DEBIAN_FRONTEND: noninteractive"), []byte("A-B: 1"), 1))
	f.Add(bytes.Replace(good, []byte("env:\n  DEBIAN_FRONTEND: noninteractive\n"), nil, 1))
	f.Add(bytes.Replace(good, []byte("  DEBIAN_FRONTEND: noninteractive\n"), []byte("  {}\n"), 1))
	addSharedSeeds(f, "doc_image.yaml")
	for _, s := range yamlSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := schema.ParseImageResult("image.yaml", data)
		if err != nil {
			return
		}
		out, err := r.Marshal()
		if err != nil {
			t.Fatalf("accepted but cannot write: %v", err)
		}
		r2, err := schema.ParseImageResult("image.yaml", out)
		if err != nil {
			t.Fatalf("cannot read back what was written: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(r, r2) {
			t.Fatalf("read back differently:\n%+v\n%+v", r, r2)
		}
		out2, err := r2.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, out2) {
			t.Fatalf("not stable:\n%s\n---\n%s", out, out2)
		}
	})
}
