// Package varnish is the balancer backend for Varnish (VCL 4.1, as the installed Varnish 7
// accepts): one file per pool, <include_dir><pool_file_prefix><pool>.vcl, declaring a backend
// per node and a round-robin director named after the pool (import directors in the main VCL,
// and route with `set req.backend_hint = <pool>.backend();`), plus the include file
// <include_dir><main_pool_file> (pools.vcl) that includes every pool file and that the main VCL
// includes. check_cmd compiles the VCL (varnishd -C) and reload_cmd loads and switches to it
// (the Debian script varnishreload does vcl.load + vcl.use, so no connection is dropped).
//
// Unlike the original (Varnish 3 VCL), an emptied pool keeps its director (so the main VCL
// still compiles, and reading it back gives no nodes instead of a crash), pools.vcl is only
// changed under the host-wide lock (the "Concurrency Caveats" race when two workers create
// pools), DeletePool removes the pool's include line, and every update is validated first.
package varnish

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"strings"

	"github.com/vr-paas/vr/pkg/balancer"
	"github.com/vr-paas/vr/pkg/balancer/poolfile"
	"github.com/vr-paas/vr/pkg/transport"
)

// Defaults, as in the original except check_cmd (new).
const (
	DefaultIncludeDir     = "/etc/varnish/"
	DefaultReloadCmd      = "/etc/init.d/varnish reload"
	DefaultCheckCmd       = "varnishd -C -f /etc/varnish/default.vcl -n /tmp/vr-varnish-check"
	DefaultMainPoolFile   = "pools.vcl"
	DefaultPoolFilePrefix = "pool-"
)

// Config holds the Varnish backend's settings.
type Config struct {
	poolfile.Options `yaml:",inline"`
	MainPoolFile     string `yaml:"main_pool_file"`   // include file of all pools (default pools.vcl)
	PoolFilePrefix   string `yaml:"pool_file_prefix"` // default "pool-"
}

// Factory builds Varnish balancers.
type Factory struct{}

// Name returns "varnish".
func (Factory) Name() string { return "varnish" }

// Aliases returns the original's class path.
func (Factory) Aliases() []string { return []string{"vr.common.balancer.varnish.VarnishBalancer"} }

// New decodes cfg's options.
func (Factory) New(cfg balancer.Config, env balancer.Env) (balancer.Balancer, error) {
	return poolfile.NewFromConfig(cfg, env, Config{Options: poolfile.Options{CheckCmd: DefaultCheckCmd}}, New)
}

// Balancer is a Varnish balancer.
type Balancer struct{ *poolfile.Balancer }

var vclName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]*$`)

// New returns a Varnish Balancer; empty settings get the defaults (check_cmd excepted).
func New(c Config, env balancer.Env) (*Balancer, error) {
	o := c.Options.WithDefaults(DefaultIncludeDir, DefaultReloadCmd)
	if c.MainPoolFile == "" {
		c.MainPoolFile = DefaultMainPoolFile
	}
	if c.PoolFilePrefix == "" {
		c.PoolFilePrefix = DefaultPoolFilePrefix
	}
	poolPath := func(pool string) string { return path.Join(o.IncludeDir, c.PoolFilePrefix+pool+".vcl") }
	mainPath := path.Join(o.IncludeDir, c.MainPoolFile)
	pb, err := poolfile.New(poolfile.Spec{
		Backend:  "varnish",
		Options:  o,
		PoolPath: poolPath,
		Render:   Render,
		Parse:    Parse,
		ValidatePool: func(pool string) error {
			if !vclName.MatchString(pool) {
				return &balancer.InputError{What: "pool", Value: pool, Reason: "a Varnish pool name is a VCL name: a letter, then letters, digits, '_' and '-'"}
			}
			return nil
		},
		Shared: func(ctx context.Context, t transport.Transport, pool string, present bool) (func(context.Context) error, error) {
			return updateIncludes(ctx, t, mainPath, poolPath(pool), present)
		},
	}, env)
	if err != nil {
		return nil, err
	}
	return &Balancer{pb}, nil
}

// Header is the first line of every pool file (the original's).
const Header = "// This pool was written by Velociraptor.  You probably shouldn't edit it."

// Render returns the VCL of a pool: a backend per node and a round-robin director named
// after the pool that has them all (none for an empty pool).
func Render(pool string, nodes []string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "\n%s\n", Header)
	for i, n := range nodes {
		host, port, _ := balancer.SplitNode(n)
		fmt.Fprintf(&b, "backend %s {.host=\"%s\"; .port=\"%d\";}\n", backendName(pool, i), host, port)
	}
	fmt.Fprintf(&b, "sub vcl_init {\n  new %s = directors.round_robin();\n", pool)
	for i := range nodes {
		fmt.Fprintf(&b, "  %s.add_backend(%s);\n", pool, backendName(pool, i))
	}
	b.WriteString("}\n")
	return []byte(b.String())
}

func backendName(pool string, i int) string { return fmt.Sprintf("vr_%s_%d", pool, i+1) }

// nodeRe reads host/port pairs, in this format and in the original's Varnish 3 one.
var nodeRe = regexp.MustCompile(`\.host *= *"(.*?)"; *\.port *= *"(.*?)"`)

// Parse returns the nodes of a pool file; an empty file (the original's empty pool) has none.
func Parse(_ string, data []byte) ([]string, error) {
	nodes := []string{}
	for _, m := range nodeRe.FindAllSubmatch(data, -1) {
		nodes = append(nodes, balancer.JoinNodeString(string(m[1]), string(m[2])))
	}
	return balancer.Sorted(nodes), nil
}

// IncludeLine is the line of the include file for a pool file.
func IncludeLine(poolPath string) string { return fmt.Sprintf("include \"%s\";", poolPath) }

// updateIncludes adds (present) or removes the pool's include line in the include file and
// returns how to put the previous file back.
func updateIncludes(ctx context.Context, t transport.Transport, mainPath, poolPath string, present bool) (func(context.Context) error, error) {
	old, err := t.ReadFile(ctx, mainPath)
	existed := err == nil
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	line := IncludeLine(poolPath)
	var next []byte
	has := bytes.Contains(old, []byte(line))
	switch {
	case present && has, !present && !has:
		return func(context.Context) error { return nil }, nil
	case present:
		next = append(append(bytes.TrimRight(bytes.Clone(old), "\n"), '\n'), line+"\n"...)
	default:
		var keep []string
		for _, l := range strings.Split(string(old), "\n") {
			if strings.TrimSpace(l) != line {
				keep = append(keep, l)
			}
		}
		next = []byte(strings.Join(keep, "\n"))
	}
	if err := t.WriteFile(ctx, mainPath, next, 0o644); err != nil {
		return nil, err
	}
	return func(ctx context.Context) error {
		if !existed {
			return t.Remove(ctx, mainPath)
		}
		return t.WriteFile(ctx, mainPath, old, 0o644)
	}, nil
}

var (
	_ balancer.Balancer    = (*Balancer)(nil)
	_ balancer.PoolDeleter = (*Balancer)(nil)
)
