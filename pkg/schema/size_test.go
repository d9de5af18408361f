package schema_test

import (
	"testing"

	"github.com/vr-paas/vr/pkg/schema"
)

func TestParseSize(t *testing.T) {
	tests := []struct {
		s    string
		want int64
	}{
		{"256M", 256 << 20}, {"256m", 256 << 20}, {"1G", 1 << 30}, {"1g", 1 << 30}, {"512K", 512 << 10},
		{"2T", 2 << 40}, {"1P", 1 << 50}, {"7E", 7 << 60}, {"1073741824", 1 << 30}, {"1", 1},
	}
	for _, tt := range tests {
		got, err := schema.ParseSize(tt.s)
		if err != nil || got != tt.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", tt.s, got, err, tt.want)
		}
		if back, err := schema.ParseSize(schema.FormatSize(got)); err != nil || back != got {
			t.Errorf("ParseSize(FormatSize(%d)) = %d, %v", got, back, err)
		}
	}
	for _, s := range []string{"", "M", "256MB", "256 M", "-1", "+5", "0", "0M", "1.5G", "8E", "9223372036854775808", "abc", "1Mi"} {
		if n, err := schema.ParseSize(s); err == nil {
			t.Errorf("ParseSize(%q) = %d, want an error", s, n)
		}
	}
	if got := schema.FormatSize(268435456); got != "256M" {
		t.Errorf("FormatSize(268435456) = %q", got)
	}
	if got := schema.FormatSize(1000); got != "1000" {
		t.Errorf("FormatSize(1000) = %q", got)
	}
}
