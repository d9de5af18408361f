package schema

import (
	"crypto/md5" // #nosec G501: the original's release hash is MD5; it names releases, it does not protect anything
	"encoding/hex"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// PyJSON returns what Python's json.dumps(v, sort_keys=True) returns for the Python value that
// v stands for, with the two conversions of the original's make_hash: sets become sorted
// lists and byte strings are decoded as Latin-1.
//
// Go values map to Python values as follows: nil (and nil maps, slices, pointers) is None;
// bool; all integer kinds are int; float32/float64 are float (written with Python's repr, NaN
// and Infinity as Python writes them); string is str (invalid UTF-8 reads as U+FFFD); []byte
// and [N]byte are bytes; other slices and arrays are lists; maps with string keys are dicts;
// maps whose value type is struct{} are sets. Any other type is an error, as Python raises
// TypeError.
//
// The output uses the default separators ", " and ": " and escapes every character outside
// printable ASCII as \uXXXX (lower-case hex, UTF-16 surrogate pairs above U+FFFF).
func PyJSON(v any) (string, error) {
	c, err := canon(v, 0)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	if err := writePyJSON(&b, c); err != nil {
		return "", err
	}
	return b.String(), nil
}

func writePyJSON(b *strings.Builder, v any) error {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case uint64:
		b.WriteString(strconv.FormatUint(x, 10))
	case float64:
		switch {
		case math.IsNaN(x):
			b.WriteString("NaN")
		case math.IsInf(x, 1):
			b.WriteString("Infinity")
		case math.IsInf(x, -1):
			b.WriteString("-Infinity")
		default:
			b.WriteString(pyFloatRepr(x))
		}
	case string:
		writePyJSONString(b, x)
	case latin1:
		r := make([]rune, len(x))
		for i, c := range x {
			r[i] = rune(c)
		}
		writePyJSONString(b, string(r))
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			if err := writePyJSON(b, e); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case pySet:
		sorted, err := sortSet(x)
		if err != nil {
			return err
		}
		return writePyJSON(b, sorted)
	case map[string]any:
		b.WriteByte('{')
		for i, k := range sortedKeys(x) {
			if i > 0 {
				b.WriteString(", ")
			}
			writePyJSONString(b, k)
			b.WriteString(": ")
			if err := writePyJSON(b, x[k]); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	default:
		return fmt.Errorf("unsupported type %T", v)
	}
	return nil
}

// sortSet sorts a set's elements as Python's sorted() would: all strings (code-point order) or
// all numbers; anything else is an error, as Python cannot order it either.
func sortSet(s pySet) ([]any, error) {
	out := append([]any(nil), s...)
	allStr, allNum := true, true
	for _, e := range out {
		switch e.(type) {
		case string:
			allNum = false
		case int64, uint64, float64:
			allStr = false
		default:
			allStr, allNum = false, false
		}
	}
	switch {
	case allStr:
		sort.Slice(out, func(i, j int) bool { return out[i].(string) < out[j].(string) })
	case allNum:
		num := func(v any) float64 {
			switch n := v.(type) {
			case int64:
				return float64(n)
			case uint64:
				return float64(n)
			}
			return v.(float64)
		}
		sort.SliceStable(out, func(i, j int) bool { return num(out[i]) < num(out[j]) })
	default:
		return nil, fmt.Errorf("set elements must be all strings or all numbers to be sorted")
	}
	return out, nil
}

// writePyJSONString writes s as json.dumps(s, ensure_ascii=True) does.
func writePyJSONString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for len(s) > 0 {
		r, size := utf8.DecodeRuneInString(s)
		s = s[size:]
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			switch {
			case r >= 0x20 && r <= 0x7e:
				b.WriteRune(r)
			case r > 0xffff:
				r1, r2 := utf16.EncodeRune(r)
				fmt.Fprintf(b, `\u%04x\u%04x`, r1, r2)
			default:
				fmt.Fprintf(b, `\u%04x`, r)
			}
		}
	}
	b.WriteByte('"')
}

// MakeHash returns the original's make_hash(*args): the hex MD5 of the concatenation of
// PyJSON(arg) for every argument, encoded as UTF-8 (the JSON is ASCII). An argument of a type
// PyJSON does not support is an error.
//
//	MakeHash(1)          == "c4ca4238a0b923820dcc509a6f75849b"
//	MakeHash("a")        == "6067924ae1b1832abce3d12fe83755a9"
//	MakeHash(map[string]any{}) == "99914b932bd37a50b983c5e7c90ae93b"
func MakeHash(args ...any) (string, error) {
	h := md5.New() // #nosec G401: see the import
	for i, a := range args {
		s, err := PyJSON(a)
		if err != nil {
			return "", fmt.Errorf("hash argument %d: %w", i+1, err)
		}
		h.Write([]byte(s))
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// ReleaseHash returns the release hash of the original (§7.2 of the reference): the first 8 hex
// characters of make_hash(build_hash, config, env, volumes, run_as, mem_limit, memsw_limit).
//
// Empty strings, nil maps and nil slices hash as Python's None (null); empty non-nil maps and
// slices hash as {} and []. The original always passed dicts for config and env ({} when
// empty) and a build hash, so pass empty non-nil maps to get the hashes it computed; volumes,
// mem_limit and memsw_limit were None when unset, and run_as defaulted to "nobody".
func ReleaseHash(buildHash string, config, env map[string]any, volumes [][]string, runAs, memLimit, memswLimit string) (string, error) {
	str := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	var vols any
	if volumes != nil {
		vols = volumes
	}
	var cfg, envv any
	if config != nil {
		cfg = config
	}
	if env != nil {
		envv = env
	}
	h, err := MakeHash(str(buildHash), cfg, envv, vols, str(runAs), str(memLimit), str(memswLimit))
	if err != nil {
		return "", err
	}
	return h[:8], nil
}
