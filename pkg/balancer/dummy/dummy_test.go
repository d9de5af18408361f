package dummy_test

import (
	"path/filepath"
	"testing"

	"github.com/vr-paas/vr/pkg/balancer"
	"github.com/vr-paas/vr/pkg/balancer/balancertest"
	"github.com/vr-paas/vr/pkg/balancer/dummy"
)

func TestConformance(t *testing.T) {
	balancertest.Run(t, func(t *testing.T) balancertest.Opener {
		state := filepath.Join(t.TempDir(), "state", "pools.json")
		return func() (balancer.Balancer, error) {
			return dummy.New(dummy.Config{StateFile: state}, balancer.Env{}), nil
		}
	})
}

// BenchmarkUpdate measures one add or delete in the state file (with its lock).
func BenchmarkUpdate(b *testing.B) {
	balancertest.BenchUpdates(b, dummy.New(dummy.Config{StateFile: filepath.Join(b.TempDir(), "pools.json")}, balancer.Env{}))
}
