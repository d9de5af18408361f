package balancertest

import (
	"context"
	"testing"
	"time"

	"github.com/vr-paas/vr/pkg/balancer"
)

// BenchUpdates measures pool updates on bal, alternately adding and deleting one node of
// pool "web" (each a full update: lock, write, validate, reload, read back), and reports
// ms/update.
func BenchUpdates(b *testing.B, bal balancer.Balancer) {
	ctx := context.Background()
	node := []string{"127.0.0.1:5999"}
	start := time.Now()
	i := 0
	for b.Loop() {
		var err error
		if i%2 == 0 {
			err = bal.AddNodes(ctx, "web", node)
		} else {
			err = bal.DeleteNodes(ctx, "web", node)
		}
		if err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(i), "ms/update")
}
