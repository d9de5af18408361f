// Package platform reads vr's platform file (vrcli --config, VR_CONFIG, default
// /etc/vr/platform.yaml), the desired state of an installation.
//
// For now it reads the balancers: the top-level `balancers` key, or `BALANCERS` as in the
// original's settings, holding balancer names mapped to their settings (see
// balancer.ParseConfigs). The other sections that DESIGN.md describes (squads, apps,
// ingredients, swarms) are reserved: they are accepted and not yet read, and the swarm issue
// extends this package with them. Any other top-level key is an error.
package platform

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"regexp"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"

	"github.com/vr-paas/vr/pkg/balancer"
	"github.com/vr-paas/vr/pkg/schema"
)

// DefaultPath is where vrcli looks for the platform file by default.
const DefaultPath = "/etc/vr/platform.yaml"

// reserved are the top-level sections that later versions read.
var reserved = []string{"squads", "apps", "ingredients", "swarms"}

// Platform is the parsed platform file.
type Platform struct {
	File      string
	Balancers []balancer.Config // in file order
}

// Balancer returns the configuration of the balancer called name; an unknown name is an
// error wrapping balancer.ErrUnknownBalancer that lists the configured ones.
func (p *Platform) Balancer(name string) (balancer.Config, error) {
	var names []string
	for _, c := range p.Balancers {
		if c.Name == name {
			return c, nil
		}
		names = append(names, c.Name)
	}
	known := "none are configured"
	if len(names) > 0 {
		known = "configured: " + strings.Join(names, ", ")
	}
	return balancer.Config{}, &schema.Error{File: p.File, Msg: fmt.Sprintf("%v %q (%s)", balancer.ErrUnknownBalancer, name, known), Err: balancer.ErrUnknownBalancer}
}

// Load reads and parses the platform file at path. Errors are *schema.Error (bad input).
func Load(path string) (*Platform, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		msg := "cannot read the platform file"
		var pe *fs.PathError
		if errors.As(err, &pe) {
			msg += ": " + pe.Err.Error()
		}
		if errors.Is(err, fs.ErrNotExist) {
			msg += " (give it with --config or VR_CONFIG)"
		}
		return nil, &schema.Error{File: path, Msg: msg, Err: err}
	}
	return Parse(path, data)
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// Parse parses a platform file's contents; file names it in errors.
func Parse(file string, data []byte) (p *Platform, err error) {
	defer func() {
		if r := recover(); r != nil {
			p, err = nil, &schema.Error{File: file, Msg: fmt.Sprintf("invalid YAML (parser failure: %v)", r)}
		}
	}()
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return &Platform{File: file}, nil
		}
		msg, line := strings.TrimPrefix(err.Error(), "yaml: "), 0
		if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
			line, _ = strconv.Atoi(m[1])
			msg = m[2]
		}
		return nil, &schema.Error{File: file, Line: line, Msg: "invalid YAML: " + msg, Err: err}
	}
	p = &Platform{File: file}
	if len(doc.Content) == 0 {
		return p, nil
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return p, nil
	}
	if root.Kind != yaml.MappingNode {
		return nil, &schema.Error{File: file, Line: root.Line, Msg: "expected a mapping of sections (balancers, squads, apps, swarms)"}
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if l, dup := seen[k.Value]; dup {
			return nil, &schema.Error{File: file, Line: k.Line, Key: k.Value, Msg: fmt.Sprintf("duplicate key (first at line %d)", l)}
		}
		seen[k.Value] = k.Line
		switch {
		case k.Value == "balancers" || k.Value == "BALANCERS":
			_, lower := seen["balancers"]
			if _, upper := seen["BALANCERS"]; lower && upper {
				return nil, &schema.Error{File: file, Line: k.Line, Key: k.Value, Msg: "give balancers once, as balancers or BALANCERS"}
			}
			cfgs, err := balancer.ParseConfigs(file, v)
			if err != nil {
				return nil, err
			}
			p.Balancers = cfgs
		case contains(reserved, k.Value):
			// Read by the swarm commands (a later issue).
		default:
			return nil, &schema.Error{File: file, Line: k.Line, Key: k.Value,
				Msg: "unknown section; known: balancers (or BALANCERS), " + strings.Join(reserved, ", ")}
		}
	}
	return p, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
