package schema_test

import (
	"math"
	"testing"

	"github.com/vr-paas/vr/pkg/schema"
)

// The vectors of the original's test_models.py (reference §7.2).
func TestMakeHashOriginalVectors(t *testing.T) {
	tests := []struct {
		name string
		arg  any
		want string
	}{
		{"int 1", 1, "c4ca4238a0b923820dcc509a6f75849b"},
		{"str a", "a", "6067924ae1b1832abce3d12fe83755a9"},
		{"empty dict", map[string]any{}, "99914b932bd37a50b983c5e7c90ae93b"},
		{"empty list", []any{}, "d751713988987e9331980363e24189ce"},
		{"empty tuple", [0]int{}, "d751713988987e9331980363e24189ce"},
		{"empty set", map[string]struct{}{}, "d751713988987e9331980363e24189ce"},
		{"bytes a3", []byte{0xa3}, "dd335aa90459c69348d739b1628dcf86"},
		{"str U+00A3", "\u00a3", "dd335aa90459c69348d739b1628dcf86"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := schema.MakeHash(tt.arg)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("MakeHash(%#v) = %s, want %s", tt.arg, got, tt.want)
			}
		})
	}
}

// Expected strings and digests computed with CPython 3's json.dumps(v, sort_keys=True).
func TestPyJSON(t *testing.T) {
	tests := []struct {
		name    string
		v       any
		want    string
		wantMD5 string
	}{
		{"nested sort", map[string]any{"b": 1, "a": []any{1, "x"}}, `{"a": [1, "x"], "b": 1}`, "361271f73a731c0a4f0b2a245db43af5"},
		{"escapes", "é\u2028😀\x7f\x00\x1f\"\\/\n\r\t\b\f",
			`"\u00e9\u2028\ud83d\ude00\u007f\u0000\u001f\"\\/\n\r\t\b\f"`, "3cd8e1558bb71cedd926a1d8dce288b4"},
		{"scalars", map[string]any{"z": nil, "y": true, "x": false, "w": 1.5, "v": 1e16, "u": math.Copysign(0, -1),
			"t": map[string]any{"b": map[string]any{}, "a": []any{}}},
			`{"t": {"a": [], "b": {}}, "u": -0.0, "v": 1e+16, "w": 1.5, "x": false, "y": true, "z": null}`, "6c57957039ee962641ac9e8691dba456"},
		{"nan", math.NaN(), "NaN", "7ecfb3bf076a6a9635f975fe96ac97fd"},
		{"inf", math.Inf(1), "Infinity", "eb2ac5b04180d8d6011a016aeb8f75b3"},
		{"-inf", math.Inf(-1), "-Infinity", "34ddea809859ac6012054212c3808d1a"},
		{"key order is code point order", map[string]any{"é": 1, "e": 2, "E": 3, "_": 4, "10": 5, "9": 6},
			`{"10": 5, "9": 6, "E": 3, "_": 4, "e": 2, "\u00e9": 1}`, "5cedb830fb573e766406998ea320ab8f"},
		{"volumes", [][]string{{"/h", "/c"}}, `[["/h", "/c"]]`, "0f0a19d2264158bcba4f7fe0a9b5f3ef"},
		{"big uint", uint64(12345678901234567890), "12345678901234567890", "fd85e62d9beb45428771ec688418b271"},
		{"set of strings sorted", map[string]struct{}{"b": {}, "a": {}, "c": {}}, `["a", "b", "c"]`, ""},
		{"typed map and pointer", map[string]*int{"n": nil}, `{"n": null}`, ""},
		{"float32", float32(0.5), "0.5", ""},
		{"int8", int8(-3), "-3", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := schema.PyJSON(tt.v)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("PyJSON = %s\nwant      %s", got, tt.want)
			}
			if tt.wantMD5 == "" {
				return
			}
			h, err := schema.MakeHash(tt.v)
			if err != nil {
				t.Fatal(err)
			}
			if h != tt.wantMD5 {
				t.Errorf("MakeHash = %s, want %s", h, tt.wantMD5)
			}
		})
	}
}

func TestPyJSONFloatRepr(t *testing.T) {
	// Python's repr() of each float (CPython 3).
	tests := []struct {
		f    float64
		want string
	}{
		{0, "0.0"}, {math.Copysign(0, -1), "-0.0"}, {1, "1.0"}, {0.5, "0.5"},
		{1e16, "1e+16"}, {1e15, "1000000000000000.0"}, {123456789012345678, "1.2345678901234568e+17"},
		{0.0001, "0.0001"}, {0.00001, "1e-05"}, {1.5e-7, "1.5e-07"}, {1.0 / 3, "0.3333333333333333"},
		{2.5e300, "2.5e+300"}, {5e-324, "5e-324"}, {1e22, "1e+22"}, {100, "100.0"},
		{1234.5678, "1234.5678"}, {9007199254740993, "9007199254740992.0"},
		{12345678901234567890, "1.2345678901234567e+19"},
	}
	for _, tt := range tests {
		got, err := schema.PyJSON(tt.f)
		if err != nil {
			t.Fatal(err)
		}
		if got != tt.want {
			t.Errorf("PyJSON(%v) = %s, want %s", tt.f, got, tt.want)
		}
	}
}

func TestMakeHashConcatenates(t *testing.T) {
	// make_hash(a, b) is the MD5 of json(a)+json(b):
	// md5(`"0cc175b9c0f1b6a831c399e269772661"{"debug": true, "workers": 4}`), from CPython.
	got, err := schema.MakeHash("0cc175b9c0f1b6a831c399e269772661", map[string]any{"debug": true, "workers": 4})
	if err != nil {
		t.Fatal(err)
	}
	if want := "faf7da5ffdd2a4351b3021ef494f6c7f"; got != want {
		t.Errorf("MakeHash = %s, want %s", got, want)
	}
}

type rawJSON struct{}

func TestMakeHashUnsupported(t *testing.T) {
	for _, v := range []any{rawJSON{}, map[int]string{1: "a"}, make(chan int), func() {}} {
		if _, err := schema.MakeHash(v); err == nil {
			t.Errorf("MakeHash(%T) succeeded; want an error", v)
		}
	}
	if _, err := schema.MakeHash(map[int]struct{}{1: {}}); err != nil {
		t.Errorf("MakeHash(set of ints): %v", err)
	}
	if _, err := schema.PyJSON(map[any]struct{}{1: {}, "a": {}}); err == nil {
		t.Errorf("PyJSON(set of mixed types) succeeded; want an error (Python cannot sort it)")
	}
}

// Release hashes computed with the original's make_hash in CPython 3.
func TestReleaseHash(t *testing.T) {
	const build = "0cc175b9c0f1b6a831c399e269772661"
	tests := []struct {
		name              string
		config, env       map[string]any
		volumes           [][]string
		runAs, mem, memsw string
		want              string
	}{
		{"full", map[string]any{"debug": true, "workers": 4}, map[string]any{"LANG": "C.UTF-8"},
			[][]string{{"/var/log/app", "/app/log"}}, "nobody", "256M", "", "bc5fce3d"},
		{"empty dicts, no volumes", map[string]any{}, map[string]any{}, nil, "nobody", "", "", "0a3e252b"},
		{"all null", nil, nil, nil, "", "", "", "3f600132"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := schema.ReleaseHash(build, tt.config, tt.env, tt.volumes, tt.runAs, tt.mem, tt.memsw)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("ReleaseHash = %s, want %s", got, tt.want)
			}
		})
	}
}
