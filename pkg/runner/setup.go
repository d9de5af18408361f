package runner

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/vr-paas/vr/pkg/container"
	"github.com/vr-paas/vr/pkg/fetch"
	"github.com/vr-paas/vr/pkg/image"
	"github.com/vr-paas/vr/pkg/schema"
)

// hostInfoer is implemented by backends that can say what the host supports (the lxc one);
// setup then renders proc.lxc and refuses limits the host cannot enforce.
type hostInfoer interface {
	HostInfo() container.HostInfo
}

// Setup prepares the proc: image, build, files and container configuration (see the package
// documentation). It takes the locks, so it fails with "<path> is locked by another process"
// while the proc runs. Setting up a proc again redoes everything and keeps what the proc
// wrote in its root filesystem outside /app. If setup fails, what it made is removed: the
// whole proc folder when setup created it (except nothing that was there before).
func (r *Runner) Setup(ctx context.Context, p *Proc) (err error) {
	cfg := p.Config
	l := LayoutOf(r.Root, p.Name)
	r.say("Setting up %s", l.Name)
	var ls locks
	defer ls.unlock()
	if err := ls.lockProcYAML(p.Path); err != nil {
		return err
	}

	// The image (vruntime) and the user and group as its passwd and group files say.
	sysroot := "/"
	var lower string
	if r.Variant == Image {
		store := &image.Store{Dir: l.Images(), Client: r.HTTPClient, Progress: r.Progress}
		lower, err = store.Ensure(ctx, image.Image{Name: cfg.ImageName, URL: cfg.ImageURL, MD5: cfg.ImageMD5})
		if err != nil {
			return err
		}
		sysroot = lower
	} else if cfg.ImageURL != "" {
		r.say("Ignoring image %s: the precise runner uses the host's system folders", cfg.ImageURL)
	}
	owner, err := LookupOwner(sysroot, cfg.User, cfg.Group)
	if err != nil {
		return inFile(err, p.Path)
	}
	shell := "/bin/sh"
	if existsIn(sysroot, "/bin/bash") {
		shell = "/bin/bash"
	} else if !existsIn(sysroot, "/bin/sh") {
		return fmt.Errorf("proc %s: %s has neither /bin/bash nor /bin/sh, which proc.sh needs", l.Name, sysroot)
	}

	// The build tarball, into the shared cache.
	var tarball string
	if cfg.BuildURL != "" {
		base, err := urlBase(cfg.BuildURL)
		if err != nil {
			return &schema.Error{File: p.Path, Key: "build_url", Msg: err.Error()}
		}
		tarball = filepath.Join(l.Builds(), base)
		if _, err := fetch.Fetch(ctx, cfg.BuildURL, tarball, fetch.Options{MD5: cfg.BuildMD5, Client: r.HTTPClient, Progress: r.Progress}); err != nil {
			return err
		}
	}

	// Limits and volumes.
	var limits container.Limits
	if cfg.MemLimit != "" {
		limits.Memory, _ = schema.ParseSize(cfg.MemLimit) // validated by Load
	}
	if cfg.MemswLimit != "" {
		limits.MemorySwap, _ = schema.ParseSize(cfg.MemswLimit)
		if limits.Memory == 0 {
			// memory+swap alone: the memory limit cannot be above it.
			limits.Memory = limits.MemorySwap
		}
	}
	var volumes []container.Mount
	for i, v := range cfg.Volumes {
		// A bad host dir is bad input (exit 2 naming the key), as the other checks of proc.yaml.
		fi, err := os.Stat(v.Host)
		if err != nil {
			return &schema.Error{File: p.Path, Key: "volumes", Msg: fmt.Sprintf("item %d: host dir: %v", i+1, err), Err: err}
		}
		if !fi.IsDir() {
			return &schema.Error{File: p.Path, Key: "volumes", Msg: fmt.Sprintf("item %d: host dir %s is not a directory", i+1, v.Host)}
		}
		volumes = append(volumes, container.Mount{Source: filepath.Clean(v.Host), Target: filepath.Clean(v.Container)})
	}

	// The proc folder; from here on, a failure removes what setup made.
	procDir := l.ProcDir()
	_, statErr := os.Stat(procDir)
	createdDir := errors.Is(statErr, fs.ErrNotExist)
	r.say("Making directories")
	if err := os.MkdirAll(procDir, 0o755); err != nil {
		return err
	}
	var made []string
	defer func() {
		if err == nil {
			return
		}
		if createdDir {
			_ = os.RemoveAll(procDir)
			return
		}
		for i := len(made) - 1; i >= 0; i-- {
			_ = os.RemoveAll(made[i])
		}
	}()
	if _, statErr := os.Stat(l.Lock()); errors.Is(statErr, fs.ErrNotExist) {
		made = append(made, l.Lock())
	}
	if err := ls.lockProcDir(l); err != nil {
		return err
	}

	// Unpack the build into a staging folder owned by the proc's user, and find the command.
	stage, err := os.MkdirTemp(procDir, ".setup-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(stage)
	app := filepath.Join(stage, "app")
	if tarball != "" {
		r.say("Untarring %s", tarball)
		if err := fetch.Extract(ctx, tarball, app, fetch.ExtractOptions{Owner: &fetch.Owner{UID: owner.UID, GID: owner.GID}}); err != nil {
			return err
		}
	} else {
		if err := os.Mkdir(app, 0o755); err != nil {
			return err
		}
		if err := os.Chown(app, owner.UID, owner.GID); err != nil {
			return err
		}
	}
	command, err := procCommand(p, app)
	if err != nil {
		return err
	}

	// What run will do.
	st := &State{
		Format:    stateFormat,
		Variant:   r.Variant.String(),
		Proc:      l.Name,
		Container: ContainerName(p.Name),
		Image:     lower,
		Shell:     shell,
		Owner:     owner,
		Hostname:  hostname(),
		Limits:    limits,
		System:    systemMounts(r.Variant),
		Volumes:   volumes,
	}
	spec := st.spec(l, kindRun, "", r.StopTimeout, "run")
	if err := spec.Validate(); err != nil {
		return err
	}
	var lxcConf string
	if hi, ok := r.Backend.(hostInfoer); ok {
		if lxcConf, err = container.RenderLXCConfig(spec, hi.HostInfo()); err != nil {
			return fmt.Errorf("proc %s: %w", l.Name, err)
		}
	}
	settings, err := SettingsYAML(cfg.Settings)
	if err != nil {
		return &schema.Error{File: p.Path, Key: "settings", Msg: err.Error(), Err: err}
	}

	// Write it all, the new app last but one and container.json last.
	r.say("Writing proc files")
	mkdir := func(dir string, mode fs.FileMode) error {
		if _, err := os.Stat(dir); err == nil {
			return nil
		}
		if err := os.Mkdir(dir, mode); err != nil {
			return err
		}
		made = append(made, dir)
		return nil
	}
	if err := mkdir(l.Rootfs(), 0o755); err != nil {
		return err
	}
	if r.Variant == Image {
		if err := mkdir(l.Work(), 0o755); err != nil {
			return err
		}
	} else if err := makePreciseRoot(l.Rootfs()); err != nil {
		return err
	}
	files := []struct {
		name string
		data []byte
		mode fs.FileMode
		gid  int
	}{
		{"proc.sh", ProcSh(shell, command, cfg.Port), 0o755, 0},
		{"env.sh", EnvSh(cfg.Env, r.getenv), 0o640, owner.GID},
		{"settings.yaml", settings, 0o640, owner.GID},
	}
	for _, f := range files {
		if err := writeFile(filepath.Join(l.Rootfs(), f.name), f.data, f.mode, f.gid); err != nil {
			return err
		}
	}
	if lxcConf != "" {
		if _, err := os.Stat(l.ProcLXC()); err != nil {
			made = append(made, l.ProcLXC())
		}
		head := "# proc.lxc of " + l.Name + ", for reference: vruntime run renders it again from container.json.\n"
		if err := writeFile(l.ProcLXC(), []byte(head+lxcConf), 0o644, 0); err != nil {
			return err
		}
	}
	if err := swapDir(app, l.App()); err != nil {
		return err
	}
	// Mount points of the volumes (those under /app are in the new app), made without
	// following symlinks: the build (or a container) may have put one on the way.
	for _, v := range volumes {
		if err := mkdirMountPoint(l.Rootfs(), v.Target); err != nil {
			return err
		}
	}
	if _, err := os.Stat(l.State()); err != nil {
		made = append(made, l.State())
	}
	if err := writeState(l, st); err != nil {
		return err
	}
	r.say("Set up %s", l.Name)
	return nil
}

// procCommand returns the proc's command: cmd, else the Procfile entry named proc_name in
// the unpacked build at app.
func procCommand(p *Proc, app string) (string, error) {
	cfg := p.Config
	if cfg.Cmd != "" {
		return cfg.Cmd, nil
	}
	pf, err := loadProcfileIn(app)
	if errors.Is(err, fs.ErrNotExist) {
		return "", &schema.Error{File: p.Path, Key: "proc_name", Msg: fmt.Sprintf("no cmd, and the build has no /app/Procfile to find %q in", cfg.ProcName)}
	}
	if err != nil {
		var se *schema.Error
		if errors.As(err, &se) {
			c := *se
			c.File = "/app/Procfile"
			return "", &c
		}
		return "", err
	}
	cmd, ok := pf.Command(cfg.ProcName)
	if !ok {
		return "", &schema.Error{File: p.Path, Key: "proc_name", Msg: fmt.Sprintf("no cmd, and %q is not in the build's Procfile (it has %s)", cfg.ProcName, strings.Join(pf.Names(), ", "))}
	}
	return cmd, nil
}

// loadProcfileIn loads the Procfile of the unpacked build at app, through an os.Root so that
// a Procfile that is a symlink cannot make setup read a host file (say /etc/shadow) into the
// proc's command or an error message.
func loadProcfileIn(app string) (schema.Procfile, error) {
	root, err := os.OpenRoot(app)
	if err != nil {
		return schema.Procfile{}, err
	}
	defer root.Close()
	data, err := root.ReadFile("Procfile")
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) && !errors.Is(err, fs.ErrNotExist) {
			return schema.Procfile{}, fmt.Errorf("read /app/Procfile: %w", pe.Err)
		}
		return schema.Procfile{}, err
	}
	return schema.ParseProcfile("/app/Procfile", data)
}

// mkdirMountPoint creates the mount point target (absolute, inside the container) under the
// proc's root filesystem rootfs, through an os.Root and without following symlinks: it stops
// at a symlink (or a non-directory), leaving that to the container runtime, which creates
// missing mount points itself and resolves them inside the container. A plain MkdirAll would
// follow a symlink of the build (app/data -> /etc) and create folders on the host.
func mkdirMountPoint(rootfs, target string) error {
	root, err := os.OpenRoot(rootfs)
	if err != nil {
		return err
	}
	defer root.Close()
	p := ""
	for _, el := range strings.Split(strings.Trim(path.Clean(target), "/"), "/") {
		p = path.Join(p, el)
		fi, err := root.Lstat(p)
		switch {
		case err == nil && fi.IsDir():
			continue
		case err == nil:
			return nil // a symlink or a file: not ours to follow
		case errors.Is(err, fs.ErrNotExist):
			if err := root.Mkdir(p, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
				return fmt.Errorf("mount point %s: %w", target, err)
			}
		default:
			return fmt.Errorf("mount point %s: %w", target, err)
		}
	}
	return nil
}

// urlBase is the name a build is cached under: the last element of the URL's path.
func urlBase(raw string) (string, error) {
	p := raw
	if u, err := url.Parse(raw); err == nil && u.Scheme != "" {
		p = u.Path
	}
	b := path.Base(p)
	if b == "" || b == "." || b == "/" || b == ".." {
		return "", fmt.Errorf("%q does not end in a file name", raw)
	}
	return b, nil
}

// writeFile writes data to path (replacing it through a rename, so a container that has it
// open keeps the old one), owned by root and group gid, with mode.
func writeFile(path string, data []byte, mode fs.FileMode, gid int) error {
	tmp := path + ".new"
	// O_EXCL after removing a leftover: never write through a symlink planted at tmp.
	_ = os.Remove(tmp)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Chown(0, gid)
	}
	if err == nil {
		err = f.Chmod(mode)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// swapDir moves the directory src to dst, replacing what dst held (atomically when dst
// exists, with renameat2's RENAME_EXCHANGE), and removes the old tree.
func swapDir(src, dst string) error {
	err := unix.Renameat2(unix.AT_FDCWD, src, unix.AT_FDCWD, dst, unix.RENAME_EXCHANGE)
	switch {
	case err == nil:
		// src now holds the old tree; the caller's staging folder removal takes it away.
		return os.RemoveAll(src)
	case errors.Is(err, unix.ENOENT):
		if err := os.Rename(src, dst); err != nil {
			return fmt.Errorf("move the new app into place: %w", err)
		}
		return nil
	default:
		// No RENAME_EXCHANGE (old kernel or filesystem): two renames.
		old := dst + ".old"
		_ = os.RemoveAll(old)
		if err := os.Rename(dst, old); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("move the old app aside: %w", err)
		}
		if err := os.Rename(src, dst); err != nil {
			_ = os.Rename(old, dst)
			return fmt.Errorf("move the new app into place: %w", err)
		}
		return os.RemoveAll(old)
	}
}
