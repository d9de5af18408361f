package buildpack

import (
	"bytes"
	"fmt"

	yaml "go.yaml.in/yaml/v3"

	"github.com/vr-paas/vr/pkg/schema"
)

// ParseRelease reads what bin/release printed: a YAML mapping (typically addons,
// config_vars and default_process_types), or nothing (nil). Values are read as the original
// read them (PyYAML's safe_load: "yes" is true, 0777 is octal), by pkg/schema's reader of
// release_data, so that build_result.yaml writes them back the same way. name is used in
// errors.
func ParseRelease(name string, data []byte) (map[string]any, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, nil
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: not YAML: %w", name, err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, nil
	}
	content := doc.Content[0]
	if content.Kind == yaml.ScalarNode && content.Tag == "!!null" {
		return nil, nil
	}
	if content.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: expected a YAML mapping (addons, config_vars, default_process_types), got %s", name, kindName(content))
	}
	// Read it as the release_data of a minimal build result, with schema's reader.
	str := func(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }
	wrapper := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{
		str("release_data"), content,
		str("app_name"), str("x"),
		str("app_repo_type"), str("git"),
		str("app_repo_url"), str("x"),
		str("buildpack_url"), str("x"),
		str("version"), str("x"),
	}}
	text, err := yaml.Marshal(wrapper)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	job, err := schema.ParseBuildJob(name, text)
	if err != nil {
		return nil, err
	}
	if job.ReleaseData == nil {
		return map[string]any{}, nil
	}
	return job.ReleaseData, nil
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("a scalar (%q)", clip(n.Value, 40))
	case yaml.AliasNode:
		return "an alias"
	}
	return "something else"
}
