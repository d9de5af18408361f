package schema_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/vr-paas/vr/pkg/container"
	"github.com/vr-paas/vr/pkg/schema"
)

// The proc name is the container name and proc.yaml's volumes become container mounts, so
// what pkg/schema accepts must be what pkg/container accepts: these tests hold the two rule
// sets together.

func TestMaxProcNameLenIsContainerMaxNameLen(t *testing.T) {
	if schema.MaxProcNameLen != container.MaxNameLen {
		t.Fatalf("schema.MaxProcNameLen = %d, container.MaxNameLen = %d", schema.MaxProcNameLen, container.MaxNameLen)
	}
}

// nameProbes are the characters tried in every field: all of ASCII, some non-ASCII letters,
// spaces and controls, and an invalid UTF-8 byte.
func nameProbes() []string {
	var out []string
	for r := rune(0); r < 0x80; r++ {
		out = append(out, string(r))
	}
	return append(out, "\u0085", "\u00a0", "é", "É", "ß", "\u2028", "\u3000", "\ufeff", "\ufffd", "😀", "Ⅷ", "٣", "\xff")
}

func withField(n schema.ProcName, field int, v string) schema.ProcName {
	switch field {
	case 0:
		n.App = v
	case 1:
		n.Version = v
	case 2:
		n.Config = v
	case 3:
		n.Hash = v
	case 4:
		n.Proc = v
	}
	return n
}

// TestAcceptedProcNamesAreContainerNames puts every probe character alone, first and last in
// each field: whatever NewProcName accepts must pass container.ValidateName, and (so that
// schema is not stricter than it needs to be) a character other than the "-" separator that
// makes a valid container name must be accepted, except where the other name rules refuse it
// ("." or ".." as a whole field).
func TestAcceptedProcNamesAreContainerNames(t *testing.T) {
	base := schema.ProcName{App: "app", Version: "v1", Config: "prod", Hash: "abcd1234", Proc: "web", Port: 5000}
	if _, err := schema.NewProcName(base.App, base.Version, base.Config, base.Hash, base.Proc, base.Port); err != nil {
		t.Fatal(err)
	}
	accepted := 0
	for field := 0; field < 5; field++ {
		for _, c := range nameProbes() {
			for _, v := range []string{c, c + "x", "x" + c, "x" + c + c + "x"} {
				n := withField(base, field, v)
				_, err := schema.NewProcName(n.App, n.Version, n.Config, n.Hash, n.Proc, n.Port)
				cerr := container.ValidateName(n.String())
				if err == nil {
					accepted++
					if cerr != nil {
						t.Errorf("NewProcName accepts field %d = %q, but container.ValidateName(%q): %v", field, v, n.String(), cerr)
					}
				} else if cerr == nil && c != "-" && v != "." && v != ".." {
					t.Errorf("NewProcName refuses field %d = %q (%v), though %q is a valid container name", field, v, err, n.String())
				}
			}
		}
	}
	if accepted < 5*64 {
		t.Errorf("only %d probes accepted; the probe set is broken", accepted)
	}
}

func TestProcNameLengthLimit(t *testing.T) {
	// 3+2+4+8+3+4 bytes of fields and 5 separators: the proc field fills up to the limit.
	fixed := len("app-v1-prod-abcd1234--5000")
	for _, extra := range []int{-1, 0, 1} {
		proc := strings.Repeat("w", container.MaxNameLen-fixed+extra)
		n, err := schema.NewProcName("app", "v1", "prod", "abcd1234", proc, 5000)
		s := schema.ProcName{App: "app", Version: "v1", Config: "prod", Hash: "abcd1234", Proc: proc, Port: 5000}.String()
		cerr := container.ValidateName(s)
		if (err == nil) != (cerr == nil) {
			t.Errorf("%d bytes: NewProcName err = %v, container.ValidateName err = %v", len(s), err, cerr)
		}
		if extra <= 0 && (err != nil || n.String() != s) {
			t.Errorf("%d bytes: NewProcName = %v, %v", len(s), n, err)
		}
		if _, perr := schema.ParseProcName(s); (perr == nil) != (err == nil) {
			t.Errorf("%d bytes: ParseProcName err = %v, NewProcName err = %v", len(s), perr, err)
		}
	}
}

// TestProcConfigNamesAreContainerNames: the documented samples give container names.
func TestProcConfigNamesAreContainerNames(t *testing.T) {
	for _, f := range []string{"original_proc.yaml", "doc_proc_image.yaml"} {
		p, err := schema.LoadProcConfig(filepath.Join(shared, f))
		if err != nil {
			t.Fatal(err)
		}
		n, err := p.Name()
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if err := container.ValidateName(n.String()); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// TestAcceptedVolumesAreContainerMounts: a volume path proc.yaml accepts is a mount path
// container.Spec.Validate accepts (as pkg/runner makes it, filepath.Clean'ed).
func TestAcceptedVolumesAreContainerMounts(t *testing.T) {
	var paths []string
	for _, c := range nameProbes() {
		paths = append(paths, "/srv/a"+c+"b", "/srv/"+c, "/"+c+"/x", "/srv/x"+c)
	}
	paths = append(paths, "/", "//srv//data/", "/srv/./x", "/srv/../x", "srv", "", "/srv/my data", "/srv/\tx")
	accepted := 0
	for _, host := range paths {
		p := &schema.ProcConfig{ProcName: "web", Volumes: []schema.Volume{{Host: host, Container: "/data"}, {Host: "/srv", Container: host}}}
		if p.Validate() != nil {
			continue
		}
		accepted++
		spec := container.Spec{
			Name:    "x",
			Rootfs:  container.Rootfs{Dir: "/var/lib/vr/rootfs"},
			Process: container.Process{Argv: []string{"true"}},
		}
		for _, v := range p.Volumes {
			spec.Mounts = append(spec.Mounts, container.Mount{Source: filepath.Clean(v.Host), Target: filepath.Clean(v.Container)})
		}
		if err := spec.Validate(); err != nil {
			t.Errorf("proc.yaml accepts volume path %q, but container.Spec.Validate: %v", host, err)
		}
	}
	if accepted < 100 {
		t.Errorf("only %d paths accepted; the probe set is broken", accepted)
	}
}
