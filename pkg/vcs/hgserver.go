package vcs

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
)

// hgServer is a Mercurial command server ("hg serve --cmdserver pipe"): one hg process that
// runs many commands, which saves Python's start-up (a fifth of a second) per command.
type hgServer struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

// startHgServer starts a command server and reads its hello message.
func startHgServer(ctx context.Context) (*hgServer, error) {
	cmd := exec.CommandContext(ctx, "hg", "serve", "--cmdserver", "pipe", "--config", "ui.interactive=false")
	cmd.Env = append(os.Environ(), "HGPLAIN=1")
	cmd.Dir = os.TempDir()
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &hgServer{cmd: cmd, in: in, out: bufio.NewReader(out)}
	ch, data, err := s.readMessage()
	if err != nil || ch != 'o' || !bytes.Contains(data, []byte("runcommand")) {
		s.close()
		return nil, fmt.Errorf("hg command server did not start: %v %s", err, strings.TrimSpace(errb.String()))
	}
	return s, nil
}

// readMessage reads one message: a channel byte, a big-endian length and the data (for
// the input channels 'I' and 'L' there is no data; the length is what the server wants).
func (s *hgServer) readMessage() (byte, []byte, error) {
	var hdr [5]byte
	if _, err := io.ReadFull(s.out, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[1:])
	if hdr[0] == 'I' || hdr[0] == 'L' {
		return hdr[0], nil, nil
	}
	if n > 64<<20 {
		return 0, nil, fmt.Errorf("hg command server: message of %d bytes", n)
	}
	data := make([]byte, n)
	if _, err := io.ReadFull(s.out, data); err != nil {
		return 0, nil, err
	}
	return hdr[0], data, nil
}

// run runs one hg command (args without "hg") and returns its output, error output and exit
// code. Input is never given: a command asking for some gets end-of-file.
func (s *hgServer) run(args []string, stderr io.Writer) (string, int, error) {
	for _, a := range args {
		if strings.ContainsRune(a, 0) {
			// The wire separates arguments with NULs: one in an argument would make more.
			return "", -1, fmt.Errorf("hg argument %q contains a NUL byte", a)
		}
	}
	payload := []byte(strings.Join(args, "\x00"))
	msg := make([]byte, 0, len(payload)+16)
	msg = append(msg, "runcommand\n"...)
	msg = binary.BigEndian.AppendUint32(msg, uint32(len(payload)))
	msg = append(msg, payload...)
	if _, err := s.in.Write(msg); err != nil {
		return "", -1, err
	}
	var out bytes.Buffer
	for {
		ch, data, err := s.readMessage()
		if err != nil {
			return out.String(), -1, err
		}
		switch ch {
		case 'o':
			out.Write(data)
		case 'e':
			_, _ = stderr.Write(data)
		case 'r':
			if len(data) != 4 {
				return out.String(), -1, errors.New("hg command server: bad result message")
			}
			return out.String(), int(int32(binary.BigEndian.Uint32(data))), nil
		case 'I', 'L':
			if _, err := s.in.Write([]byte{0, 0, 0, 0}); err != nil {
				return out.String(), -1, err
			}
		default:
			if ch >= 'A' && ch <= 'Z' {
				return out.String(), -1, fmt.Errorf("hg command server: unknown required channel %q", ch)
			}
		}
	}
}

// close ends the server (it exits when its input closes).
func (s *hgServer) close() {
	_ = s.in.Close()
	_ = s.cmd.Wait()
}
