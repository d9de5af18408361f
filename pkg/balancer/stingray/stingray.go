// Package stingray is the balancer backend for Riverbed Stingray Traffic Manager (formerly
// Zeus ZXTM), spoken to over its SOAP API (the Pool interface, namespace
// http://soap.zeus.com/zxtm/1.0/), with the original's calls and arguments: getNodes,
// addNodes (addPool when the pool is unknown), disableNodes + GRACE_PERIOD + removeNodes,
// deletePool. Stingray changes membership atomically
// server-side, so no lock is needed. Settings are the original's upper-case keys.
package stingray

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/vr-paas/vr/pkg/balancer"
)

// Namespace is the SOAP namespace of the ZXTM 1.0 API.
const Namespace = "http://soap.zeus.com/zxtm/1.0/"

// Config holds the Stingray backend's settings.
type Config struct {
	URL        string `yaml:"URL"`         // SOAP endpoint, e.g. https://traffic.example:9090/soap
	User       string `yaml:"USER"`        // HTTP basic auth
	Password   string `yaml:"PASSWORD"`    //
	PoolPrefix string `yaml:"POOL_PREFIX"` // prepended to every pool name
	// GracePeriod is the number of seconds between disabling and removing nodes (default 2).
	GracePeriod *float64 `yaml:"GRACE_PERIOD"`
	// Timeout bounds each SOAP call, in seconds (default 30).
	Timeout int `yaml:"TIMEOUT"`
	// InsecureSkipVerify accepts any TLS certificate of the endpoint (off by default).
	InsecureSkipVerify bool `yaml:"INSECURE_SKIP_VERIFY"`
}

// Factory builds Stingray balancers.
type Factory struct{}

// Name returns "stingray".
func (Factory) Name() string { return "stingray" }

// Aliases returns the original's class paths (ZXTM is Stingray's former name).
func (Factory) Aliases() []string {
	return []string{
		"zxtm",
		"vr.common.balancer.stingray.StingrayBalancer",
		"vr.common.balancer.zxtm.ZXTMBalancer",
		"vr.server.balancer.zxtm.ZXTMBalancer",
	}
}

// New decodes cfg's options.
func (Factory) New(cfg balancer.Config, env balancer.Env) (balancer.Balancer, error) {
	var c Config
	if err := balancer.DecodeOptions(cfg, &c); err != nil {
		return nil, err
	}
	if c.URL == "" {
		return nil, fmt.Errorf("stingray: URL is required (the SOAP endpoint, e.g. https://traffic.example:9090/soap)")
	}
	return New(c, env), nil
}

// Balancer is a Stingray balancer.
type Balancer struct {
	cfg    Config
	env    balancer.Env
	client *http.Client
	grace  time.Duration
}

// New returns a Stingray Balancer.
func New(c Config, env balancer.Env) *Balancer {
	timeout := 30 * time.Second
	if c.Timeout > 0 {
		timeout = time.Duration(c.Timeout) * time.Second
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if c.InsecureSkipVerify {
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // explicit opt-out in the configuration
	}
	grace := 2 * time.Second
	if c.GracePeriod != nil {
		grace = time.Duration(*c.GracePeriod * float64(time.Second))
	}
	return &Balancer{cfg: c, env: env, client: &http.Client{Timeout: timeout, Transport: tr}, grace: grace}
}

// Fault is a SOAP fault returned by Stingray.
type Fault struct {
	Code   string
	String string
}

func (f *Fault) Error() string { return fmt.Sprintf("SOAP fault %s: %s", f.Code, f.String) }

func unknownPool(err error) bool {
	var f *Fault
	return errors.As(err, &f) && strings.Contains(f.String, "Unknown pool")
}

// Envelope renders the SOAP request for method with the pool names and, when nodes is not
// nil, the one-element array of node lists under param (values or nodes), marked up as the
// original's marshalling fix does.
func Envelope(method string, names []string, param string, nodes []string) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<SOAP-ENV:Envelope xmlns:SOAP-ENC="http://schemas.xmlsoap.org/soap/encoding/" xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:ns0="` + Namespace + `" xmlns:xsd="http://www.w3.org/1999/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" SOAP-ENV:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/">` + "\n")
	b.WriteString("  <SOAP-ENV:Header/>\n  <SOAP-ENV:Body>\n")
	fmt.Fprintf(&b, "    <ns0:%s>\n", method)
	fmt.Fprintf(&b, `      <names SOAP-ENC:arrayType="xsd:string[%d]" xsi:type="SOAP-ENC:Array">`, len(names))
	for _, n := range names {
		b.WriteString("<item>" + esc(n) + "</item>")
	}
	b.WriteString("</names>\n")
	if nodes != nil {
		fmt.Fprintf(&b, `      <%s SOAP-ENC:arrayType="xsd:list[1]" xsi:type="SOAP-ENC:Array">`+"\n", param)
		fmt.Fprintf(&b, `        <item SOAP-ENC:arrayType="xsd:list[%d]" xsi:type="SOAP-ENC:Array">`, len(nodes))
		for _, n := range nodes {
			b.WriteString("<item>" + esc(n) + "</item>")
		}
		b.WriteString("</item>\n")
		fmt.Fprintf(&b, "      </%s>\n", param)
	}
	fmt.Fprintf(&b, "    </ns0:%s>\n", method)
	b.WriteString("  </SOAP-ENV:Body>\n</SOAP-ENV:Envelope>\n")
	return b.Bytes()
}

func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// node is a generic XML element of a SOAP answer.
type node struct {
	XMLName  xml.Name
	Text     string `xml:",chardata"`
	Children []node `xml:",any"`
}

func (n node) find(local string) *node {
	if n.XMLName.Local == local {
		return &n
	}
	for _, c := range n.Children {
		if f := c.find(local); f != nil {
			return f
		}
	}
	return nil
}

// call posts a SOAP request and returns the response element (<method>Response).
func (b *Balancer) call(ctx context.Context, method string, names []string, param string, nodes []string) (*node, error) {
	body := Envelope(method, names, param, nodes)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("stingray %s: %w", method, err)
	}
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	req.Header.Set("SOAPAction", `"`+Namespace+"Pool/"+method+`"`)
	if b.cfg.User != "" || b.cfg.Password != "" {
		req.SetBasicAuth(b.cfg.User, b.cfg.Password)
	}
	resp, err := b.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("stingray %s: %w", method, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("stingray %s: %s: %w", method, b.cfg.URL, err)
	}
	var env node
	if err := xml.Unmarshal(data, &env); err != nil {
		return nil, fmt.Errorf("stingray %s: %s: HTTP %d, not a SOAP answer: %.200s", method, b.cfg.URL, resp.StatusCode, data)
	}
	if f := env.find("Fault"); f != nil {
		fault := &Fault{}
		if c := f.find("faultcode"); c != nil {
			fault.Code = strings.TrimSpace(c.Text)
		}
		if s := f.find("faultstring"); s != nil {
			fault.String = strings.TrimSpace(s.Text)
		}
		return nil, fmt.Errorf("stingray %s: %w", method, fault)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("stingray %s: %s: HTTP %d", method, b.cfg.URL, resp.StatusCode)
	}
	r := env.find(method + "Response")
	if r == nil {
		return nil, fmt.Errorf("stingray %s: answer has no %sResponse", method, method)
	}
	return r, nil
}

func (b *Balancer) name(pool string) []string { return []string{b.cfg.PoolPrefix + pool} }

// Nodes returns getNodes([prefix+pool])[0]; an unknown pool has no nodes.
func (b *Balancer) Nodes(ctx context.Context, pool string) ([]string, error) {
	if err := balancer.ValidatePool(pool); err != nil {
		return nil, err
	}
	r, err := b.call(ctx, "getNodes", b.name(pool), "", nil)
	if unknownPool(err) {
		return []string{}, nil
	}
	if err != nil {
		return nil, err
	}
	nodes := []string{}
	// <getNodesResponse><values><item><item>host:port</item>...</item></values>
	if len(r.Children) > 0 && len(r.Children[0].Children) > 0 {
		for _, it := range r.Children[0].Children[0].Children {
			nodes = append(nodes, strings.TrimSpace(it.Text))
		}
	}
	return balancer.Sorted(nodes), nil
}

// AddNodes calls addNodes, or addPool when the pool is unknown.
func (b *Balancer) AddNodes(ctx context.Context, pool string, nodes []string) error {
	if err := balancer.Check(pool, nodes); err != nil {
		return err
	}
	nodes = balancer.Sorted(nodes)
	_, err := b.call(ctx, "addNodes", b.name(pool), "values", nodes)
	if unknownPool(err) {
		_, err = b.call(ctx, "addPool", b.name(pool), "nodes", nodes)
	}
	return err
}

// DeleteNodes disables the pool's nodes among nodes, waits GRACE_PERIOD and removes them.
// Unlike the original it does not then delete the pool when it looks empty: that check and
// the deletion are two calls, and an AddNodes between them was lost. DeletePool does it.
func (b *Balancer) DeleteNodes(ctx context.Context, pool string, nodes []string) error {
	if err := balancer.Check(pool, nodes); err != nil {
		return err
	}
	cur, err := b.Nodes(ctx, pool)
	if err != nil {
		return err
	}
	var gone []string
	for _, n := range balancer.Sorted(nodes) {
		if slices.Contains(cur, n) {
			gone = append(gone, n)
		}
	}
	if len(gone) == 0 {
		b.env.Warnf("No nodes to delete from pool %s", pool)
		return nil
	}
	if _, err := b.call(ctx, "disableNodes", b.name(pool), "nodes", gone); err != nil {
		return err
	}
	if b.grace > 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(b.grace):
		}
	}
	if _, err := b.call(ctx, "removeNodes", b.name(pool), "values", gone); err != nil && !unknownPool(err) {
		return err
	}
	return nil
}

// DeletePool calls deletePool; an unknown pool is not an error.
func (b *Balancer) DeletePool(ctx context.Context, pool string) error {
	if err := balancer.ValidatePool(pool); err != nil {
		return err
	}
	if _, err := b.call(ctx, "deletePool", b.name(pool), "", nil); err != nil && !unknownPool(err) {
		return err
	}
	return nil
}

var (
	_ balancer.Balancer    = (*Balancer)(nil)
	_ balancer.PoolDeleter = (*Balancer)(nil)
)
