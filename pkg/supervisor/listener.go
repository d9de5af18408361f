package supervisor

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits on what ReadEvent accepts. supervisord's header lines are about 120 bytes and the events
// a proc publisher subscribes to carry payloads of a few hundred characters.
const (
	MaxHeaderLine = 8 << 10
	MaxPayload    = 1 << 20
)

// Header is the line supervisord writes before each event, for example
// "ver:3.0 server:supervisor serial:21 pool:listener poolserial:10 eventname:PROCESS_STATE_RUNNING len:54".
type Header struct {
	Ver        string
	Server     string
	Serial     int64 // -1 when the header has none
	Pool       string
	PoolSerial int64 // -1 when the header has none
	EventName  string
	Len        int // payload length in characters (see ReadEvent)
}

// Event is one event read from supervisord: its header and its payload.
type Event struct {
	Header  Header
	Payload string
}

// PayloadFields splits the payload as the original proc_publisher did: the payload plus "\n" is
// cut at the first newline into a line of space-separated key:value tokens (for example
// "processname:web groupname:web from_state:STARTING pid:123", or "when:1356028501" for TICK
// events) and the rest (data, "" for state events). Unlike the original, a value may contain
// ":" (the token is cut at its first ":"), and a token without ":" is a key with an empty value.
func (e Event) PayloadFields() (headers map[string]string, data string) {
	line, data, _ := strings.Cut(e.Payload+"\n", "\n")
	headers = map[string]string{}
	for _, tok := range strings.Fields(line) {
		k, v, _ := strings.Cut(tok, ":")
		headers[k] = v
	}
	return headers, data
}

// ReadEvent reads one event from r: a header line of space-separated key:value tokens, then a
// payload of exactly len characters.
//
// len counts characters, not bytes: Supervisor 4 on Python 3 (the supervisor package of Debian 12
// and later) computes it as len() of a str and writes the UTF-8 encoding, so the payload
// "groupname:café\n" comes with len:15 and is 16 bytes long. For ASCII payloads, the usual case,
// the two are the same. A byte that is not valid UTF-8 counts as one character.
//
// At the end of input before a header, ReadEvent returns io.EOF; in the middle of an event,
// io.ErrUnexpectedEOF. A header line it cannot use (no eventname, no valid len, a token without
// ":", a line longer than MaxHeaderLine, a len above MaxPayload) is a *ProtocolError, returned
// after consuming that line and nothing more, so the caller can answer and read on.
func ReadEvent(r *bufio.Reader) (Event, error) {
	line, err := readLine(r)
	if err != nil {
		return Event{}, err
	}
	h, err := ParseHeader(line)
	if err != nil {
		return Event{}, err
	}
	payload, err := readChars(r, h.Len)
	if err != nil {
		return Event{}, err
	}
	return Event{Header: h, Payload: payload}, nil
}

// readLine reads a header line without its "\n" (and a "\r" before it).
func readLine(r *bufio.Reader) (string, error) {
	var buf []byte
	for {
		chunk, err := r.ReadSlice('\n')
		if len(buf)+len(chunk) > MaxHeaderLine {
			kept := append(buf, chunk...)[:MaxHeaderLine]
			// Skip the rest of the line, without keeping it, so the next read starts after it.
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = r.ReadSlice('\n')
			}
			if err != nil {
				return "", io.ErrUnexpectedEOF
			}
			return "", &ProtocolError{Line: string(kept), Msg: fmt.Sprintf("longer than %d bytes", MaxHeaderLine)}
		}
		buf = append(buf, chunk...)
		switch {
		case err == nil:
			line := strings.TrimSuffix(string(buf[:len(buf)-1]), "\r")
			return line, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			if len(buf) == 0 {
				return "", io.EOF
			}
			return "", io.ErrUnexpectedEOF
		default:
			return "", err
		}
	}
}

// ParseHeader parses an event header line (without its newline). eventname and len are
// required; ver, server, serial, pool and poolserial are kept when present; other keys are
// ignored.
func ParseHeader(line string) (Header, error) {
	h := Header{Serial: -1, PoolSerial: -1, Len: -1}
	bad := func(format string, args ...any) (Header, error) {
		return Header{}, &ProtocolError{Line: line, Msg: fmt.Sprintf(format, args...)}
	}
	if !utf8.ValidString(line) {
		return bad("not valid UTF-8")
	}
	fields := strings.Fields(line)
	if len(fields) == 0 {
		return bad("empty line")
	}
	for _, tok := range fields {
		k, v, ok := strings.Cut(tok, ":")
		if !ok {
			return bad("token %q is not key:value", clip(tok))
		}
		switch k {
		case "ver":
			h.Ver = v
		case "server":
			h.Server = v
		case "pool":
			h.Pool = v
		case "eventname":
			h.EventName = v
		case "serial", "poolserial", "len":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 || !isDigits(v) {
				return bad("%s %q is not a non-negative decimal number", k, clip(v))
			}
			switch k {
			case "serial":
				h.Serial = n
			case "poolserial":
				h.PoolSerial = n
			case "len":
				if n > MaxPayload {
					return bad("len %d is larger than %d", n, MaxPayload)
				}
				h.Len = int(n)
			}
		}
	}
	if h.EventName == "" {
		return bad("no eventname")
	}
	if h.Len < 0 {
		return bad("no len")
	}
	return h, nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// readChars reads n characters (UTF-8 sequences, or single invalid bytes) and returns their
// bytes.
func readChars(r *bufio.Reader, n int) (string, error) {
	var b strings.Builder
	b.Grow(min(n, 4096)) // len is untrusted until the characters arrive
	for i := 0; i < n; i++ {
		c, size, err := r.ReadRune()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return "", io.ErrUnexpectedEOF
			}
			return "", err
		}
		if c == utf8.RuneError && size == 1 {
			_ = r.UnreadRune()
			raw, _ := r.ReadByte()
			b.WriteByte(raw)
			continue
		}
		b.WriteRune(c)
	}
	return b.String(), nil
}

// Envelope returns an event as supervisord writes it: the header line, with Len set to the
// payload's length in characters, then the payload. Serial and PoolSerial are written when
// not negative.
func Envelope(h Header, payload string) []byte {
	var b bytes.Buffer
	if h.Ver == "" {
		h.Ver = "3.0"
	}
	if h.Server == "" {
		h.Server = "supervisor"
	}
	fmt.Fprintf(&b, "ver:%s server:%s", h.Ver, h.Server)
	if h.Serial >= 0 {
		fmt.Fprintf(&b, " serial:%d", h.Serial)
	}
	if h.Pool != "" {
		fmt.Fprintf(&b, " pool:%s", h.Pool)
	}
	if h.PoolSerial >= 0 {
		fmt.Fprintf(&b, " poolserial:%d", h.PoolSerial)
	}
	fmt.Fprintf(&b, " eventname:%s len:%d\n%s", h.EventName, utf8.RuneCountInString(payload), payload)
	return b.Bytes()
}

// The listener's side of the protocol, as supervisor.childutils writes it.
const (
	tokenReady  = "READY\n"
	tokenOK     = "RESULT 2\nOK"
	tokenFail   = "RESULT 4\nFAIL"
	readerBytes = 16 << 10
)

// Conn is the listener's end of the event listener protocol: stdin from supervisord, stdout to
// it. Nothing else may be written to w. A Conn is not safe for concurrent use.
type Conn struct {
	r *bufio.Reader
	w io.Writer
}

// NewConn returns a Conn reading events from r and writing protocol tokens to w.
func NewConn(r io.Reader, w io.Writer) *Conn {
	return &Conn{r: bufio.NewReaderSize(r, readerBytes), w: w}
}

// Ready tells supervisord the listener can take an event ("READY\n").
func (c *Conn) Ready() error { return c.write(tokenReady) }

// Next reads the next event (see ReadEvent for its errors).
func (c *Conn) Next() (Event, error) { return ReadEvent(c.r) }

// OK acknowledges the event being handled ("RESULT 2\nOK").
func (c *Conn) OK() error { return c.write(tokenOK) }

// Fail rejects the event being handled ("RESULT 4\nFAIL"): supervisord keeps it at the head
// of the pool's buffer and sends it again once the listener is READY.
func (c *Conn) Fail() error { return c.write(tokenFail) }

func (c *Conn) write(s string) error {
	if _, err := io.WriteString(c.w, s); err != nil {
		return fmt.Errorf("write %q to supervisord: %w", strings.TrimSpace(s), err)
	}
	if f, ok := c.w.(interface{ Flush() error }); ok {
		return f.Flush()
	}
	return nil
}
