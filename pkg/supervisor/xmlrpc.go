package supervisor

// The XML-RPC encoding is written here instead of imported. The one module of the proxy that fits
// by name, github.com/kolo/xmlrpc (latest v0.0.0-20220921171641-a4b6fa1dd06b, untagged,
// unchanged since 2022), sits on net/rpc: calls take no context (no per-call deadline or
// cancellation), and a fault reaches the caller only as the string "Fault(10): BAD_NAME: x", so
// telling ALREADY_STARTED or BAD_NAME apart means parsing that text again, which is the original's
// bug (see reference §9). alexejk.io/go-xmlrpc is not served by the proxy. What Supervisor needs
// is small (scalars, arrays, structs, faults), and writing it gives typed faults, contexts and a
// decoder that can be fuzzed.

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Fault is an XML-RPC fault returned by supervisord: Code is one of the Fault* constants,
// String is Supervisor's text, usually "<NAME>: <detail>" (for example "BAD_NAME: web").
type Fault struct {
	Code   int
	String string
}

func (f *Fault) Error() string {
	return fmt.Sprintf("fault %d: %s", f.Code, f.String)
}

// Is makes errors.Is(err, ErrNoSuchProcess) true for BAD_NAME faults, ErrAlreadyStarted for
// ALREADY_STARTED and ErrNotRunning for NOT_RUNNING.
func (f *Fault) Is(target error) bool {
	switch target {
	case ErrNoSuchProcess:
		return f.Code == FaultBadName
	case ErrAlreadyStarted:
		return f.Code == FaultAlreadyStarted
	case ErrNotRunning:
		return f.Code == FaultNotRunning
	}
	return false
}

// Supervisor's fault codes (supervisor.xmlrpc.Faults).
const (
	FaultUnknownMethod        = 1
	FaultIncorrectParameters  = 2
	FaultBadArguments         = 3
	FaultSignatureUnsupported = 4
	FaultShutdownState        = 6
	FaultBadName              = 10
	FaultBadSignal            = 11
	FaultNoFile               = 20
	FaultNotExecutable        = 21
	FaultFailed               = 30
	FaultAbnormalTermination  = 40
	FaultSpawnError           = 50
	FaultAlreadyStarted       = 60
	FaultNotRunning           = 70
	FaultSuccess              = 80
	FaultAlreadyAdded         = 90
	FaultStillRunning         = 91
	FaultCantReread           = 92
)

// EncodeCall returns the XML-RPC methodCall document for method with args. Arguments may be
// nil, bool, any integer type, float64, string, []byte (base64), time.Time (dateTime.iso8601,
// UTC), slices (array) and map[string]T (struct, keys sorted).
func EncodeCall(method string, args ...any) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0"?>` + "\n<methodCall><methodName>")
	if err := xml.EscapeText(&b, []byte(method)); err != nil {
		return nil, err
	}
	b.WriteString("</methodName><params>")
	for i, a := range args {
		b.WriteString("<param>")
		if err := encodeValue(&b, reflect.ValueOf(a), 0); err != nil {
			return nil, fmt.Errorf("xml-rpc argument %d of %s: %w", i+1, method, err)
		}
		b.WriteString("</param>")
	}
	b.WriteString("</params></methodCall>\n")
	return b.Bytes(), nil
}

const maxDepth = 64

func encodeValue(b *bytes.Buffer, v reflect.Value, depth int) error {
	if depth > maxDepth {
		return errors.New("value nested too deeply")
	}
	if !v.IsValid() {
		b.WriteString("<value><nil/></value>")
		return nil
	}
	if t, ok := v.Interface().(time.Time); ok {
		b.WriteString("<value><dateTime.iso8601>" + t.UTC().Format("20060102T15:04:05") + "</dateTime.iso8601></value>")
		return nil
	}
	switch v.Kind() {
	case reflect.Interface, reflect.Pointer:
		if v.IsNil() {
			b.WriteString("<value><nil/></value>")
			return nil
		}
		return encodeValue(b, v.Elem(), depth+1)
	case reflect.Bool:
		s := "0"
		if v.Bool() {
			s = "1"
		}
		b.WriteString("<value><boolean>" + s + "</boolean></value>")
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n := v.Int()
		if n < math.MinInt32 || n > math.MaxInt32 {
			b.WriteString("<value><i8>" + strconv.FormatInt(n, 10) + "</i8></value>")
		} else {
			b.WriteString("<value><int>" + strconv.FormatInt(n, 10) + "</int></value>")
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n := v.Uint()
		if n > math.MaxInt64 {
			return fmt.Errorf("integer %d does not fit in i8", n)
		}
		return encodeValue(b, reflect.ValueOf(int64(n)), depth)
	case reflect.Float32, reflect.Float64:
		f := v.Float()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Errorf("cannot encode %v as an XML-RPC double", f)
		}
		b.WriteString("<value><double>" + strconv.FormatFloat(f, 'f', -1, 64) + "</double></value>")
	case reflect.String:
		b.WriteString("<value><string>")
		if err := xml.EscapeText(b, []byte(v.String())); err != nil {
			return err
		}
		b.WriteString("</string></value>")
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8 {
			b.WriteString("<value><base64>" + base64.StdEncoding.EncodeToString(v.Bytes()) + "</base64></value>")
			return nil
		}
		b.WriteString("<value><array><data>")
		for i := 0; i < v.Len(); i++ {
			if err := encodeValue(b, v.Index(i), depth+1); err != nil {
				return err
			}
		}
		b.WriteString("</data></array></value>")
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String {
			return fmt.Errorf("cannot encode %s: struct keys must be strings", v.Type())
		}
		keys := make([]string, 0, v.Len())
		for _, k := range v.MapKeys() {
			keys = append(keys, k.String())
		}
		sort.Strings(keys)
		b.WriteString("<value><struct>")
		for _, k := range keys {
			b.WriteString("<member><name>")
			if err := xml.EscapeText(b, []byte(k)); err != nil {
				return err
			}
			b.WriteString("</name>")
			if err := encodeValue(b, v.MapIndex(reflect.ValueOf(k).Convert(v.Type().Key())), depth+1); err != nil {
				return err
			}
			b.WriteString("</member>")
		}
		b.WriteString("</struct></value>")
	default:
		return fmt.Errorf("cannot encode a %s as XML-RPC", v.Type())
	}
	return nil
}

// DecodeResponse parses an XML-RPC methodResponse. It returns the single result value, or a
// *Fault as the error when the response is a fault. Values decode to nil, bool, int64 (int, i4,
// i8), float64, string, []byte (base64), time.Time (dateTime.iso8601), []any and map[string]any.
func DecodeResponse(body []byte) (any, error) {
	d := xml.NewDecoder(bytes.NewReader(body))
	d.CharsetReader = charsetReader
	if err := expectStart(d, "methodResponse"); err != nil {
		return nil, err
	}
	se, err := nextStart(d)
	if err != nil {
		return nil, err
	}
	switch se.Name.Local {
	case "params":
		if err := expectStart(d, "param"); err != nil {
			return nil, err
		}
		if err := expectStart(d, "value"); err != nil {
			return nil, err
		}
		v, err := decodeValue(d, 0)
		if err != nil {
			return nil, err
		}
		if err := expectEnd(d, "param"); err != nil {
			return nil, err
		}
		if err := expectEnd(d, "params"); err != nil {
			return nil, err
		}
		if err := expectEnd(d, "methodResponse"); err != nil {
			return nil, err
		}
		return v, nil
	case "fault":
		if err := expectStart(d, "value"); err != nil {
			return nil, err
		}
		v, err := decodeValue(d, 0)
		if err != nil {
			return nil, err
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("xml-rpc fault is a %T, not a struct", v)
		}
		code, ok1 := m["faultCode"].(int64)
		text, ok2 := m["faultString"].(string)
		if !ok1 || !ok2 {
			return nil, errors.New("xml-rpc fault without an integer faultCode and a string faultString")
		}
		return nil, &Fault{Code: int(code), String: text}
	default:
		return nil, fmt.Errorf("xml-rpc response: unexpected <%s>", se.Name.Local)
	}
}

// decodeValue decodes the contents of a <value> element whose start tag was just read, up to and
// including its end tag.
func decodeValue(d *xml.Decoder, depth int) (any, error) {
	if depth > maxDepth {
		return nil, errors.New("xml-rpc value nested too deeply")
	}
	var text strings.Builder
	var se xml.StartElement
	for found := false; !found; {
		tok, err := token(d)
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.CharData:
			text.Write(t)
		case xml.EndElement:
			// An untyped value is a string, whitespace included.
			return text.String(), nil
		case xml.StartElement:
			if strings.TrimSpace(text.String()) != "" {
				return nil, errors.New("xml-rpc value mixes text and a typed element")
			}
			se, found = t, true
		}
	}
	var v any
	var err error
	switch typ := se.Name.Local; typ {
	case "string":
		v, err = elementText(d)
	case "int", "i4", "i8":
		var s string
		if s, err = elementText(d); err == nil {
			v, err = strconv.ParseInt(strings.TrimSpace(s), 10, 64)
			if err != nil {
				err = fmt.Errorf("xml-rpc <%s>: %w", typ, err)
			}
		}
	case "boolean":
		var s string
		if s, err = elementText(d); err == nil {
			switch strings.TrimSpace(s) {
			case "1":
				v = true
			case "0":
				v = false
			default:
				err = fmt.Errorf("xml-rpc <boolean> %q is not 0 or 1", clip(s))
			}
		}
	case "double":
		var s string
		if s, err = elementText(d); err == nil {
			v, err = strconv.ParseFloat(strings.TrimSpace(s), 64)
			if err != nil {
				err = fmt.Errorf("xml-rpc <double>: %w", err)
			}
		}
	case "dateTime.iso8601":
		var s string
		if s, err = elementText(d); err == nil {
			v, err = parseISO8601(strings.TrimSpace(s))
		}
	case "base64":
		var s string
		if s, err = elementText(d); err == nil {
			v, err = base64.StdEncoding.DecodeString(strings.Join(strings.Fields(s), ""))
			if err != nil {
				err = fmt.Errorf("xml-rpc <base64>: %w", err)
			}
		}
	case "nil":
		v, err = nil, expectEnd(d, "nil")
	case "struct":
		v, err = decodeStruct(d, depth)
	case "array":
		v, err = decodeArray(d, depth)
	default:
		return nil, fmt.Errorf("xml-rpc: unknown value type <%s>", clip(typ))
	}
	if err != nil {
		return nil, err
	}
	return v, expectEnd(d, "value")
}

func decodeStruct(d *xml.Decoder, depth int) (any, error) {
	m := map[string]any{}
	for {
		tok, err := nextElement(d)
		if err != nil {
			return nil, err
		}
		if _, ok := tok.(xml.EndElement); ok {
			return m, nil // </struct>
		}
		if se := tok.(xml.StartElement); se.Name.Local != "member" {
			return nil, fmt.Errorf("xml-rpc struct: unexpected <%s>", clip(se.Name.Local))
		}
		if err := expectStart(d, "name"); err != nil {
			return nil, err
		}
		name, err := elementText(d)
		if err != nil {
			return nil, err
		}
		if err := expectStart(d, "value"); err != nil {
			return nil, err
		}
		v, err := decodeValue(d, depth+1)
		if err != nil {
			return nil, err
		}
		m[name] = v
		if err := expectEnd(d, "member"); err != nil {
			return nil, err
		}
	}
}

func decodeArray(d *xml.Decoder, depth int) (any, error) {
	if err := expectStart(d, "data"); err != nil {
		return nil, err
	}
	a := []any{}
	for {
		tok, err := nextElement(d)
		if err != nil {
			return nil, err
		}
		if _, ok := tok.(xml.EndElement); ok {
			return a, expectEnd(d, "array") // after </data>
		}
		if se := tok.(xml.StartElement); se.Name.Local != "value" {
			return nil, fmt.Errorf("xml-rpc array: unexpected <%s>", clip(se.Name.Local))
		}
		v, err := decodeValue(d, depth+1)
		if err != nil {
			return nil, err
		}
		a = append(a, v)
	}
}

// token returns the next token that matters (no comments, processing instructions or
// directives); a clean end of input is io.ErrUnexpectedEOF, since callers always expect more.
func token(d *xml.Decoder) (xml.Token, error) {
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return nil, fmt.Errorf("xml-rpc: %w", io.ErrUnexpectedEOF)
		}
		if err != nil {
			return nil, fmt.Errorf("xml-rpc: %w", err)
		}
		switch tok.(type) {
		case xml.Comment, xml.ProcInst, xml.Directive:
			continue
		}
		return tok, nil
	}
}

// nextElement skips whitespace and returns the next start or end element.
func nextElement(d *xml.Decoder) (xml.Token, error) {
	for {
		tok, err := token(d)
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.CharData:
			if len(bytes.TrimSpace(t)) != 0 {
				return nil, fmt.Errorf("xml-rpc: unexpected text %q", clip(string(t)))
			}
		case xml.StartElement, xml.EndElement:
			return t, nil
		}
	}
}

func nextStart(d *xml.Decoder) (xml.StartElement, error) {
	tok, err := nextElement(d)
	if err != nil {
		return xml.StartElement{}, err
	}
	se, ok := tok.(xml.StartElement)
	if !ok {
		return xml.StartElement{}, fmt.Errorf("xml-rpc: unexpected </%s>", clip(tok.(xml.EndElement).Name.Local))
	}
	return se, nil
}

func expectStart(d *xml.Decoder, name string) error {
	se, err := nextStart(d)
	if err != nil {
		return err
	}
	if se.Name.Local != name {
		return fmt.Errorf("xml-rpc: expected <%s>, got <%s>", name, clip(se.Name.Local))
	}
	return nil
}

func expectEnd(d *xml.Decoder, name string) error {
	tok, err := nextElement(d)
	if err != nil {
		return err
	}
	switch t := tok.(type) {
	case xml.EndElement:
		if t.Name.Local != name { // encoding/xml already checks nesting; this is belt and braces
			return fmt.Errorf("xml-rpc: expected </%s>, got </%s>", name, clip(t.Name.Local))
		}
		return nil
	default:
		return fmt.Errorf("xml-rpc: expected </%s>, got <%s>", name, clip(t.(xml.StartElement).Name.Local))
	}
}

// elementText reads the text of an element whose start tag was just read, through its end tag.
func elementText(d *xml.Decoder) (string, error) {
	var b strings.Builder
	for {
		tok, err := token(d)
		if err != nil {
			return "", err
		}
		switch t := tok.(type) {
		case xml.CharData:
			b.Write(t)
		case xml.EndElement:
			return b.String(), nil
		case xml.StartElement:
			return "", fmt.Errorf("xml-rpc: unexpected <%s> inside a scalar", clip(t.Name.Local))
		}
	}
}

func parseISO8601(s string) (time.Time, error) {
	for _, layout := range []string{"20060102T15:04:05", "20060102T15:04:05Z07:00", "2006-01-02T15:04:05", "2006-01-02T15:04:05Z07:00"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("xml-rpc <dateTime.iso8601> %q: not YYYYMMDDTHH:MM:SS", clip(s))
}

// charsetReader accepts the encodings Python's xmlrpc may declare: UTF-8 and its subset ASCII
// as they are, ISO-8859-1 converted to UTF-8.
func charsetReader(charset string, r io.Reader) (io.Reader, error) {
	switch strings.ToLower(charset) {
	case "utf-8", "utf8", "us-ascii", "ascii":
		return r, nil
	case "iso-8859-1", "latin-1", "latin1":
		b, err := io.ReadAll(r)
		if err != nil {
			return nil, err
		}
		out := make([]byte, 0, len(b))
		for _, c := range b {
			out = utf8.AppendRune(out, rune(c))
		}
		return bytes.NewReader(out), nil
	}
	return nil, fmt.Errorf("xml-rpc: unsupported charset %q", clip(charset))
}

// clip shortens s for an error message.
func clip(s string) string {
	const n = 60
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}
