package schema

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ParseSize returns the number of bytes of a memory limit as written in proc.yaml's mem_limit
// and memsw_limit: a positive decimal number of bytes, optionally followed by one of the
// suffixes the kernel's cgroup v1 files accept, K, M, G, T, P or E (either case, powers of
// 1024), e.g. "256M" or "1G" or "1073741824". The original passed the text verbatim to
// lxc.cgroup.memory.limit_in_bytes; vr parses it so it can also write cgroup v2 limits.
func ParseSize(s string) (int64, error) {
	if s == "" {
		return 0, errorf("", "empty size; expected a number of bytes with an optional K, M, G or T suffix, e.g. 256M")
	}
	num, mult := s, int64(1)
	if i := strings.IndexAny(s[len(s)-1:], "kKmMgGtTpPeE"); i == 0 {
		num = s[:len(s)-1]
		shift := map[byte]uint{'k': 10, 'm': 20, 'g': 30, 't': 40, 'p': 50, 'e': 60}[s[len(s)-1]|0x20]
		mult = 1 << shift
	}
	if num == "" || strings.Trim(num, "0123456789") != "" {
		return 0, errorf("", "size %q: expected a number of bytes with an optional K, M, G or T suffix, e.g. 256M", clip(s))
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n > math.MaxInt64/mult {
		return 0, errorf("", "size %q is too large", clip(s))
	}
	if n == 0 {
		return 0, errorf("", "size %q must be positive", clip(s))
	}
	return n * mult, nil
}

// FormatSize writes a number of bytes the way ParseSize reads it, with the largest suffix
// that divides it exactly (268435456 → "256M").
func FormatSize(n int64) string {
	for _, u := range []struct {
		suffix string
		shift  uint
	}{{"E", 60}, {"P", 50}, {"T", 40}, {"G", 30}, {"M", 20}, {"K", 10}} {
		if n > 0 && n%(1<<u.shift) == 0 {
			return fmt.Sprintf("%d%s", n>>u.shift, u.suffix)
		}
	}
	return strconv.FormatInt(n, 10)
}
