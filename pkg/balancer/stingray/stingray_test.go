package stingray_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/vr-paas/vr/pkg/balancer"
	"github.com/vr-paas/vr/pkg/balancer/balancertest"
	"github.com/vr-paas/vr/pkg/balancer/stingray"
)

var update = flag.Bool("update", false, "update golden files in testdata/")

// fake is a Stingray Pool SOAP endpoint with in-memory pools that records every request.
type fake struct {
	t     testing.TB
	mu    sync.Mutex
	pools map[string][]string
	log   []string // "SOAPAction\nbody"
}

type elem struct {
	XMLName  xml.Name
	Text     string `xml:",chardata"`
	Children []elem `xml:",any"`
}

func (e elem) texts() []string {
	var out []string
	for _, c := range e.Children {
		out = append(out, c.Text)
	}
	return out
}

func newFake(t testing.TB) (*fake, *httptest.Server) {
	f := &fake{t: t, pools: map[string][]string{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

const respHead = `<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:SOAP-ENC="http://schemas.xmlsoap.org/soap/encoding/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema"><SOAP-ENV:Body>`

func (f *fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if u, p, ok := r.BasicAuth(); !ok || u != "api" || p != "secret" {
		http.Error(w, "unauthorised", http.StatusUnauthorized)
		return
	}
	var env elem
	if err := xml.Unmarshal(body, &env); err != nil || len(env.Children) != 2 || env.Children[1].XMLName.Local != "Body" {
		f.t.Errorf("not a SOAP envelope: %v\n%s", err, body)
		http.Error(w, "bad envelope", http.StatusBadRequest)
		return
	}
	call := env.Children[1].Children[0]
	method := call.XMLName.Local
	if call.XMLName.Space != stingray.Namespace || r.Header.Get("SOAPAction") != `"`+stingray.Namespace+"Pool/"+method+`"` {
		f.t.Errorf("%s: namespace %q, SOAPAction %q", method, call.XMLName.Space, r.Header.Get("SOAPAction"))
	}
	names := call.Children[0].texts()
	var nodes []string
	if len(call.Children) > 1 {
		nodes = call.Children[1].Children[0].texts()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log = append(f.log, r.Header.Get("SOAPAction")+"\n"+string(body))
	pool := names[0]
	cur, ok := f.pools[pool]
	fault := func() {
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprintf(w, `%s<SOAP-ENV:Fault><faultcode>SOAP-ENV:Server</faultcode><faultstring>Unknown pool: %s</faultstring></SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>`, respHead, pool)
	}
	var values string
	switch method {
	case "getNodes":
		if !ok {
			fault()
			return
		}
		var items strings.Builder
		for _, n := range cur {
			items.WriteString("<item>" + n + "</item>")
		}
		values = fmt.Sprintf(`<values SOAP-ENC:arrayType="xsd:list[1]" xsi:type="SOAP-ENC:Array"><item SOAP-ENC:arrayType="xsd:string[%d]" xsi:type="SOAP-ENC:Array">%s</item></values>`, len(cur), items.String())
	case "addPool":
		f.pools[pool] = balancer.Sorted(nodes)
	case "addNodes", "disableNodes", "removeNodes":
		if !ok {
			fault()
			return
		}
		switch method {
		case "addNodes":
			f.pools[pool] = balancer.Union(cur, nodes)
		case "removeNodes":
			f.pools[pool] = balancer.Subtract(cur, nodes)
		}
	case "deletePool":
		if !ok {
			fault()
			return
		}
		delete(f.pools, pool)
	default:
		f.t.Errorf("unexpected method %s", method)
	}
	fmt.Fprintf(w, `%s<ns1:%sResponse xmlns:ns1="%s">%s</ns1:%sResponse></SOAP-ENV:Body></SOAP-ENV:Envelope>`, respHead, method, stingray.Namespace, values, method)
}

func zero() *float64 { z := 0.0; return &z }

func open(srv *httptest.Server) balancertest.Opener {
	return func() (balancer.Balancer, error) {
		return stingray.New(stingray.Config{URL: srv.URL, User: "api", Password: "secret", PoolPrefix: "vr-", GracePeriod: zero()}, balancer.Env{}), nil
	}
}

func TestConformance(t *testing.T) {
	balancertest.Run(t, func(t *testing.T) balancertest.Opener {
		_, srv := newFake(t)
		return open(srv)
	})
}

// TestEnvelopes runs the original's calls for a short session and compares every request
// (SOAPAction and envelope) with testdata/session.golden.
func TestEnvelopes(t *testing.T) {
	f, srv := newFake(t)
	b, _ := open(srv)()
	ctx := context.Background()
	steps := []func() error{
		func() error { _, err := b.Nodes(ctx, "web"); return err },                        // unknown pool: []
		func() error { return b.AddNodes(ctx, "web", []string{"h2:5001", "h1:5000"}) },    // addNodes fails, addPool
		func() error { return b.AddNodes(ctx, "web", []string{"h3:5002"}) },               // addNodes
		func() error { return b.DeleteNodes(ctx, "web", []string{"h1:5000", "h9:5009"}) }, // getNodes, disableNodes, removeNodes
		func() error { return b.DeleteNodes(ctx, "web", []string{"h9:5009"}) },            // getNodes only
		func() error { return b.(balancer.PoolDeleter).DeletePool(ctx, "web") },           // deletePool
		func() error { return b.(balancer.PoolDeleter).DeletePool(ctx, "web") },           // unknown pool ignored
		func() error { return b.AddNodes(ctx, "a&b", []string{"h1:5000"}) },               // refused before any call
	}
	for i, s := range steps {
		err := s()
		if (err != nil) != (i == len(steps)-1) {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	got := []byte(strings.Join(f.log, "\n----\n"))
	golden := filepath.Join("testdata", "session.golden")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./pkg/balancer/stingray -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("SOAP requests differ from %s:\n%s", golden, got)
	}
	if n := strings.Count(string(got), "\n----\n"); n != 9 {
		t.Fatalf("%d requests, want 10", n+1)
	}
}

func TestFaultsAndAuth(t *testing.T) {
	_, srv := newFake(t)
	b := stingray.New(stingray.Config{URL: srv.URL, User: "api", Password: "wrong"}, balancer.Env{})
	if _, err := b.Nodes(context.Background(), "web"); err == nil || !strings.Contains(err.Error(), "HTTP 401") {
		t.Fatalf("wrong password: %v", err)
	}
	down := stingray.New(stingray.Config{URL: "http://127.0.0.1:1/soap"}, balancer.Env{})
	if err := down.AddNodes(context.Background(), "web", []string{"h:1"}); err == nil || !strings.Contains(err.Error(), "stingray addNodes") {
		t.Fatalf("endpoint down: %v", err)
	}
}

func TestFactoryAliases(t *testing.T) {
	a := stingray.Factory{}.Aliases()
	for _, want := range []string{"vr.common.balancer.zxtm.ZXTMBalancer", "vr.common.balancer.stingray.StingrayBalancer"} {
		if !slices.Contains(a, want) {
			t.Errorf("alias %s missing", want)
		}
	}
}

// BenchmarkUpdate measures one add or delete against a local SOAP endpoint.
func BenchmarkUpdate(b *testing.B) {
	_, srv := newFake(b)
	bal, _ := open(srv)()
	balancertest.BenchUpdates(b, bal)
}
