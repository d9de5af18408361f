// Package ssh is the transport.Transport of a remote host over SSH (golang.org/x/crypto/ssh),
// with files moved over SFTP (github.com/pkg/sftp).
//
// Host keys are checked against known_hosts (by default ~/.ssh/known_hosts); an unknown host
// or a changed key is refused with an error wrapping transport.ErrHostKey, unless the
// configuration opts out with InsecureIgnoreHostKey. Authentication is by private key files,
// the SSH agent or a password. With Sudo, commands run under `sudo -n` (passwordless sudo) and
// files are read and written through sudo instead of SFTP. Connecting and every command have
// timeouts.
package ssh

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pkg/sftp"
	"github.com/skeema/knownhosts"
	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/vr-paas/vr/pkg/transport"
)

// Defaults of Config.
const (
	DefaultPort           = 22
	DefaultConnectTimeout = 10 * time.Second
	DefaultCommandTimeout = 2 * time.Minute
)

// Config says how to reach and authenticate to hosts.
type Config struct {
	User     string // default: $USER, else root
	Port     int    // default 22; a host given as "host:port" wins
	Password string // password authentication (also keyboard-interactive)
	// KeyFiles are private keys (unencrypted, or encrypted with Passphrase). When empty, the
	// agent ($SSH_AUTH_SOCK) and ~/.ssh/id_ed25519, id_ecdsa and id_rsa are tried.
	KeyFiles   []string
	Passphrase string
	// KnownHosts are known_hosts files (default ~/.ssh/known_hosts).
	KnownHosts []string
	// InsecureIgnoreHostKey accepts any host key (the original's behaviour). Off by default.
	InsecureIgnoreHostKey bool
	// Sudo runs commands with `sudo -n` and reads and writes files through sudo.
	Sudo           bool
	ConnectTimeout time.Duration // default DefaultConnectTimeout
	CommandTimeout time.Duration // default DefaultCommandTimeout; applies to each command
}

// Host is a connection to one host. It is safe for concurrent use.
type Host struct {
	name   string
	cfg    Config
	client *gossh.Client

	mu   sync.Mutex
	sftp *sftp.Client
}

// Dialer returns a transport.DialFunc that connects with cfg.
func Dialer(cfg Config) transport.DialFunc {
	return func(ctx context.Context, host string) (transport.Transport, error) {
		return Dial(ctx, host, cfg)
	}
}

// Dial connects to host ("name" or "name:port") and authenticates.
func Dial(ctx context.Context, host string, cfg Config) (*Host, error) {
	addr := host
	if _, _, err := net.SplitHostPort(host); err != nil {
		port := cfg.Port
		if port == 0 {
			port = DefaultPort
		}
		addr = net.JoinHostPort(host, strconv.Itoa(port))
	}
	cc, err := clientConfig(cfg, addr)
	if err != nil {
		return nil, fmt.Errorf("ssh %s: %w", host, err)
	}
	timeout := cfg.ConnectTimeout
	if timeout == 0 {
		timeout = DefaultConnectTimeout
	}
	cc.Timeout = timeout
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(dctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("ssh %s: connect: %w", host, err)
	}
	// The handshake has no context; bound it with a deadline on the connection.
	_ = conn.SetDeadline(time.Now().Add(timeout))
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	c, chans, reqs, err := gossh.NewClientConn(conn, addr, cc)
	stop()
	if err != nil {
		_ = conn.Close()
		if errors.Is(err, transport.ErrHostKey) {
			return nil, fmt.Errorf("ssh %s: %w", host, err)
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("ssh %s: %w", host, ctx.Err())
		}
		return nil, fmt.Errorf("ssh %s: handshake: %w", host, err)
	}
	_ = conn.SetDeadline(time.Time{})
	return &Host{name: host, cfg: cfg, client: gossh.NewClient(c, chans, reqs)}, nil
}

// clientConfig builds the x/crypto/ssh configuration: user, auth methods, host key check.
func clientConfig(cfg Config, addr string) (*gossh.ClientConfig, error) {
	user := cfg.User
	if user == "" {
		user = os.Getenv("USER")
	}
	if user == "" {
		user = "root"
	}
	cc := &gossh.ClientConfig{User: user}

	var signers []gossh.Signer
	keyFiles := cfg.KeyFiles
	explicit := len(keyFiles) > 0
	if !explicit {
		if home, err := os.UserHomeDir(); err == nil {
			for _, n := range []string{"id_ed25519", "id_ecdsa", "id_rsa"} {
				keyFiles = append(keyFiles, filepath.Join(home, ".ssh", n))
			}
		}
	}
	for _, f := range keyFiles {
		pem, err := os.ReadFile(f)
		if err != nil {
			if explicit {
				return nil, fmt.Errorf("read key %s: %w", f, err)
			}
			continue
		}
		var s gossh.Signer
		if cfg.Passphrase != "" {
			s, err = gossh.ParsePrivateKeyWithPassphrase(pem, []byte(cfg.Passphrase))
		} else {
			s, err = gossh.ParsePrivateKey(pem)
		}
		if err != nil {
			if explicit {
				return nil, fmt.Errorf("key %s: %w", f, err)
			}
			continue
		}
		signers = append(signers, s)
	}
	if !explicit {
		if sock := os.Getenv("SSH_AUTH_SOCK"); sock != "" {
			if conn, err := net.Dial("unix", sock); err == nil {
				if more, err := agent.NewClient(conn).Signers(); err == nil {
					signers = append(signers, more...)
				}
			}
		}
	}
	if len(signers) > 0 {
		cc.Auth = append(cc.Auth, gossh.PublicKeys(signers...))
	}
	if cfg.Password != "" {
		pw := cfg.Password
		cc.Auth = append(cc.Auth, gossh.Password(pw),
			gossh.KeyboardInteractive(func(_, _ string, qs []string, _ []bool) ([]string, error) {
				a := make([]string, len(qs))
				for i := range a {
					a[i] = pw
				}
				return a, nil
			}))
	}
	if len(cc.Auth) == 0 {
		return nil, errors.New("no authentication method: set a password or key files, or run an ssh-agent")
	}

	if cfg.InsecureIgnoreHostKey {
		cc.HostKeyCallback = gossh.InsecureIgnoreHostKey() //nolint:gosec // explicit opt-out in the configuration
		return cc, nil
	}
	files := cfg.KnownHosts
	if len(files) == 0 {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil, fmt.Errorf("known_hosts: %w", err)
		}
		files = []string{filepath.Join(home, ".ssh", "known_hosts")}
	}
	db, err := knownhosts.NewDB(files...)
	if err != nil {
		return nil, fmt.Errorf("known_hosts: %w (set known_hosts, or insecure_ignore_host_key: true to skip the check)", err)
	}
	check := db.HostKeyCallback()
	cc.HostKeyCallback = func(hostname string, remote net.Addr, key gossh.PublicKey) error {
		err := check(hostname, remote, key)
		switch {
		case err == nil:
			return nil
		case knownhosts.IsHostUnknown(err):
			return fmt.Errorf("%w: %s is not in %s (it offered a %s key %s)", transport.ErrHostKey,
				knownhosts.Normalize(hostname), strings.Join(files, ", "), key.Type(), gossh.FingerprintSHA256(key))
		case knownhosts.IsHostKeyChanged(err):
			return fmt.Errorf("%w: the %s key of %s (%s) does not match %s: possible man-in-the-middle attack, or the host was reinstalled", transport.ErrHostKey,
				key.Type(), knownhosts.Normalize(hostname), gossh.FingerprintSHA256(key), strings.Join(files, ", "))
		default:
			return fmt.Errorf("%w: %w", transport.ErrHostKey, err)
		}
	}
	cc.HostKeyAlgorithms = db.HostKeyAlgorithms(addr)
	return cc, nil
}

// Host returns the host name as given to Dial.
func (h *Host) Host() string { return h.name }

// Close closes the connection (and the SFTP session).
func (h *Host) Close() error {
	h.mu.Lock()
	if h.sftp != nil {
		_ = h.sftp.Close()
		h.sftp = nil
	}
	h.mu.Unlock()
	return h.client.Close()
}

// commandLine renders c for the remote shell: optional cd, optional sudo, quoted argv.
func commandLine(c transport.Cmd, sudo bool) string {
	argv := c.Argv
	if sudo {
		argv = append([]string{"sudo", "-n", "--"}, argv...)
	}
	line := transport.ShellQuote(argv)
	if c.Dir != "" {
		line = "cd " + transport.ShellQuote([]string{c.Dir}) + " && " + line
	}
	return line
}

// CommandLineFor is the remote command line Run sends for c, with or without sudo.
func CommandLineFor(c transport.Cmd, sudo bool) string { return commandLine(c, sudo) }

// Run runs c in a new session, with the command timeout.
func (h *Host) Run(ctx context.Context, c transport.Cmd) (transport.Result, error) {
	if len(c.Argv) == 0 {
		return transport.Result{}, fmt.Errorf("%s: run: empty command", h.name)
	}
	return h.run(ctx, c, h.cfg.Sudo)
}

// TimeoutArgv prefixes argv with coreutils' timeout, so that the host itself kills a command
// that outlives d even when the connection is gone (sshd does not signal commands of a closed
// session, nor of any session without privilege separation).
func TimeoutArgv(argv []string, d time.Duration) []string {
	secs := int((d + time.Second - 1) / time.Second)
	if secs < 1 {
		secs = 1
	}
	return append([]string{"timeout", "-k", "2", strconv.Itoa(secs)}, argv...)
}

func (h *Host) run(ctx context.Context, c transport.Cmd, sudo bool) (transport.Result, error) {
	timeout := h.cfg.CommandTimeout
	if timeout == 0 {
		timeout = DefaultCommandTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	argv, stdin := c.Argv, c.Stdin
	dl, _ := ctx.Deadline()
	wrapped := c
	wrapped.Argv = TimeoutArgv(argv, time.Until(dl))
	line := commandLine(wrapped, sudo)
	s, err := h.client.NewSession()
	if err != nil {
		return transport.Result{}, fmt.Errorf("%s: new session: %w", h.name, err)
	}
	defer s.Close()
	var out, errb bytes.Buffer
	s.Stdout, s.Stderr, s.Stdin = &out, &errb, stdin
	if err := s.Start(line); err != nil {
		return transport.Result{}, fmt.Errorf("%s: %s: %w", h.name, transport.ShellQuote(argv), err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Wait() }()
	select {
	case err = <-done:
	case <-ctx.Done():
		// The host's timeout kills the command; closing the session is all we can add.
		_ = s.Signal(gossh.SIGKILL)
		_ = s.Close()
		return transport.Result{ExitCode: -1}, fmt.Errorf("%s: %s: %w", h.name, transport.ShellQuote(argv), ctx.Err())
	}
	res := transport.Result{Stdout: out.Bytes(), Stderr: errb.Bytes()}
	if err == nil {
		return res, nil
	}
	var ee *gossh.ExitError
	if errors.As(err, &ee) {
		res.ExitCode = ee.ExitStatus()
		if ee.Signal() != "" {
			res.ExitCode = -1
		}
		return res, &transport.RunError{Host: h.name, Argv: argv, ExitCode: res.ExitCode, Stderr: errb.String(), Stdout: out.String()}
	}
	res.ExitCode = -1
	return res, fmt.Errorf("%s: %s: %w", h.name, transport.ShellQuote(argv), err)
}

// sftpClient returns the shared SFTP session, opening it on first use.
func (h *Host) sftpClient() (*sftp.Client, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.sftp != nil {
		return h.sftp, nil
	}
	c, err := sftp.NewClient(h.client)
	if err != nil {
		return nil, fmt.Errorf("%s: sftp: %w", h.name, err)
	}
	h.sftp = c
	return c, nil
}

// exitNotExist is the status the sudo read script uses for a missing file.
const exitNotExist = 66

// ReadFile reads path over SFTP, or with `sudo cat` when Sudo is set.
func (h *Host) ReadFile(ctx context.Context, p string) ([]byte, error) {
	if h.cfg.Sudo {
		argv := []string{"sh", "-c", `test -e "$1" || exit ` + strconv.Itoa(exitNotExist) + `; exec cat -- "$1"`, "sh", p}
		res, err := h.run(ctx, transport.Cmd{Argv: argv}, true)
		if err != nil {
			var re *transport.RunError
			if errors.As(err, &re) && re.ExitCode == exitNotExist {
				return nil, fmt.Errorf("%s: read %s: %w", h.name, p, fs.ErrNotExist)
			}
			return nil, fmt.Errorf("%s: read %s: %w", h.name, p, err)
		}
		return res.Stdout, nil
	}
	c, err := h.sftpClient()
	if err != nil {
		return nil, err
	}
	f, err := c.Open(p)
	if err != nil {
		return nil, fmt.Errorf("%s: read %s: %w", h.name, p, sftpErr(err))
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("%s: read %s: %w", h.name, p, sftpErr(err))
	}
	return b, nil
}

// sftpErr maps SFTP status errors to fs errors so errors.Is(err, fs.ErrNotExist) works.
func sftpErr(err error) error {
	var se *sftp.StatusError
	if errors.As(err, &se) {
		switch se.FxCode() {
		case sftp.ErrSSHFxNoSuchFile:
			return fs.ErrNotExist
		case sftp.ErrSSHFxPermissionDenied:
			return fs.ErrPermission
		}
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// WriteFile writes a temporary file next to p and renames it over p (posix-rename), over SFTP
// or, with Sudo, through `sudo sh` reading the data on stdin.
func (h *Host) WriteFile(ctx context.Context, p string, data []byte, perm fs.FileMode) error {
	if h.cfg.Sudo {
		script := `set -e; t=$(mktemp "$(dirname -- "$1")/.vr-tmp.XXXXXXXX"); trap 'rm -f "$t"' EXIT; cat > "$t"; chmod "$2" "$t"; mv -f -- "$t" "$1"; trap - EXIT`
		argv := []string{"sh", "-c", script, "sh", p, strconv.FormatUint(uint64(perm.Perm()), 8)}
		if _, err := h.run(ctx, transport.Cmd{Argv: argv, Stdin: bytes.NewReader(data)}, true); err != nil {
			return fmt.Errorf("%s: write %s: %w", h.name, p, err)
		}
		return nil
	}
	c, err := h.sftpClient()
	if err != nil {
		return err
	}
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	tmp := path.Join(path.Dir(p), "."+path.Base(p)+".tmp-"+hex.EncodeToString(rnd[:]))
	f, err := c.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if err != nil {
		return fmt.Errorf("%s: write %s: %w", h.name, p, sftpErr(err))
	}
	_, werr := f.Write(data)
	if werr == nil {
		werr = f.Chmod(perm.Perm())
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = c.PosixRename(tmp, p)
	}
	if werr != nil {
		_ = c.Remove(tmp)
		return fmt.Errorf("%s: write %s: %w", h.name, p, sftpErr(werr))
	}
	return nil
}

// Remove deletes p; a missing file is not an error.
func (h *Host) Remove(ctx context.Context, p string) error {
	if h.cfg.Sudo {
		argv := []string{"rm", "-f", "--", p}
		if _, err := h.Run(ctx, transport.Cmd{Argv: argv}); err != nil {
			return fmt.Errorf("%s: remove %s: %w", h.name, p, err)
		}
		return nil
	}
	c, err := h.sftpClient()
	if err != nil {
		return err
	}
	if err := c.Remove(p); err != nil {
		if e := sftpErr(err); !errors.Is(e, fs.ErrNotExist) {
			return fmt.Errorf("%s: remove %s: %w", h.name, p, e)
		}
	}
	return nil
}

// LockArgv is the remote command that holds a lock on p: flock(1) waits for the lock
// (at most wait, when positive), then prints "locked" and holds it until its stdin closes.
func LockArgv(p string, wait time.Duration) []string {
	argv := []string{"flock"}
	if wait > 0 {
		secs := int(wait / time.Second)
		if secs < 1 {
			secs = 1
		}
		argv = append(argv, "-w", strconv.Itoa(secs))
	}
	return append(argv, p, "sh", "-c", "echo locked; exec cat >/dev/null")
}

// Lock holds flock(1) on p in a session of its own until Unlock (or the connection) closes it.
func (h *Host) Lock(ctx context.Context, p string) (transport.Unlocker, error) {
	var wait time.Duration
	if dl, ok := ctx.Deadline(); ok {
		wait = time.Until(dl)
	}
	argv := LockArgv(p, wait)
	s, err := h.client.NewSession()
	if err != nil {
		return nil, fmt.Errorf("%s: lock %s: new session: %w", h.name, p, err)
	}
	stdin, err := s.StdinPipe()
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("%s: lock %s: %w", h.name, p, err)
	}
	stdout, err := s.StdoutPipe()
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("%s: lock %s: %w", h.name, p, err)
	}
	var errb bytes.Buffer
	s.Stderr = &errb
	if err := s.Start(commandLine(transport.Cmd{Argv: argv}, h.cfg.Sudo)); err != nil {
		s.Close()
		return nil, fmt.Errorf("%s: lock %s: %w", h.name, p, err)
	}
	got := make(chan error, 1)
	go func() {
		line, err := bufio.NewReader(stdout).ReadString('\n')
		if err == nil && line != "locked\n" {
			err = fmt.Errorf("unexpected output %q", line)
		}
		got <- err
	}()
	select {
	case err = <-got:
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
		_ = s.Signal(gossh.SIGKILL)
		_ = s.Close()
		if msg := strings.TrimSpace(errb.String()); msg != "" {
			return nil, fmt.Errorf("%s: lock %s: %w: %s", h.name, p, err, msg)
		}
		return nil, fmt.Errorf("%s: lock %s: %w", h.name, p, err)
	}
	return &remoteLock{s: s, stdin: stdin}, nil
}

type remoteLock struct {
	once  sync.Once
	s     *gossh.Session
	stdin io.WriteCloser
}

// Unlock closes the holder's stdin (so it exits and the lock is released) and waits for it.
func (l *remoteLock) Unlock() error {
	var err error
	l.once.Do(func() {
		_ = l.stdin.Close()
		done := make(chan error, 1)
		go func() { done <- l.s.Wait() }()
		select {
		case err = <-done:
		case <-time.After(10 * time.Second):
			err = errors.New("lock holder did not exit")
		}
		_ = l.s.Close()
	})
	return err
}

var _ transport.Transport = (*Host)(nil)
