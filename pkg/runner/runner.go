package runner

import (
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/vr-paas/vr/pkg/container"
	"github.com/vr-paas/vr/pkg/schema"
)

// Variant says how a runner builds a proc's root filesystem.
type Variant int

const (
	// Image roots the proc in an OS image (image_url, image_name, image_md5) under an
	// overlay: vruntime.
	Image Variant = iota
	// Precise bind-mounts the host's system folders read-only: vruntime-precise.
	Precise
)

// String returns "image" or "precise".
func (v Variant) String() string {
	if v == Precise {
		return "precise"
	}
	return "image"
}

// Defaults.
const (
	// DefaultUser is the user a proc runs as when proc.yaml has none (the original
	// server's default run_as).
	DefaultUser = "nobody"
	// DefaultUptestHost is the host given to uptests when proc.yaml has none.
	DefaultUptestHost = "127.0.0.1"
	// UptestGrace is the grace period between SIGTERM and SIGKILL for an uptest that
	// outlives its timeout.
	UptestGrace = 2 * time.Second
)

// Runner sets up, runs, tests and tears down procs under one VR_ROOT.
type Runner struct {
	// Root is VR_ROOT (builds/, images/, procs/ and lxc/ live there).
	Root string
	// Variant chooses the root filesystem.
	Variant Variant
	// Backend runs the containers.
	Backend container.Backend
	// Progress receives one line per step of setup and teardown; nil: silent.
	Progress io.Writer
	// StopTimeout is the grace period of run between SIGTERM and SIGKILL; zero means
	// container.DefaultStopTimeout.
	StopTimeout time.Duration
	// UptestTimeout is how long each uptest may run; zero means uptest.DefaultTimeout.
	UptestTimeout time.Duration
	// Getenv reads the host environment for env values written "$NAME"; nil means
	// os.Getenv.
	Getenv func(string) string
	// HTTPClient downloads builds and images; nil: a default client.
	HTTPClient *http.Client
}

func (r *Runner) say(format string, args ...any) {
	if r.Progress != nil {
		fmt.Fprintf(r.Progress, format+"\n", args...)
	}
}

func (r *Runner) getenv(k string) string {
	if r.Getenv != nil {
		return r.Getenv(k)
	}
	return os.Getenv(k)
}

// Proc is a loaded and validated proc.yaml.
type Proc struct {
	Path   string             // the file as given
	Config *schema.ProcConfig // its contents
	Name   schema.ProcName    // the proc's name
}

// Load reads and validates the proc.yaml at path for a runner variant. Every problem with
// the file is a *schema.Error naming the file and the key (a bad-input error): invalid
// values, a missing field of the proc name, and for Image a missing image_url or
// image_name.
func Load(path string, v Variant) (*Proc, error) {
	cfg, err := schema.LoadProcConfig(path)
	if err != nil {
		return nil, err
	}
	name, err := cfg.Name()
	if err != nil {
		return nil, inFile(err, path)
	}
	if v == Image {
		for _, k := range []struct{ key, v string }{{"image_url", cfg.ImageURL}, {"image_name", cfg.ImageName}} {
			if k.v == "" {
				return nil, &schema.Error{File: path, Key: k.key, Msg: "vruntime runs procs over an OS image and needs image_url and image_name; use vruntime-precise for procs without an image"}
			}
		}
	}
	return &Proc{Path: path, Config: cfg, Name: name}, nil
}

// inFile places a *schema.Error without a file in path.
func inFile(err error, path string) error {
	var se *schema.Error
	if errors.As(err, &se) && se.File == "" {
		c := *se
		c.File = path
		return &c
	}
	return err
}

// Layout is where the files of one proc are.
type Layout struct {
	Root string // VR_ROOT
	Name string // the proc's name
}

// LayoutOf returns the layout of the named proc under root.
func LayoutOf(root string, name schema.ProcName) Layout {
	return Layout{Root: root, Name: name.String()}
}

// ProcDir is $VR_ROOT/procs/<name>.
func (l Layout) ProcDir() string { return filepath.Join(l.Root, "procs", l.Name) }

// ProcYAML is where proc.yaml normally is: <proc dir>/proc.yaml.
func (l Layout) ProcYAML() string { return filepath.Join(l.ProcDir(), "proc.yaml") }

// ProcConf is the proc's Supervisor program section: <proc dir>/proc.conf.
func (l Layout) ProcConf() string { return filepath.Join(l.ProcDir(), "proc.conf") }

// Log is the proc's log file (written by Supervisor): <proc dir>/log.
func (l Layout) Log() string { return filepath.Join(l.ProcDir(), "log") }

// Rootfs is the proc's root (overlay upper dir, or root dir): <proc dir>/rootfs.
func (l Layout) Rootfs() string { return filepath.Join(l.ProcDir(), "rootfs") }

// App is the unpacked build: <proc dir>/rootfs/app.
func (l Layout) App() string { return filepath.Join(l.Rootfs(), "app") }

// Work is the overlay work dir: <proc dir>/work.
func (l Layout) Work() string { return filepath.Join(l.ProcDir(), "work") }

// State is what setup decided, read by run: <proc dir>/container.json.
func (l Layout) State() string { return filepath.Join(l.ProcDir(), "container.json") }

// ProcLXC is the LXC configuration, for reference: <proc dir>/proc.lxc.
func (l Layout) ProcLXC() string { return filepath.Join(l.ProcDir(), "proc.lxc") }

// Lock is the lock file held by setup, run and teardown: <proc dir>/.lock.
func (l Layout) Lock() string { return filepath.Join(l.ProcDir(), ".lock") }

// Tmp holds the roots of shell and uptest containers: <proc dir>/tmp.
func (l Layout) Tmp() string { return filepath.Join(l.ProcDir(), "tmp") }

// Builds is the shared build tarball cache: $VR_ROOT/builds.
func (l Layout) Builds() string { return filepath.Join(l.Root, "builds") }

// Images is the shared image store: $VR_ROOT/images.
func (l Layout) Images() string { return filepath.Join(l.Root, "images") }

// LXCPath is where the runners keep their LXC definitions: $VR_ROOT/lxc.
func LXCPath(root string) string { return filepath.Join(root, "lxc") }

// maxBaseName bounds the container name of a proc, leaving room for the suffix of shell and
// uptest containers within container.MaxNameLen.
const maxBaseName = 180

// ContainerName returns the name of the proc's container: the proc name when it is a valid
// container name (letters, digits, '.', '_', '-'), else a readable form of it followed by
// "." and 8 hex digits of its MD5, so that distinct procs never share a container.
func ContainerName(name schema.ProcName) string {
	s := name.String()
	if len(s) <= maxBaseName && container.ValidateName(s) == nil {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	clean := strings.TrimLeft(b.String(), "._-")
	if len(clean) > maxBaseName-9 {
		clean = clean[:maxBaseName-9]
	}
	sum := md5.Sum([]byte(s))
	if clean == "" {
		clean = "proc"
	}
	return clean + "." + hex.EncodeToString(sum[:4])
}

// tempName returns a new name for a shell or uptest container of the proc's container base.
func tempName(base, kind string) string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return base + "-" + kind + "-" + hex.EncodeToString(b[:])
}

// hostname is the host name the proc's containers get: the host's, since they share its
// network (the original bind-mounted the host's /etc/hostname too).
func hostname() string {
	h, err := os.Hostname()
	if err == nil && len(h) <= 64 && container.ValidateName(h) == nil {
		return h
	}
	return "vr"
}
