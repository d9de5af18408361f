package balancer

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	yaml "go.yaml.in/yaml/v3"

	"github.com/vr-paas/vr/pkg/schema"
)

// Config is one entry of the BALANCERS mapping: a balancer's name, its BACKEND and its other
// options, with where they were read (for error messages).
type Config struct {
	Name        string     // the key under BALANCERS ("my_nginx_balancer")
	Backend     string     // BACKEND as written (a short name or a dotted class path)
	Options     *yaml.Node // the mapping of options, BACKEND included (ignored by DecodeOptions)
	File        string     // file the configuration was read from ("" when unknown)
	Line        int        // line of the balancer's name
	BackendLine int        // line of BACKEND
}

// BackendKey is the key that names a balancer's backend.
const BackendKey = "BACKEND"

// ParseConfigs reads the value of a BALANCERS key (n, a mapping of balancer names to option
// mappings) from file. Each entry must have a string BACKEND. Order is the file's.
func ParseConfigs(file string, n *yaml.Node) ([]Config, error) {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null") {
		return nil, nil
	}
	if n.Kind != yaml.MappingNode {
		return nil, &schema.Error{File: file, Line: n.Line, Key: "BALANCERS", Msg: "expected a mapping of balancer names to their settings"}
	}
	var out []Config
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		for v.Kind == yaml.AliasNode {
			v = v.Alias
		}
		name := k.Value
		if k.Kind != yaml.ScalarNode || name == "" {
			return nil, &schema.Error{File: file, Line: k.Line, Key: "BALANCERS", Msg: "balancer names must be non-empty strings"}
		}
		if seen[name] {
			return nil, &schema.Error{File: file, Line: k.Line, Key: name, Msg: "balancer defined twice"}
		}
		seen[name] = true
		if v.Kind != yaml.MappingNode {
			return nil, &schema.Error{File: file, Line: v.Line, Key: name, Msg: "expected a mapping of settings with a BACKEND"}
		}
		c := Config{Name: name, Options: v, File: file, Line: k.Line}
		for j := 0; j+1 < len(v.Content); j += 2 {
			if v.Content[j].Value == BackendKey {
				bv := v.Content[j+1]
				if bv.Kind != yaml.ScalarNode || bv.Tag != "!!str" || bv.Value == "" {
					return nil, &schema.Error{File: file, Line: bv.Line, Key: name + "." + BackendKey, Msg: "expected a backend name such as nginx or vr.common.balancer.nginx.NginxBalancer"}
				}
				c.Backend, c.BackendLine = bv.Value, bv.Line
			}
		}
		if c.Backend == "" {
			return nil, &schema.Error{File: file, Line: k.Line, Key: name, Msg: "missing BACKEND (for example BACKEND: nginx)"}
		}
		out = append(out, c)
	}
	return out, nil
}

// DecodeOptions decodes cfg.Options into dst (a pointer to a struct with yaml tags; ",inline"
// structs are followed), refusing unknown keys (with the list of known ones) and values of the
// wrong type, as *schema.Error naming the file, line and key.
func DecodeOptions(cfg Config, dst any) error {
	known := map[string]bool{BackendKey: true}
	yamlKeys(reflect.TypeOf(dst), known)
	n := cfg.Options
	if n == nil {
		return nil
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if seen[k.Value] {
			return &schema.Error{File: cfg.File, Line: k.Line, Key: cfg.Name + "." + k.Value, Msg: "duplicate key"}
		}
		seen[k.Value] = true
		if !known[k.Value] {
			var names []string
			for name := range known {
				if name != BackendKey {
					names = append(names, name)
				}
			}
			sort.Strings(names)
			msg := "unknown setting"
			if s := closest(k.Value, names); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			return &schema.Error{File: cfg.File, Line: k.Line, Key: cfg.Name + "." + k.Value,
				Msg: fmt.Sprintf("%s for backend %s; known: %s", msg, cfg.Backend, strings.Join(names, ", "))}
		}
	}
	// Decode key by key so that a type error names its key and line.
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Value == BackendKey {
			continue
		}
		one := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{k, v}}
		if err := one.Decode(dst); err != nil {
			msg := err.Error()
			if te, ok := err.(*yaml.TypeError); ok && len(te.Errors) > 0 { //nolint:errorlint // yaml.v3 returns *TypeError itself
				msg = te.Errors[0]
			}
			msg = strings.TrimPrefix(msg, "yaml: ")
			if j := strings.Index(msg, ": "); j >= 0 && strings.HasPrefix(msg, "line ") {
				msg = msg[j+2:]
			}
			return &schema.Error{File: cfg.File, Line: v.Line, Key: cfg.Name + "." + k.Value, Msg: msg, Err: err}
		}
	}
	return nil
}

// yamlKeys collects the yaml keys of struct type t (following pointers and inline fields).
func yamlKeys(t reflect.Type, into map[string]bool) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if strings.Contains(opts, "inline") {
			yamlKeys(f.Type, into)
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		into[name] = true
	}
}

// closest returns the known name nearest to s (edit distance at most 2), or "".
func closest(s string, names []string) string {
	best, bestD := "", 3
	for _, n := range names {
		if d := distance(strings.ToLower(s), strings.ToLower(n)); d < bestD {
			best, bestD = n, d
		}
	}
	return best
}

func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := prev[j-1]
			if a[i-1] != b[j-1] {
				c++
			}
			cur[j] = min(c, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
