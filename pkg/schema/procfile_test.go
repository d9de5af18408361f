package schema_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/vr-paas/vr/pkg/schema"
)

func TestProcfileSharedSample(t *testing.T) {
	pf, err := schema.LoadProcfile(shared + "Procfile")
	if err != nil {
		t.Fatal(err)
	}
	want := []schema.ProcfileEntry{
		{Name: "web", Command: "node web.js", Line: 2},
		{Name: "count", Command: "node count.js", Line: 3},
		{Name: "flower", Command: "python -m vr.server.manage celery flower --broker=$BROKER --port=$PORT", Line: 5},
		{Name: "quoted", Command: "python app.py", Line: 6},
	}
	if !reflect.DeepEqual(pf.Entries, want) {
		t.Errorf("entries = %+v", pf.Entries)
	}
	if c, ok := pf.Command("count"); !ok || c != "node count.js" {
		t.Errorf("Command(count) = %q, %v", c, ok)
	}
	if _, ok := pf.Command("nope"); ok {
		t.Errorf("Command(nope) found")
	}
	if got := pf.Names(); !reflect.DeepEqual(got, []string{"web", "count", "flower", "quoted"}) {
		t.Errorf("Names() = %q", got)
	}
}

func TestParseProcfile(t *testing.T) {
	tests := []struct {
		name, data string
		want       []schema.ProcfileEntry
	}{
		{"heroku basics", "web: gunicorn -b 0.0.0.0:$PORT app:app\nworker: python worker.py\n",
			[]schema.ProcfileEntry{{"web", "gunicorn -b 0.0.0.0:$PORT app:app", 1}, {"worker", "python worker.py", 2}}},
		{"no final newline, CRLF, BOM", "\ufeffweb: a\r\nclock-1: b",
			[]schema.ProcfileEntry{{"web", "a", 1}, {"clock-1", "b", 2}}},
		{"comments and blanks", "# c\n\n   # indented comment\n\t\nweb:a   \n",
			[]schema.ProcfileEntry{{"web", "a", 5}}},
		{"colon in command (invalid YAML, fine here)", "web: echo a: b\n",
			[]schema.ProcfileEntry{{"web", "echo a: b", 1}}},
		{"double-quoted (original: YAML)", `web: "python app.py"` + "\n",
			[]schema.ProcfileEntry{{"web", "python app.py", 1}}},
		{"single-quoted with escape", "web: 'it''s'\n",
			[]schema.ProcfileEntry{{"web", "it's", 1}}},
		{"quoted then comment", `web: "a b" # run` + "\n",
			[]schema.ProcfileEntry{{"web", "a b", 1}}},
		{"quote then more words stays verbatim", `web: "./my server" --port $PORT` + "\n",
			[]schema.ProcfileEntry{{"web", `"./my server" --port $PORT`, 1}}},
		{"unbalanced quote stays verbatim", `web: "a` + "\n",
			[]schema.ProcfileEntry{{"web", `"a`, 1}}},
		{"quoted then comment without blank (PyYAML accepts it)", `web: "a"#b` + "\n",
			[]schema.ProcfileEntry{{"web", "a", 1}}},
		{"hash inside stays", "web: a #b\n",
			[]schema.ProcfileEntry{{"web", "a #b", 1}}},
		{"empty file", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pf, err := schema.ParseProcfile("Procfile", []byte(tt.data))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(pf.Entries, tt.want) {
				t.Errorf("entries = %#v\nwant %#v", pf.Entries, tt.want)
			}
		})
	}
}

func TestParseProcfileErrors(t *testing.T) {
	tests := []struct{ name, data, want string }{
		{"leading space", "web: a\n  worker: b\n", `Procfile:2: malformed line "  worker: b"; expected "name: command"`},
		{"space before colon", "web : a\n", `Procfile:1: malformed line "web : a"`},
		{"no colon", "web a\n", `Procfile:1: malformed line "web a"`},
		{"bad name", "we.b: a\n", `Procfile:1: malformed line "we.b: a"`},
		{"empty command", "web:\n", `Procfile:1: key "web": empty command`},
		{"empty quoted command", "web: ''\n", `Procfile:1: key "web": empty command`},
		{"control char", "web: a\x01b\n", `Procfile:1: key "web": command contains a control character`},
		{"escaped newline", `web: "a\nb"` + "\n", `Procfile:1: key "web": command contains a control character`},
		{"duplicate", "web: a\n# x\nweb: b\n", `Procfile:3: key "web": process type given twice (first on line 1)`},
		{"not utf-8", "web: \xff\n", `Procfile: not valid UTF-8`},
		{"yaml mapping style", "web:\n  cmd: x\n", `Procfile:1: key "web": empty command`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := schema.ParseProcfile("Procfile", []byte(tt.data))
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error:\n  %v\nwant prefix:\n  %s", err, tt.want)
			}
		})
	}
}

func TestProcfileMarshal(t *testing.T) {
	pf := schema.Procfile{Entries: []schema.ProcfileEntry{
		{Name: "web", Command: "node web.js"},
		{Name: "q", Command: `"a b"`},   // would be unquoted on reading: must be quoted
		{Name: "s", Command: "'x' "},    // trailing blank
		{Name: "t", Command: "  lead"},  // leading blanks
		{Name: "u", Command: `"a" b`},   // verbatim
		{Name: "v", Command: "it's $X"}, // verbatim
	}}
	out, err := pf.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	want := "web: node web.js\nq: \"\\\"a b\\\"\"\ns: \"'x' \"\nt: \"  lead\"\nu: \"a\" b\nv: it's $X\n"
	if string(out) != want {
		t.Errorf("Marshal:\n%s\nwant\n%s", out, want)
	}
	back, err := schema.ParseProcfile("Procfile", out)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range back.Entries {
		if e.Name != pf.Entries[i].Name || e.Command != pf.Entries[i].Command {
			t.Errorf("entry %d: read back %q %q, wrote %q %q", i, e.Name, e.Command, pf.Entries[i].Name, pf.Entries[i].Command)
		}
	}
	for _, bad := range []schema.Procfile{
		{Entries: []schema.ProcfileEntry{{Name: "a:b", Command: "x"}}},
		{Entries: []schema.ProcfileEntry{{Name: "web", Command: ""}}},
		{Entries: []schema.ProcfileEntry{{Name: "web", Command: "a\nb"}}},
		{Entries: []schema.ProcfileEntry{{Name: "web", Command: "a"}, {Name: "web", Command: "b"}}},
	} {
		if _, err := bad.Marshal(); err == nil {
			t.Errorf("Marshal(%+v) succeeded", bad.Entries)
		}
	}
}
