package poolfile

import "github.com/vr-paas/vr/pkg/balancer"

// WithDefaults returns o with an empty IncludeDir and ReloadCmd set to a backend's defaults.
func (o Options) WithDefaults(includeDir, reloadCmd string) Options {
	if o.IncludeDir == "" {
		o.IncludeDir = includeDir
	}
	if o.ReloadCmd == "" {
		o.ReloadCmd = reloadCmd
	}
	return o
}

// NewFromConfig is a file-based backend's Factory.New: it decodes cfg's options over def (the
// backend's Config holding the settings that decoding keeps when absent, such as check_cmd)
// and returns what newB, the backend's New, makes of them.
func NewFromConfig[C any, B balancer.Balancer](cfg balancer.Config, env balancer.Env, def C, newB func(C, balancer.Env) (B, error)) (balancer.Balancer, error) {
	c := def
	if err := balancer.DecodeOptions(cfg, &c); err != nil {
		return nil, err
	}
	return newB(c, env)
}
