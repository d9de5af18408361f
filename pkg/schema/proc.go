package schema

import (
	"fmt"
	"strings"
	"unicode/utf8"

	yaml "go.yaml.in/yaml/v3"
)

// ProcConfig is proc.yaml: everything a runner needs to set up and run one proc. It has every
// key of the original's ProcData, with the legacy spelling "proc" accepted for "proc_name".
//
// Unknown keys: ParseProcConfig refuses them, unlike the original, which ignored them. The
// choice is deliberate. proc.yaml decides what runs and as whom (user, volumes, mem_limit), so
// a misspelt "mem_limt" or a key that a newer vr added (a writer newer than the runner) must
// stop the runner with a clear message instead of silently running the proc without it. The
// original server wrote only the keys listed here, so its files parse. Readers that only
// observe procs (listing, proc-publisher) use ParseProcConfigLenient, which ignores unknown
// keys as the original did and returns them so they can be reported.
//
// Empty strings and null are the same for every string key.
type ProcConfig struct {
	AppName     string // app_name: first field of the proc name
	Version     string // version: second field
	ConfigName  string // config_name: third field
	ReleaseHash string // release_hash: fourth field ("" in the original's build procs)
	ProcName    string // proc_name (legacy "proc"): fifth field, the Procfile entry to run unless Cmd is set, and the uptests folder
	Port        int    // port: sixth field, exported as PORT and given to uptests; 0..65535, 0 for none (build procs)

	Cmd  string // cmd: explicit command; overrides the Procfile. ProcName or Cmd is required.
	Host string // host: host given to uptests (may be another machine)

	User  string // user: owner of the unpacked build and user the proc runs as
	Group string // group: group of the unpacked build

	Env      map[string]string // env: the proc's environment (values keep their YAML text)
	Settings map[string]any    // settings: written to /settings.yaml (APP_SETTINGS_YAML)

	BuildURL string // build_url: URL of the build tarball; empty: nothing downloaded
	BuildMD5 string // build_md5: expected MD5 of the build tarball

	ImageURL  string // image_url: OS image tarball (vruntime); requires ImageName
	ImageName string // image_name: directory name of the image under /apps/images
	ImageMD5  string // image_md5: expected MD5 of the image tarball

	Volumes []Volume // volumes: bind mounts, written as a list of [host_dir, container_dir]

	MemLimit   string // mem_limit: memory limit such as "256M" (see ParseSize); an int in the file is kept as its digits
	MemswLimit string // memsw_limit: memory+swap limit, at least MemLimit

	AppFolder string // app_folder: if set, LXC's debug log goes to <app_folder>/.lxcdebug.log (build procs)

	// Informational only, as in the original.
	AppRepoURL       string // app_repo_url
	AppRepoType      string // app_repo_type: "", git or hg
	BuildpackURL     string // buildpack_url
	BuildpackVersion string // buildpack_version
}

// Volume is a bind mount of a host directory into the proc's container.
type Volume struct {
	Host      string // absolute path on the host
	Container string // absolute path inside the container
}

var procConfigKeys = keySpec{
	known: sortedList(
		"app_folder", "app_name", "app_repo_type", "app_repo_url", "build_md5", "build_url",
		"buildpack_url", "buildpack_version", "cmd", "config_name", "env", "group", "host",
		"image_md5", "image_name", "image_url", "mem_limit", "memsw_limit", "port", "proc_name",
		"release_hash", "settings", "user", "version", "volumes",
	),
	legacy: map[string]string{"proc": "proc_name"},
}

// ProcConfigKeys returns the keys of proc.yaml, sorted.
func ProcConfigKeys() []string {
	return append([]string(nil), procConfigKeys.known...)
}

// LoadProcConfig reads and validates a proc.yaml file.
func LoadProcConfig(path string) (*ProcConfig, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, err
	}
	return ParseProcConfig(path, data)
}

// ParseProcConfig parses and validates a proc.yaml; name is the file name used in errors.
// Unknown keys are errors (see ProcConfig).
func ParseProcConfig(name string, data []byte) (*ProcConfig, error) {
	p, _, err := parseProcConfig(name, data, false)
	return p, err
}

// ParseProcConfigLenient parses a proc.yaml the way the original read it: unknown keys are
// ignored (and returned, in file order, so callers can report them) and the values are not
// validated beyond their types. For observers of procs that vr may not have written; use
// ParseProcConfig before running anything.
func ParseProcConfigLenient(name string, data []byte) (*ProcConfig, []string, error) {
	return parseProcConfig(name, data, true)
}

func parseProcConfig(name string, data []byte, lenient bool) (*ProcConfig, []string, error) {
	d, err := parseDocument(name, data)
	if err != nil {
		return nil, nil, err
	}
	spec := procConfigKeys
	spec.allowUnknown = lenient
	ents, unknown, err := d.entries(spec)
	if err != nil {
		return nil, nil, err
	}
	p := &ProcConfig{}
	var volLines []int // line of each volume item
	for _, e := range ordered(ents) {
		switch e.key {
		case "app_folder":
			p.AppFolder, err = d.str(e)
		case "app_name":
			p.AppName, err = d.str(e)
		case "app_repo_type":
			p.AppRepoType, err = d.str(e)
		case "app_repo_url":
			p.AppRepoURL, err = d.str(e)
		case "build_md5":
			p.BuildMD5, err = d.str(e)
		case "build_url":
			p.BuildURL, err = d.str(e)
		case "buildpack_url":
			p.BuildpackURL, err = d.str(e)
		case "buildpack_version":
			p.BuildpackVersion, err = d.str(e)
		case "cmd":
			p.Cmd, err = d.str(e)
		case "config_name":
			p.ConfigName, err = d.str(e)
		case "env":
			p.Env, err = d.stringMap(e)
		case "group":
			p.Group, err = d.str(e)
		case "host":
			p.Host, err = d.str(e)
		case "image_md5":
			p.ImageMD5, err = d.str(e)
		case "image_name":
			p.ImageName, err = d.str(e)
		case "image_url":
			p.ImageURL, err = d.str(e)
		case "mem_limit":
			p.MemLimit, err = d.size(e)
		case "memsw_limit":
			p.MemswLimit, err = d.size(e)
		case "port":
			p.Port, _, err = d.plainInt(e, "a port number 0..65535")
			if err == nil && (p.Port < 0 || p.Port > 65535) {
				err = d.errAt(e, "port %d is out of range; expected 0..65535", p.Port)
			}
		case "proc_name":
			p.ProcName, err = d.str(e)
		case "release_hash":
			p.ReleaseHash, err = d.str(e)
		case "settings":
			p.Settings, err = d.anyMap(e)
			if len(p.Settings) == 0 {
				p.Settings = nil
			}
		case "user":
			p.User, err = d.str(e)
		case "version":
			p.Version, err = d.str(e)
		case "volumes":
			p.Volumes, volLines, err = d.volumes(e)
		}
		if err != nil {
			return nil, nil, err
		}
	}
	if !lenient {
		if err := p.Validate(); err != nil {
			err = d.place(err, ents)
			// A bad volume path: the line of its item rather than of "volumes:".
			if i, verr := checkVolumes(p.Volumes); verr != nil && i < len(volLines) {
				if e, ok := err.(*Error); ok && e.Key == ents["volumes"].as { //nolint:errorlint // place returns *Error
					e.Line = volLines[i]
				}
			}
			return nil, nil, err
		}
	}
	return p, unknown, nil
}

// size reads a memory limit: a string, or an unquoted decimal int kept as its digits.
func (d *document) size(e entry) (string, error) {
	n := e.v
	if n.Kind == yaml.ScalarNode && n.Style&quotedStyles == 0 && n.Tag == tagInt && isDecimal(n.Value) {
		return n.Value, nil
	}
	s, err := d.str(e)
	if err != nil {
		return "", d.errAt(e, "got %s; expected a size such as 256M or a number of bytes", describe(n))
	}
	return s, nil
}

// volumes reads a list of [host_dir, container_dir] pairs, and the line of each pair.
func (d *document) volumes(e entry) ([]Volume, []int, error) {
	n := e.v
	if isNull(n) {
		return nil, nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, nil, d.errAt(e, "got %s; expected a list of [host_dir, container_dir] pairs", describe(n))
	}
	var out []Volume
	var lines []int
	for i, c := range n.Content {
		c = deref(c)
		if c.Kind != yaml.SequenceNode || len(c.Content) != 2 {
			return nil, nil, &Error{File: d.file, Line: c.Line, Key: e.as, Msg: fmt.Sprintf("item %d: got %s; expected a pair [host_dir, container_dir]", i+1, describeLen(c))}
		}
		h, err := d.strNode(e, c.Content[0])
		if err != nil {
			return nil, nil, err
		}
		ct, err := d.strNode(e, c.Content[1])
		if err != nil {
			return nil, nil, err
		}
		out = append(out, Volume{Host: h, Container: ct})
		lines = append(lines, c.Line)
	}
	return out, lines, nil
}

func describeLen(n *yaml.Node) string {
	if n.Kind == yaml.SequenceNode {
		return fmt.Sprintf("a list of %d items", len(n.Content))
	}
	return describe(n)
}

// Validate checks the rules of proc.yaml: proc_name or cmd is required (as in the original);
// the proc name fields that are set follow the name rules (no "-" and so on, see ProcName);
// port is in 0..65535; the proc name they make is at most MaxProcNameLen bytes; repo type,
// digests, image name with image URL, users, hosts, volume paths (absolute, without whitespace,
// see checkMountPath), memory limits (ParseSize, memsw_limit >= mem_limit) and environment
// names are well formed.
func (p *ProcConfig) Validate() error {
	if p.ProcName == "" && p.Cmd == "" {
		return errorf("proc_name", "must provide either proc_name or cmd")
	}
	for _, c := range []struct {
		v     string
		check func(string) error
	}{
		{p.AppName, ValidateAppName}, {p.Version, ValidateVersion}, {p.ConfigName, ValidateConfigName},
		{p.ReleaseHash, ValidateReleaseHash}, {p.ProcName, ValidateProcName},
	} {
		if c.v != "" {
			if err := c.check(c.v); err != nil {
				return err
			}
		}
	}
	if p.Port < 0 || p.Port > 65535 {
		return errorf("port", "port %d is out of range; expected 0..65535", p.Port)
	}
	if err := checkProcNameLen(ProcName{p.AppName, p.Version, p.ConfigName, p.ReleaseHash, p.ProcName, p.Port}); err != nil {
		return err
	}
	if p.Cmd != "" {
		if !utf8.ValidString(p.Cmd) || strings.ContainsAny(p.Cmd, "\x00\r\n") {
			return errorf("cmd", "%q must be one line of valid UTF-8", clip(p.Cmd))
		}
	}
	if p.AppRepoType != "" {
		if err := checkRepoType("app_repo_type", p.AppRepoType); err != nil {
			return err
		}
	}
	for _, u := range []struct{ key, v string }{
		{"app_repo_url", p.AppRepoURL}, {"build_url", p.BuildURL}, {"buildpack_url", p.BuildpackURL},
		{"buildpack_version", p.BuildpackVersion},
	} {
		if err := checkText(u.key, u.v); err != nil {
			return err
		}
	}
	for _, w := range []struct{ key, v string }{{"user", p.User}, {"group", p.Group}, {"host", p.Host}} {
		if err := checkWord(w.key, w.v); err != nil {
			return err
		}
	}
	if p.AppFolder != "" {
		if err := checkAbsPath("app_folder", "app folder", p.AppFolder); err != nil {
			return err
		}
	}
	if p.BuildMD5 != "" {
		if err := checkMD5("build_md5", p.BuildMD5); err != nil {
			return err
		}
	}
	if err := checkImage(p.ImageURL, p.ImageName, p.ImageMD5); err != nil {
		return err
	}
	if _, err := checkVolumes(p.Volumes); err != nil {
		return err
	}
	mem, err := checkSize("mem_limit", p.MemLimit)
	if err != nil {
		return err
	}
	memsw, err := checkSize("memsw_limit", p.MemswLimit)
	if err != nil {
		return err
	}
	if mem > 0 && memsw > 0 && memsw < mem {
		return errorf("memsw_limit", "%s is less than mem_limit %s; memory+swap must be at least the memory limit", p.MemswLimit, p.MemLimit)
	}
	return checkEnv("env", p.Env)
}

// checkVolumes checks each volume's paths with checkMountPath and that the container dir is
// not the root directory. On failure it also returns the index of the volume at fault.
func checkVolumes(vols []Volume) (int, error) {
	for i, v := range vols {
		if err := checkMountPath("volumes", fmt.Sprintf("item %d: host dir", i+1), v.Host); err != nil {
			return i, err
		}
		if err := checkMountPath("volumes", fmt.Sprintf("item %d: container dir", i+1), v.Container); err != nil {
			return i, err
		}
		if strings.Trim(v.Container, "/") == "" {
			return i, errorf("volumes", "item %d: container dir must not be the root directory", i+1)
		}
	}
	return -1, nil
}

// checkSize parses an optional memory limit; "" gives 0.
func checkSize(key, s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	n, err := ParseSize(s)
	if err != nil {
		e := err.(*Error) //nolint:errorlint // ParseSize returns *Error
		e.Key = key
		return 0, e
	}
	return n, nil
}

// Name returns the proc's name, built from app_name, version, config_name, release_hash,
// proc_name and port; every one of them must be set and valid.
func (p *ProcConfig) Name() (ProcName, error) {
	return NewProcName(p.AppName, p.Version, p.ConfigName, p.ReleaseHash, p.ProcName, p.Port)
}

// VolumePairs returns the volumes as [host_dir, container_dir] pairs, the form ReleaseHash
// takes (nil when there are none).
func (p *ProcConfig) VolumePairs() [][]string {
	if len(p.Volumes) == 0 {
		return nil
	}
	out := make([][]string, len(p.Volumes))
	for i, v := range p.Volumes {
		out[i] = []string{v.Host, v.Container}
	}
	return out
}

// Marshal writes every key, sorted, block style, as the original's ProcData.as_yaml did, so
// the original's tools read it: unset strings as null, except the five name fields (app_name,
// version, config_name, release_hash, proc_name), which are written as strings (an empty
// quoted string when empty) because the original joined them into the proc name and failed on null; port as an
// int; env and settings as {} and volumes as [] when empty, as the original server wrote them.
// It does not validate; WriteFile does.
func (p *ProcConfig) Marshal() ([]byte, error) {
	settings := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	if len(p.Settings) > 0 {
		n, err := valueNode(p.Settings)
		if err != nil {
			return nil, &Error{Key: "settings", Msg: err.Error(), Err: err}
		}
		settings = n
	}
	vols := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
	for _, v := range p.Volumes {
		vols.Content = append(vols.Content, strListNode([]string{v.Host, v.Container}))
	}
	return encodeNode(mappingNode([]field{
		{"app_folder", optStrNode(p.AppFolder)},
		{"app_name", strNode(p.AppName)},
		{"app_repo_type", optStrNode(p.AppRepoType)},
		{"app_repo_url", optStrNode(p.AppRepoURL)},
		{"build_md5", optStrNode(p.BuildMD5)},
		{"build_url", optStrNode(p.BuildURL)},
		{"buildpack_url", optStrNode(p.BuildpackURL)},
		{"buildpack_version", optStrNode(p.BuildpackVersion)},
		{"cmd", optStrNode(p.Cmd)},
		{"config_name", strNode(p.ConfigName)},
		{"env", stringMapNode(p.Env)},
		{"group", optStrNode(p.Group)},
		{"host", optStrNode(p.Host)},
		{"image_md5", optStrNode(p.ImageMD5)},
		{"image_name", optStrNode(p.ImageName)},
		{"image_url", optStrNode(p.ImageURL)},
		{"mem_limit", optStrNode(p.MemLimit)},
		{"memsw_limit", optStrNode(p.MemswLimit)},
		{"port", intNode(p.Port)},
		{"proc_name", strNode(p.ProcName)},
		{"release_hash", strNode(p.ReleaseHash)},
		{"settings", settings},
		{"user", optStrNode(p.User)},
		{"version", strNode(p.Version)},
		{"volumes", vols},
	}))
}

// WriteFile validates the config and writes it to path atomically with mode 0600 (the env
// often holds secrets; runners read it as root).
func (p *ProcConfig) WriteFile(path string) error {
	if err := p.Validate(); err != nil {
		return at(err, path, 0)
	}
	data, err := p.Marshal()
	if err != nil {
		return at(err, path, 0)
	}
	return WriteFileAtomic(path, data, 0o600)
}
