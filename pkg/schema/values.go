package schema

import (
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	yaml "go.yaml.in/yaml/v3"
)

var (
	inf = math.Inf(1)
	nan = math.NaN()
)

// Free-form values (settings, release_data, the arguments of MakeHash) are Go values of these
// kinds, after canon: nil, bool, int64, uint64 (only above MaxInt64), float64, string,
// latin1 ([]byte, for MakeHash only), pySet (for MakeHash only), []any and map[string]any.
// The parsers produce nil, bool, int, float64, string, []any and map[string]any.

// latin1 is a byte string; MakeHash decodes it as Latin-1, as the original's make_hash did.
type latin1 []byte

// pySet is a set; MakeHash writes it as a sorted list, as the original's make_hash did.
type pySet []any

const maxDepth = 10000

// canon converts v to the canonical kinds above, following pointers and interfaces.
func canon(v any, depth int) (any, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("value nested deeper than %d levels", maxDepth)
	}
	switch x := v.(type) {
	case nil:
		return nil, nil
	case bool, string, float64:
		return x, nil
	case int:
		return int64(x), nil
	case int64:
		return x, nil
	case []byte:
		return latin1(x), nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			c, err := canon(e, depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			c, err := canon(e, depth+1)
			if err != nil {
				return nil, err
			}
			out[k] = c
		}
		return out, nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return nil, nil
		}
		return canon(rv.Elem().Interface(), depth+1)
	case reflect.Bool:
		return rv.Bool(), nil
	case reflect.String:
		return rv.String(), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int(), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		u := rv.Uint()
		if u <= math.MaxInt64 {
			return int64(u), nil
		}
		return u, nil
	case reflect.Float32, reflect.Float64:
		return rv.Float(), nil
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			return nil, nil
		}
		if rv.Type().Elem().Kind() == reflect.Uint8 {
			b := make([]byte, rv.Len())
			reflect.Copy(reflect.ValueOf(b), rv)
			return latin1(b), nil
		}
		out := make([]any, rv.Len())
		for i := range out {
			c, err := canon(rv.Index(i).Interface(), depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	case reflect.Map:
		if rv.IsNil() {
			return nil, nil
		}
		// A map whose values are struct{} is a set.
		if et := rv.Type().Elem(); et.Kind() == reflect.Struct && et.NumField() == 0 {
			out := make(pySet, 0, rv.Len())
			for _, k := range rv.MapKeys() {
				c, err := canon(k.Interface(), depth+1)
				if err != nil {
					return nil, err
				}
				out = append(out, c)
			}
			return out, nil
		}
		if rv.Type().Key().Kind() != reflect.String {
			return nil, fmt.Errorf("map keys must be strings, got %s", rv.Type().Key())
		}
		out := make(map[string]any, rv.Len())
		iter := rv.MapRange()
		for iter.Next() {
			c, err := canon(iter.Value().Interface(), depth+1)
			if err != nil {
				return nil, err
			}
			out[iter.Key().String()] = c
		}
		return out, nil
	}
	return nil, fmt.Errorf("unsupported type %T", v)
}

// sortedKeys returns the keys of m in code-point order (Python's sorted() of str keys).
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// valueNode builds the YAML node PyYAML's safe_dump writes for a free-form value.
func valueNode(v any) (*yaml.Node, error) {
	c, err := canon(v, 0)
	if err != nil {
		return nil, err
	}
	return canonNode(c)
}

func canonNode(v any) (*yaml.Node, error) {
	switch x := v.(type) {
	case nil:
		return nullNode(), nil
	case bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tagBool, Value: strconv.FormatBool(x)}, nil
	case int64:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tagInt, Value: strconv.FormatInt(x, 10)}, nil
	case uint64:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tagInt, Value: strconv.FormatUint(x, 10)}, nil
	case float64:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tagFloat, Value: pyYAMLFloat(x)}, nil
	case string:
		if !utf8.ValidString(x) {
			return nil, fmt.Errorf("string %q is not valid UTF-8", clip(x))
		}
		return strNode(x), nil
	case []any:
		s := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for _, e := range x {
			n, err := canonNode(e)
			if err != nil {
				return nil, err
			}
			s.Content = append(s.Content, n)
		}
		return s, nil
	case map[string]any:
		fields := make([]field, 0, len(x))
		for _, k := range sortedKeys(x) {
			if !utf8.ValidString(k) {
				return nil, fmt.Errorf("key %q is not valid UTF-8", clip(k))
			}
			n, err := canonNode(x[k])
			if err != nil {
				return nil, err
			}
			fields = append(fields, field{k, n})
		}
		return mappingNode(fields), nil
	case latin1:
		return nil, fmt.Errorf("byte strings cannot be written to YAML; convert them to strings")
	case pySet:
		return nil, fmt.Errorf("sets cannot be written to YAML; convert them to lists")
	}
	return nil, fmt.Errorf("unsupported type %T", v)
}

// pyFloatRepr is Python's repr() of a float: the shortest digits that read back the same,
// in fixed notation when the decimal exponent is in [-4, 16), else "1e+16" style, and
// always with a ".0" on integral fixed values.
func pyFloatRepr(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	s := strconv.FormatFloat(f, 'e', -1, 64) // -d.ddde±XX
	sign := ""
	if s[0] == '-' {
		sign, s = "-", s[1:]
	}
	mant, expStr, _ := strings.Cut(s, "e")
	exp, _ := strconv.Atoi(expStr)
	digits := strings.Replace(mant, ".", "", 1)
	decpt := exp + 1 // value = 0.digits × 10^decpt
	if decpt > -4 && decpt <= 16 {
		switch {
		case decpt <= 0:
			return sign + "0." + strings.Repeat("0", -decpt) + digits
		case decpt >= len(digits):
			return sign + digits + strings.Repeat("0", decpt-len(digits)) + ".0"
		default:
			return sign + digits[:decpt] + "." + digits[decpt:]
		}
	}
	m := digits[:1]
	if len(digits) > 1 {
		m += "." + digits[1:]
	}
	es := "+"
	if exp < 0 {
		es, exp = "-", -exp
	}
	return fmt.Sprintf("%s%se%s%02d", sign, m, es, exp)
}

// pyYAMLFloat is PyYAML's representation of a float: repr, lower-cased, ".0" added before an
// exponent without a dot, and .nan/.inf/-.inf.
func pyYAMLFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return ".nan"
	case math.IsInf(f, 1):
		return ".inf"
	case math.IsInf(f, -1):
		return "-.inf"
	}
	s := pyFloatRepr(f)
	if !strings.Contains(s, ".") && strings.Contains(s, "e") {
		s = strings.Replace(s, "e", ".0e", 1)
	}
	return s
}
