package schema

import (
	"math"
	"testing"
)

// Expected tags computed with PyYAML 6's Resolver.resolve(ScalarNode, value, (True, False)).
func TestPyResolve(t *testing.T) {
	tests := []struct{ s, want string }{
		{"yes", "!!bool"}, {"Yes", "!!bool"}, {"YES", "!!bool"}, {"y", "!!str"}, {"n", "!!str"},
		{"no", "!!bool"}, {"on", "!!bool"}, {"Off", "!!bool"}, {"true", "!!bool"}, {"TRUE", "!!bool"},
		{"tRue", "!!str"}, {"null", "!!null"}, {"Null", "!!null"}, {"~", "!!null"}, {"", "!!null"},
		{"9.0", "!!float"}, {"12", "!!int"}, {"1e3", "!!str"}, {"1.0e5", "!!str"}, {"1.5e+3", "!!float"},
		{"1.", "!!float"}, {"._5", "!!str"}, {".5", "!!float"}, {".inf", "!!float"}, {"-.Inf", "!!float"},
		{".NaN", "!!float"}, {"+.nan", "!!str"}, {"0o17", "!!str"}, {"017", "!!int"}, {"08", "!!str"},
		{"0x1F", "!!int"}, {"0b101", "!!int"}, {"1_000", "!!int"}, {"1:20", "!!int"}, {"1:20.5", "!!float"},
		{"190:20:30", "!!int"}, {"2001-12-14", "!!timestamp"}, {"2001-12-14t21:59:43.10-05:00", "!!timestamp"},
		{"2001-12-14 21:59:43.10 -5", "!!timestamp"}, {"2001-1-1", "!!str"}, {"<<", "!!merge"}, {"=", "!!value"},
		{"v3", "!!str"}, {"-", "!!str"}, {"+", "!!str"}, {"0", "!!int"}, {"-0", "!!int"}, {"+12", "!!int"},
		{"12abc", "!!str"}, {"a: b", "!!str"}, {"@x", "!!str"}, {"1.2.3", "!!str"}, {"0.0.1", "!!str"},
		{"v1.0", "!!str"}, {"1e+3", "!!str"}, {"1E-3", "!!str"},
	}
	for _, tt := range tests {
		if got := pyResolve(tt.s); got != tt.want {
			t.Errorf("pyResolve(%q) = %s, want %s", tt.s, got, tt.want)
		}
	}
	// PyYAML 3.x also read "._5" as a float: quote it on output.
	if !pyNeedsQuote("._5") || pyNeedsQuote("v3") {
		t.Errorf("pyNeedsQuote")
	}
}

// Expected values computed with yaml.safe_load("v: " + s) in PyYAML 6.
func TestPyConstruct(t *testing.T) {
	tests := []struct {
		s    string
		want any
	}{
		{"017", 15}, {"0x1F", 31}, {"0b101", 5}, {"1_000", 1000}, {"1:20", 80}, {"190:20:30", 685230},
		{"-0", 0}, {"+12", 12}, {"-0x10", -16}, {"9.0", 9.0}, {"1.", 1.0}, {"1.5e+3", 1500.0}, {".5", 0.5},
		{"1:20.5", 80.5}, {"1_0.2_5", 10.25}, {"yes", true}, {"Off", false}, {"-.inf", math.Inf(-1)},
	}
	for _, tt := range tests {
		got, err := pyConstruct(pyResolve(tt.s), tt.s)
		if err != nil || got != tt.want {
			t.Errorf("pyConstruct(%q) = %#v, %v; want %#v", tt.s, got, err, tt.want)
		}
	}
	for _, s := range []string{"0b_", "0x_", "99999999999999999999", "0b" + "1111111111111111111111111111111111111111111111111111111111111111"} {
		if v, err := pyConstruct(tagInt, s); err == nil {
			t.Errorf("pyConstruct(int, %q) = %v, want an error", s, v)
		}
	}
}

// PyYAML's representation of floats (yaml.safe_dump), from CPython 3.
func TestPyYAMLFloat(t *testing.T) {
	tests := []struct {
		f    float64
		want string
	}{
		{0, "0.0"}, {1, "1.0"}, {1e16, "1.0e+16"}, {1e-5, "1.0e-05"}, {5e-324, "5.0e-324"}, {1e22, "1.0e+22"},
		{123456789012345678, "1.2345678901234568e+17"}, {1.5e-7, "1.5e-07"}, {math.NaN(), ".nan"},
		{math.Inf(1), ".inf"}, {math.Inf(-1), "-.inf"},
	}
	for _, tt := range tests {
		if got := pyYAMLFloat(tt.f); got != tt.want {
			t.Errorf("pyYAMLFloat(%v) = %s, want %s", tt.f, got, tt.want)
		}
	}
}

func TestEditDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"abc", "abc", 0}, {"mem_limt", "mem_limit", 1}, {"buildpack_ulrs", "buildpack_urls", 1},
		{"verson", "version", 1}, {"abc", "", 3}, {"ab", "ba", 1},
	}
	for _, tt := range tests {
		if got := editDistance(tt.a, tt.b); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
