package schema

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	yaml "go.yaml.in/yaml/v3"
)

// This file holds the node-level YAML reader and writer shared by every document type.
//
// Reading walks yaml.v3 nodes (never Unmarshal into structs), so each error carries the line
// of the offending key or value. Writing builds yaml.v3 nodes by hand so that the output is
// what PyYAML's safe_dump(default_flow_style=False) writes for the same data: keys sorted,
// block style, sequences not indented under their key, nulls as "null", and every string that
// YAML 1.1 (PyYAML, the original's parser) or YAML 1.2 (yaml.v3) would read as something else
// quoted.

// document is a parsed input file.
type document struct {
	file string
	root *yaml.Node // a mapping node
}

// yamlLine matches the position prefix of yaml.v3's syntax errors.
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlError turns a yaml.v3 error into an *Error with the line it names.
func yamlError(file string, err error) error {
	msg := err.Error()
	line := 0
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	return &Error{File: file, Line: line, Msg: "invalid YAML: " + msg, Err: err}
}

// parseDocument parses data as exactly one YAML document whose root is a mapping.
func parseDocument(file string, data []byte) (d *document, err error) {
	// yaml.v3 has had panics on malformed input; never let one escape a parser.
	defer func() {
		if r := recover(); r != nil {
			d, err = nil, &Error{File: file, Msg: fmt.Sprintf("invalid YAML (parser failure: %v)", r)}
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var n yaml.Node
	if err := dec.Decode(&n); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{File: file, Msg: "the file is empty; expected a mapping of keys"}
		}
		return nil, yamlError(file, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, yamlError(file, err)
		}
		return nil, &Error{File: file, Line: extra.Line, Msg: "more than one YAML document (---); expected exactly one"}
	}
	root := &n
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) != 1 {
			return nil, &Error{File: file, Msg: "the file is empty; expected a mapping of keys"}
		}
		root = root.Content[0]
	}
	root = deref(root)
	if isNull(root) {
		return nil, &Error{File: file, Line: root.Line, Msg: "the document is empty (null); expected a mapping of keys"}
	}
	if root.Kind != yaml.MappingNode {
		return nil, &Error{File: file, Line: root.Line, Msg: "expected a mapping of keys, got " + describe(root)}
	}
	return &document{file: file, root: root}, nil
}

// deref follows aliases to the node they name.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// entry is one top-level key of a document.
type entry struct {
	key string     // canonical key (a legacy spelling is mapped to its canonical key)
	as  string     // the key as written
	k   *yaml.Node // key node
	v   *yaml.Node // value node, aliases followed
}

// keySpec says which top-level keys a document type has.
type keySpec struct {
	known  []string          // sorted
	legacy map[string]string // accepted old spelling -> canonical key
	// allowUnknown ignores unknown keys (they are returned) instead of failing.
	allowUnknown bool
}

func (s keySpec) isKnown(k string) bool {
	i := sort.SearchStrings(s.known, k)
	return i < len(s.known) && s.known[i] == k
}

// entries checks the keys of the root mapping and returns them by canonical key, plus the
// unknown keys when spec.allowUnknown is set.
func (d *document) entries(spec keySpec) (map[string]entry, []string, error) {
	out := make(map[string]entry)
	seen := make(map[string]int) // key as written -> line
	var unknown []string
	c := d.root.Content
	for i := 0; i+1 < len(c); i += 2 {
		k, v := deref(c[i]), deref(c[i+1])
		if k.Kind != yaml.ScalarNode {
			return nil, nil, &Error{File: d.file, Line: k.Line, Msg: "keys must be plain strings, got " + describe(k)}
		}
		name := k.Value
		if k.Tag == tagMerge {
			return nil, nil, &Error{File: d.file, Line: k.Line, Msg: "merge keys (<<) are not supported; write the keys out"}
		}
		if line, dup := seen[name]; dup {
			return nil, nil, &Error{File: d.file, Line: k.Line, Key: name, Msg: fmt.Sprintf("appears twice (first on line %d)", line)}
		}
		seen[name] = k.Line
		canon := name
		if to, ok := spec.legacy[name]; ok {
			canon = to
		}
		if !spec.isKnown(canon) {
			if spec.allowUnknown {
				unknown = append(unknown, name)
				continue
			}
			return nil, nil, &Error{File: d.file, Line: k.Line, Key: name, Msg: unknownKeyMsg(name, spec.known)}
		}
		if prev, ok := out[canon]; ok {
			legacy := name
			if prev.as != canon {
				legacy = prev.as
			}
			return nil, nil, &Error{File: d.file, Line: k.Line, Key: name, Msg: fmt.Sprintf("%q is the legacy spelling of %q and both are given (line %d); keep only %q", legacy, canon, prev.k.Line, canon)}
		}
		out[canon] = entry{key: canon, as: name, k: k, v: v}
	}
	return out, unknown, nil
}

// unknownKeyMsg says a key is unknown, suggests the closest known key and lists them all.
func unknownKeyMsg(name string, known []string) string {
	best, bestD := "", 3
	for _, k := range known {
		if d := editDistance(name, k); d < bestD {
			best, bestD = k, d
		}
	}
	msg := "unknown key"
	if best != "" {
		msg += fmt.Sprintf("; did you mean %q?", best)
	}
	return msg + " (known keys: " + strings.Join(known, ", ") + ")"
}

// editDistance is the optimal-string-alignment distance between a and b (bytes): insertions,
// deletions, substitutions and transpositions of neighbours cost 1. Long inputs are not
// compared.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 64
	}
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

// errAt returns an *Error about entry e at the line of its value.
func (d *document) errAt(e entry, format string, args ...any) error {
	return &Error{File: d.file, Line: e.v.Line, Key: e.as, Msg: fmt.Sprintf(format, args...)}
}

// Scalar classification.

const (
	tagStr   = "!!str"
	tagNull  = "!!null"
	tagBool  = "!!bool"
	tagInt   = "!!int"
	tagFloat = "!!float"
	tagTime  = "!!timestamp"
	tagMerge = "!!merge"
	tagValue = "!!value" // PyYAML's "=" (a plain "=" makes safe_load fail)
)

const quotedStyles = yaml.SingleQuotedStyle | yaml.DoubleQuotedStyle | yaml.LiteralStyle | yaml.FoldedStyle

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Style&quotedStyles == 0 && n.Tag == tagNull
}

// scalarTags returns what a scalar means to yaml.v3 (YAML 1.2) and to PyYAML (YAML 1.1, the
// original's parser). They differ only for plain scalars such as yes, 0o17, 1:20 or 1e3.
func scalarTags(n *yaml.Node) (v3, py string) {
	switch {
	case n.Style&yaml.TaggedStyle != 0:
		return n.Tag, n.Tag
	case n.Style&quotedStyles != 0:
		return tagStr, tagStr
	default:
		return n.Tag, pyResolve(n.Value)
	}
}

// describe names what a node is, for error messages: "a mapping", "a float (9.0)", ...
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
	default:
		return "an unsupported YAML node"
	}
	v3, py := scalarTags(n)
	tag := v3
	if v3 == tagStr && py != tagStr {
		return fmt.Sprintf("%s, which YAML 1.1 (the original's parser) reads as %s", clip(n.Value), tagName(py))
	}
	switch tag {
	case tagNull:
		return "null"
	case tagStr:
		return fmt.Sprintf("a string (%q)", clip(n.Value))
	}
	return fmt.Sprintf("%s (%s)", tagName(tag), clip(n.Value))
}

func tagName(tag string) string {
	switch tag {
	case tagBool:
		return "a bool"
	case tagInt:
		return "an int"
	case tagFloat:
		return "a float"
	case tagTime:
		return "a timestamp"
	case tagNull:
		return "null"
	case tagStr:
		return "a string"
	case tagMerge:
		return "a merge key"
	case tagValue:
		return "a value key (=)"
	}
	return "a value tagged " + tag
}

// clip shortens long values in messages.
func clip(s string) string {
	if len(s) > 40 {
		return s[:37] + "..."
	}
	return s
}

// PyYAML's implicit resolvers (resolver.py), which decide what an unquoted scalar means to the
// original. The regular expressions are copied in meaning from PyYAML 6 (the same since 3.x
// except that 3.x also read "._5" as a float, which only matters for quoting; see pyNeedsQuote).
var (
	pyBoolRe  = regexp.MustCompile(`^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$`)
	pyFloatRe = regexp.MustCompile(`^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?` +
		`|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?` +
		`|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*` +
		`|[-+]?\.(?:inf|Inf|INF)` +
		`|\.(?:nan|NaN|NAN))$`)
	pyIntRe = regexp.MustCompile(`^(?:[-+]?0b[0-1_]+` +
		`|[-+]?0[0-7_]+` +
		`|[-+]?(?:0|[1-9][0-9_]*)` +
		`|[-+]?0x[0-9a-fA-F_]+` +
		`|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$`)
	pyTimestampRe = regexp.MustCompile(`^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]` +
		`|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?` +
		`(?:[Tt]|[ \t]+)[0-9][0-9]?` +
		`:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?` +
		`(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$`)
	pyOldFloatRe = regexp.MustCompile(`^\.[0-9_]+(?:[eE][-+][0-9]+)?$`)
)

// pyResolve returns the tag PyYAML gives the plain (unquoted) scalar s.
func pyResolve(s string) string {
	if s == "" {
		return tagNull
	}
	// PyYAML only tries the resolvers registered for the first character, in this order.
	first := s[0]
	if strings.IndexByte("yYnNtTfFoO", first) >= 0 && pyBoolRe.MatchString(s) {
		return tagBool
	}
	if strings.IndexByte("-+0123456789.", first) >= 0 && pyFloatRe.MatchString(s) {
		return tagFloat
	}
	if strings.IndexByte("-+0123456789", first) >= 0 && pyIntRe.MatchString(s) {
		return tagInt
	}
	if s == "<<" {
		return tagMerge
	}
	if s == "~" || s == "null" || s == "Null" || s == "NULL" {
		return tagNull
	}
	if first >= '0' && first <= '9' && pyTimestampRe.MatchString(s) {
		return tagTime
	}
	if s == "=" {
		return tagValue
	}
	return tagStr
}

// pyNeedsQuote reports whether the string s must be quoted so that PyYAML (any version) reads
// it back as a string.
func pyNeedsQuote(s string) bool {
	return pyResolve(s) != tagStr || pyOldFloatRe.MatchString(s)
}

// pyConstruct converts the text of a scalar with the given (PyYAML) tag the way PyYAML's
// SafeConstructor does. Integers must fit in 64 bits; timestamps and "=" stay strings.
func pyConstruct(tag, s string) (any, error) {
	switch tag {
	case tagNull:
		return nil, nil
	case tagBool:
		switch strings.ToLower(s) {
		case "yes", "true", "on":
			return true, nil
		case "no", "false", "off":
			return false, nil
		}
		return nil, fmt.Errorf("%q is not a bool", s)
	case tagInt:
		return pyInt(s)
	case tagFloat:
		return pyFloat(s)
	case tagStr, tagTime, tagValue:
		return s, nil
	}
	return nil, fmt.Errorf("unsupported tag %s", tag)
}

func pyInt(s string) (any, error) {
	v := strings.ReplaceAll(s, "_", "")
	neg := false
	if v != "" && (v[0] == '-' || v[0] == '+') {
		neg = v[0] == '-'
		v = v[1:]
	}
	var n int64
	var err error
	switch {
	case v == "":
		err = errors.New("no digits")
	case v == "0":
	case strings.HasPrefix(v, "0b"):
		n, err = strconv.ParseInt(v[2:], 2, 64)
	case strings.HasPrefix(v, "0x"):
		n, err = strconv.ParseInt(v[2:], 16, 64)
	case v[0] == '0':
		n, err = strconv.ParseInt(v, 8, 64)
	case strings.Contains(v, ":"):
		for _, part := range strings.Split(v, ":") {
			d, perr := strconv.ParseInt(part, 10, 64)
			if perr != nil || n > (1<<62)/60 {
				return nil, fmt.Errorf("integer %s is out of range (64 bits)", s)
			}
			n = n*60 + d
		}
	default:
		n, err = strconv.ParseInt(v, 10, 64)
	}
	if err != nil {
		return nil, fmt.Errorf("integer %s is out of range (64 bits) or malformed", s)
	}
	if neg {
		n = -n
	}
	return int(n), nil
}

func pyFloat(s string) (any, error) {
	v := strings.ToLower(strings.ReplaceAll(s, "_", ""))
	sign := 1.0
	if v != "" && (v[0] == '-' || v[0] == '+') {
		if v[0] == '-' {
			sign = -1
		}
		v = v[1:]
	}
	switch {
	case v == ".inf":
		return sign * inf, nil
	case v == ".nan":
		return nan, nil
	case strings.Contains(v, ":"):
		f := 0.0
		for _, part := range strings.Split(v, ":") {
			d, err := strconv.ParseFloat(part, 64)
			if err != nil {
				return nil, fmt.Errorf("malformed float %s", s)
			}
			f = f*60 + d
		}
		return sign * f, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return nil, fmt.Errorf("malformed float %s", s)
	}
	return sign * f, nil
}

// Typed readers for top-level values.

// str reads a string value. Null reads as "". A plain scalar that YAML 1.1 or 1.2 reads as
// something else (9.0, 12, yes, 0o17, 2020-01-01) is an error asking to quote it, because the
// original read such values as numbers, bools or dates.
func (d *document) str(e entry) (string, error) {
	return d.strNode(e, e.v)
}

func (d *document) strNode(e entry, n *yaml.Node) (string, error) {
	n = deref(n)
	if n.Kind != yaml.ScalarNode {
		return "", &Error{File: d.file, Line: n.Line, Key: e.as, Msg: "got " + describe(n) + "; expected a string"}
	}
	v3, py := scalarTags(n)
	if v3 == tagNull && py == tagNull {
		return "", nil
	}
	if v3 == tagStr && py == tagStr {
		return n.Value, nil
	}
	if n.Style&yaml.TaggedStyle != 0 {
		return "", &Error{File: d.file, Line: n.Line, Key: e.as, Msg: fmt.Sprintf("got a value tagged %s; expected a string", n.Tag)}
	}
	return "", &Error{File: d.file, Line: n.Line, Key: e.as,
		Msg: fmt.Sprintf("got %s; quote it: %s: %s", describe(n), e.as, strconv.Quote(n.Value))}
}

// plainInt reads an unquoted decimal integer; null reads as (0, false).
func (d *document) plainInt(e entry, what string) (int, bool, error) {
	n := e.v
	if isNull(n) {
		return 0, false, nil
	}
	bad := func(extra string) error {
		return d.errAt(e, "got %s; expected %s%s", describe(n), what, extra)
	}
	if n.Kind != yaml.ScalarNode {
		return 0, false, bad("")
	}
	if n.Style&quotedStyles != 0 || (n.Style&yaml.TaggedStyle != 0 && n.Tag != tagInt) {
		return 0, false, bad(fmt.Sprintf("; write it unquoted: %s: %s", e.as, n.Value))
	}
	if !isDecimal(n.Value) {
		return 0, false, bad(" written in plain decimal")
	}
	i, err := strconv.Atoi(n.Value)
	if err != nil {
		return 0, false, bad("")
	}
	return i, true, nil
}

// isDecimal reports whether s is a non-empty run of ASCII digits without a leading zero
// (except "0" itself).
func isDecimal(s string) bool {
	if s == "" || len(s) > 18 || (len(s) > 1 && s[0] == '0') {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// stringMap reads a mapping of environment variables. Keys must be strings; values may be any
// scalar and keep their text as written (null reads as ""). The original wrote Python's str()
// of non-string values (True, 1.0, None); vr keeps what the file says instead.
func (d *document) stringMap(e entry) (map[string]string, error) {
	n := e.v
	if isNull(n) {
		return nil, nil
	}
	if n.Kind != yaml.MappingNode {
		return nil, d.errAt(e, "got %s; expected a mapping of NAME: value", describe(n))
	}
	out := make(map[string]string, len(n.Content)/2)
	lines := make(map[string]int)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		name, err := d.mapKey(e, k)
		if err != nil {
			return nil, err
		}
		if line, dup := lines[name]; dup {
			return nil, &Error{File: d.file, Line: k.Line, Key: e.as, Msg: fmt.Sprintf("%q appears twice (first on line %d)", name, line)}
		}
		lines[name] = k.Line
		if v.Kind != yaml.ScalarNode {
			return nil, &Error{File: d.file, Line: v.Line, Key: e.as, Msg: fmt.Sprintf("value of %q: got %s; expected a string", name, describe(v))}
		}
		if isNull(v) {
			out[name] = ""
		} else {
			out[name] = v.Value
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// mapKey reads a key of a nested mapping, which must be a string.
func (d *document) mapKey(e entry, k *yaml.Node) (string, error) {
	if k.Kind != yaml.ScalarNode {
		return "", &Error{File: d.file, Line: k.Line, Key: e.as, Msg: "mapping keys must be strings, got " + describe(k)}
	}
	if k.Tag == tagMerge && k.Style&quotedStyles == 0 {
		return "", &Error{File: d.file, Line: k.Line, Key: e.as, Msg: "merge keys (<<) are not supported; write the keys out"}
	}
	v3, py := scalarTags(k)
	if v3 != tagStr || py != tagStr {
		return "", &Error{File: d.file, Line: k.Line, Key: e.as, Msg: fmt.Sprintf("mapping keys must be strings, got %s; quote it", describe(k))}
	}
	return k.Value, nil
}

// anyMap reads a free-form mapping (settings, release_data) with PyYAML's meaning of plain
// scalars, so that the values are what the original saw: yes is true, 0x10 is 16, 1:20 is 80.
// Null reads as nil; an empty mapping as an empty non-nil map.
func (d *document) anyMap(e entry) (map[string]any, error) {
	n := e.v
	if isNull(n) {
		return nil, nil
	}
	if n.Kind != yaml.MappingNode {
		return nil, d.errAt(e, "got %s; expected a mapping", describe(n))
	}
	budget := maxValueNodes
	v, err := d.value(e, n, &budget)
	if err != nil {
		return nil, err
	}
	return v.(map[string]any), nil
}

// maxValueNodes bounds the nodes visited while reading one free-form value, so that a small
// file with nested aliases ("billion laughs") cannot expand without limit.
const maxValueNodes = 100000

func (d *document) value(e entry, n *yaml.Node, budget *int) (any, error) {
	n = deref(n)
	*budget--
	if *budget < 0 {
		return nil, &Error{File: d.file, Line: n.Line, Key: e.as, Msg: "value too large or too many aliases"}
	}
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		lines := make(map[string]int)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := deref(n.Content[i])
			name, err := d.mapKey(e, k)
			if err != nil {
				return nil, err
			}
			if line, dup := lines[name]; dup {
				return nil, &Error{File: d.file, Line: k.Line, Key: e.as, Msg: fmt.Sprintf("%q appears twice (first on line %d)", name, line)}
			}
			lines[name] = k.Line
			v, err := d.value(e, n.Content[i+1], budget)
			if err != nil {
				return nil, err
			}
			m[name] = v
		}
		return m, nil
	case yaml.SequenceNode:
		l := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := d.value(e, c, budget)
			if err != nil {
				return nil, err
			}
			l = append(l, v)
		}
		return l, nil
	case yaml.ScalarNode:
		tag := n.Tag
		if n.Style&yaml.TaggedStyle == 0 {
			_, tag = scalarTags(n)
		}
		if tag == tagMerge {
			return nil, &Error{File: d.file, Line: n.Line, Key: e.as, Msg: "merge keys (<<) are not supported; write the keys out"}
		}
		v, err := pyConstruct(tag, n.Value)
		if err != nil {
			return nil, &Error{File: d.file, Line: n.Line, Key: e.as, Msg: err.Error(), Err: err}
		}
		return v, nil
	}
	return nil, &Error{File: d.file, Line: n.Line, Key: e.as, Msg: "unsupported YAML node"}
}

// Writing.

// field is one key of a document being written.
type field struct {
	key string
	val *yaml.Node
}

// mappingNode returns a block mapping of fields sorted by key.
func mappingNode(fields []field) *yaml.Node {
	sort.Slice(fields, func(i, j int) bool { return fields[i].key < fields[j].key })
	m := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for _, f := range fields {
		m.Content = append(m.Content, strNode(f.key), f.val)
	}
	return m
}

// strNode returns a string scalar, single-quoted when PyYAML would otherwise read it as
// something else (yaml.v3 adds quotes of its own for YAML 1.2 look-alikes).
func strNode(s string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: tagStr, Value: s}
	if pyNeedsQuote(s) {
		n.Style = yaml.SingleQuotedStyle
	}
	return n
}

// optStrNode writes "" as null, as the original wrote unset keys.
func optStrNode(s string) *yaml.Node {
	if s == "" {
		return nullNode()
	}
	return strNode(s)
}

func nullNode() *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: tagNull, Value: "null"}
}

func intNode(i int) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: tagInt, Value: strconv.Itoa(i)}
}

func strListNode(l []string) *yaml.Node {
	s := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
	for _, v := range l {
		s.Content = append(s.Content, strNode(v))
	}
	return s
}

// stringMapNode writes a map of strings, {} when empty.
func stringMapNode(m map[string]string) *yaml.Node {
	fields := make([]field, 0, len(m))
	for k, v := range m {
		fields = append(fields, field{k, strNode(v)})
	}
	return mappingNode(fields)
}

// encodeNode writes n the way PyYAML's safe_dump(default_flow_style=False) lays it out.
// Strings must be valid UTF-8 (yaml.v3 would write others as !!binary, which the original's
// safe_load reads as bytes).
func encodeNode(n *yaml.Node) ([]byte, error) {
	if err := checkUTF8(n); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	enc.CompactSeqIndent()
	if err := enc.Encode(n); err != nil {
		return nil, fmt.Errorf("encode YAML: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode YAML: %w", err)
	}
	return b.Bytes(), nil
}

// ordered returns the entries in the order they appear in the document, so that the first
// error reported is the first one in the file.
func ordered(ents map[string]entry) []entry {
	out := make([]entry, 0, len(ents))
	for _, e := range ents {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].k.Line != out[j].k.Line {
			return out[i].k.Line < out[j].k.Line
		}
		return out[i].k.Column < out[j].k.Column
	})
	return out
}

func checkUTF8(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode && !utf8.ValidString(n.Value) {
		return &Error{Msg: fmt.Sprintf("cannot write %q: not valid UTF-8", clip(n.Value))}
	}
	for _, c := range n.Content {
		if err := checkUTF8(c); err != nil {
			return err
		}
	}
	return nil
}
