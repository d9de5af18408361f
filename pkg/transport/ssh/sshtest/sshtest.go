// Package sshtest starts a real OpenSSH sshd on loopback for tests: its own host key, its own
// sshd_config and authorized_keys in a temporary directory, on a free port, accepting one
// generated client key, and a known_hosts file that lists its host key.
package sshtest

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/vr-paas/vr/pkg/testutil"
	"github.com/vr-paas/vr/pkg/transport/ssh"
)

// Server is a running sshd.
type Server struct {
	Addr       string // 127.0.0.1:port
	Dir        string
	KeyFile    string // the client's private key
	KnownHosts string // known_hosts with the server's host key
	User       string
	HostKey    gossh.PublicKey
}

const sshd = "/usr/sbin/sshd"

// Start starts sshd for the test and stops it when the test ends. It needs root (sshd's
// privilege separation) and openssh-server.
func Start(t testing.TB) *Server {
	t.Helper()
	testutil.RequireRoot(t)
	if _, err := os.Stat(sshd); err != nil {
		testutil.Missing(t, "bin", "needs %s (openssh-server); run: scripts/deps.sh", sshd)
	}
	// sshd refuses to start without its privilege separation directory.
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Dir: dir, User: u.Username, KeyFile: filepath.Join(dir, "client_key"), KnownHosts: filepath.Join(dir, "known_hosts")}
	hostKey := filepath.Join(dir, "host_key")
	s.HostKey = writeKey(t, hostKey)
	clientPub := writeKey(t, s.KeyFile)
	auth := filepath.Join(dir, "authorized_keys")
	must(t, os.WriteFile(auth, gossh.MarshalAuthorizedKey(clientPub), 0o600))

	l, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	s.Addr = fmt.Sprintf("127.0.0.1:%d", port)
	must(t, os.WriteFile(s.KnownHosts, []byte(KnownHostsLine(s.Addr, s.HostKey)), 0o644))

	conf := filepath.Join(dir, "sshd_config")
	must(t, os.WriteFile(conf, []byte(fmt.Sprintf(`Port %d
ListenAddress 127.0.0.1
HostKey %s
PidFile %s/sshd.pid
AuthorizedKeysFile %s
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
UsePAM no
StrictModes no
MaxSessions 100
MaxStartups 100
Subsystem sftp internal-sftp
`, port, hostKey, dir, auth)), 0o644))
	var logs bytes.Buffer
	cmd := exec.Command(sshd, "-D", "-e", "-f", conf)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	must(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("sshd log:\n%s", logs.String())
		}
	})
	for i := 0; ; i++ {
		c, err := net.Dial("tcp", s.Addr)
		if err == nil {
			c.Close()
			break
		}
		if i > 250 {
			t.Fatalf("sshd does not listen on %s: %s", s.Addr, logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return s
}

// Config returns client settings that reach the server with its key and known_hosts.
func (s *Server) Config() ssh.Config {
	return ssh.Config{User: s.User, KeyFiles: []string{s.KeyFile}, KnownHosts: []string{s.KnownHosts}}
}

// KnownHostsLine is the known_hosts line for a key at addr (host:port).
func KnownHostsLine(addr string, key gossh.PublicKey) string {
	host, port, _ := net.SplitHostPort(addr)
	name := host
	if port != "22" {
		name = "[" + host + "]:" + port
	}
	return name + " " + string(gossh.MarshalAuthorizedKey(key))
}

// NewKey returns a fresh ed25519 public key (for wrong-host-key tests).
func NewKey(t testing.TB) gossh.PublicKey {
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	must(t, err)
	k, err := gossh.NewPublicKey(pub)
	must(t, err)
	return k
}

// writeKey writes a new ed25519 private key (OpenSSH format, 0600) and returns its public key.
func writeKey(t testing.TB, path string) gossh.PublicKey {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	must(t, err)
	block, err := gossh.MarshalPrivateKey(priv, "")
	must(t, err)
	must(t, os.WriteFile(path, pem.EncodeToMemory(block), 0o600))
	k, err := gossh.NewPublicKey(pub)
	must(t, err)
	return k
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
