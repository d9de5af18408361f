package runner

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/vr-paas/vr/pkg/container"
	"github.com/vr-paas/vr/pkg/schema"
)

// stateFormat is the version of container.json.
const stateFormat = 1

// State is what setup decided about a proc's containers (container.json); run, shell and
// uptest build their containers from it, so a proc.yaml edited after setup changes nothing
// until the next setup, as with the original's proc.lxc.
type State struct {
	Format    int               `json:"format"`
	Variant   string            `json:"variant"`         // "image" or "precise"
	Proc      string            `json:"proc"`            // the proc's name
	Container string            `json:"container"`       // the proc's container name
	Image     string            `json:"image,omitempty"` // the image's contents (overlay lower dir); Image variant
	Shell     string            `json:"shell"`           // /bin/bash, else /bin/sh
	Owner     Owner             `json:"owner"`
	Hostname  string            `json:"hostname"`
	Limits    container.Limits  `json:"limits"`
	System    []container.Mount `json:"system"`  // host system folders or files, read-only
	Volumes   []container.Mount `json:"volumes"` // proc.yaml's volumes
}

// ErrNotSetUp is returned by run, shell and uptest for a proc that setup has not (fully)
// prepared.
var ErrNotSetUp = errors.New("not set up")

func readState(l Layout, v Variant) (*State, error) {
	data, err := os.ReadFile(l.State())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("proc %s is %w (no %s); run setup first", l.Name, ErrNotSetUp, l.State())
	}
	if err != nil {
		return nil, err
	}
	var st State
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("%s: %w", l.State(), err)
	}
	if st.Format != stateFormat {
		return nil, fmt.Errorf("%s: format %d, this runner reads %d; run setup again", l.State(), st.Format, stateFormat)
	}
	if st.Variant != v.String() {
		return nil, fmt.Errorf("proc %s was set up by the %s runner, not the %s one; run setup again with this runner or use the other", l.Name, st.Variant, v)
	}
	return &st, nil
}

func writeState(l Layout, st *State) error {
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	return schema.WriteFileAtomic(l.State(), append(data, '\n'), 0o644)
}

// precisePaths are the host folders bind-mounted read-only into the precise runner's
// containers (the original's /bin /etc /lib /lib64 /opt /usr, plus /sbin). Those the host
// lacks are left out.
var precisePaths = []string{"/bin", "/sbin", "/etc", "/lib", "/lib64", "/opt", "/usr"}

// imageHostFiles are the host files bind-mounted read-only over the image's, as the original
// did: the containers share the host's network, so they share its names too.
var imageHostFiles = []string{"/etc/hostname", "/etc/hosts", "/etc/resolv.conf"}

// systemMounts returns the read-only host mounts of the variant that exist on this host.
func systemMounts(v Variant) []container.Mount {
	paths := imageHostFiles
	if v == Precise {
		paths = precisePaths
	}
	var ms []container.Mount
	for _, p := range paths {
		if _, err := os.Stat(p); err == nil {
			ms = append(ms, container.Mount{Source: p, Target: p, ReadOnly: true})
		}
	}
	return ms
}

// preciseDirs are the directories a precise root needs besides the mount points.
var preciseDirs = []string{"dev", "proc", "sys", "run", "app"}

// makePreciseRoot creates the directories of a precise root filesystem at dir.
func makePreciseRoot(dir string) error {
	for _, d := range preciseDirs {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	tmp := filepath.Join(dir, "tmp")
	if err := os.MkdirAll(tmp, 0o1777); err != nil {
		return err
	}
	return os.Chmod(tmp, 0o1777|fs.ModeSticky)
}

// kind is what a container of the proc is for.
type kind string

const (
	kindRun    kind = "run"
	kindShell  kind = "shell"
	kindUptest kind = "uptest"
)

// spec returns the container spec of a proc's container of kind k running argv ("proc.sh"
// and its arguments are prepended). The run container's root is the proc's rootfs; a shell
// or uptest container named name gets its own root under tmp/<name> and the proc's /app,
// proc.sh, env.sh and settings.yaml bind-mounted in (/app read-only for uptests).
func (st *State) spec(l Layout, k kind, name string, stopTimeout time.Duration, argv ...string) container.Spec {
	s := container.Spec{
		Name:        st.Container,
		Hostname:    st.Hostname,
		Network:     container.NetworkHost,
		Limits:      st.Limits,
		StopTimeout: stopTimeout,
		Process:     st.process(argv...),
	}
	root := l.Rootfs()
	if k != kindRun {
		s.Name = name
		root = filepath.Join(l.Tmp(), name, "rootfs")
	}
	if st.Variant == Image.String() {
		s.Rootfs.Overlay = &container.Overlay{Lower: st.Image, Upper: root}
	} else {
		s.Rootfs.Dir = root
	}
	s.Mounts = append(s.Mounts, st.System...)
	if k != kindRun {
		s.Mounts = append(s.Mounts,
			container.Mount{Source: l.App(), Target: "/app", ReadOnly: k == kindUptest},
			container.Mount{Source: filepath.Join(l.Rootfs(), "proc.sh"), Target: "/proc.sh", ReadOnly: true},
			container.Mount{Source: filepath.Join(l.Rootfs(), "env.sh"), Target: "/env.sh", ReadOnly: true},
			container.Mount{Source: filepath.Join(l.Rootfs(), "settings.yaml"), Target: "/settings.yaml", ReadOnly: true},
		)
	}
	s.Mounts = append(s.Mounts, st.Volumes...)
	return s
}

// process is "<shell> /proc.sh ARGS..." as the proc's user, in /app.
func (st *State) process(args ...string) container.Process {
	return container.Process{
		Argv: append([]string{st.Shell, "/proc.sh"}, args...),
		Env: []string{
			"PATH=" + container.DefaultPath,
			"HOME=/app",
			"USER=" + st.Owner.User,
			"LOGNAME=" + st.Owner.User,
		},
		UID: st.Owner.UID,
		GID: st.Owner.GID,
		Cwd: "/app",
	}
}
