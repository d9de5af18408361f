package supervisor_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/vr-paas/vr/pkg/supervisor"
)

const stateHeader = "ver:3.0 server:supervisor serial:21 pool:proc_publisher poolserial:10 eventname:PROCESS_STATE_RUNNING len:"

func TestReadEvent(t *testing.T) {
	cases := []struct {
		name    string
		in      string
		header  supervisor.Header
		payload string
	}{
		{"state", stateHeader + "57\nprocessname:web groupname:web from_state:STARTING pid:123",
			supervisor.Header{Ver: "3.0", Server: "supervisor", Serial: 21, Pool: "proc_publisher", PoolSerial: 10, EventName: "PROCESS_STATE_RUNNING", Len: 57},
			"processname:web groupname:web from_state:STARTING pid:123"},
		{"len in characters, not bytes", "ver:3.0 server:supervisor serial:1 pool:p poolserial:1 eventname:PROCESS_GROUP_ADDED len:15\ngroupname:café\n",
			supervisor.Header{Ver: "3.0", Server: "supervisor", Serial: 1, Pool: "p", PoolSerial: 1, EventName: "PROCESS_GROUP_ADDED", Len: 15},
			"groupname:café\n"},
		{"minimal header, CRLF", "eventname:TICK_60 len:15\r\nwhen:1356028501",
			supervisor.Header{Serial: -1, PoolSerial: -1, EventName: "TICK_60", Len: 15}, "when:1356028501"},
		{"empty payload, unknown keys ignored", "eventname:SUPERVISOR_STATE_CHANGE_RUNNING len:0 extra:x\n",
			supervisor.Header{Serial: -1, PoolSerial: -1, EventName: "SUPERVISOR_STATE_CHANGE_RUNNING", Len: 0}, ""},
		{"invalid UTF-8 byte counts as one character", "eventname:X len:3\na\xffb",
			supervisor.Header{Serial: -1, PoolSerial: -1, EventName: "X", Len: 3}, "a\xffb"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := bufio.NewReader(strings.NewReader(tc.in))
			ev, err := supervisor.ReadEvent(r)
			if err != nil {
				t.Fatal(err)
			}
			if ev.Header != tc.header || ev.Payload != tc.payload {
				t.Fatalf("got %+v %q", ev.Header, ev.Payload)
			}
			if _, err := supervisor.ReadEvent(r); err != io.EOF {
				t.Fatalf("after the event: %v, want io.EOF", err)
			}
		})
	}
}

func TestReadEventErrors(t *testing.T) {
	cases := []struct {
		name     string
		in       string
		protocol bool   // a *ProtocolError (answerable), else an EOF
		rest     string // what the reader holds afterwards
	}{
		{"garbage", "this is not a header\nnext", true, "next"},
		{"empty line", "\nnext", true, "next"},
		{"no len", "eventname:X\nnext", true, "next"},
		{"no eventname", "len:3\nabc", true, "abc"},
		{"len not a number", "eventname:X len:abc\n", true, ""},
		{"negative len", "eventname:X len:-1\n", true, ""},
		{"signed len", "eventname:X len:+1\nx", true, "x"},
		{"huge len", "eventname:X len:99999999999999999999\n", true, ""},
		{"len above MaxPayload", "eventname:X len:1048577\n", true, ""},
		{"bad serial", "serial:x eventname:X len:0\n", true, ""},
		{"binary", "\x00\xff\xfe\n", true, ""},
		{"overlong line", strings.Repeat("a", 20000) + "\nnext", true, "next"},
		{"short payload", "eventname:X len:10\nabc", false, ""},
		{"header cut", "eventname:X len", false, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := bufio.NewReaderSize(strings.NewReader(tc.in), 4096)
			_, err := supervisor.ReadEvent(r)
			var pe *supervisor.ProtocolError
			if tc.protocol != errors.As(err, &pe) {
				t.Fatalf("got %v, want protocol error %v", err, tc.protocol)
			}
			if !tc.protocol && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("got %v, want io.ErrUnexpectedEOF", err)
			}
			if pe != nil && len(pe.Error()) > 300 {
				t.Fatalf("error message not clipped: %d bytes", len(pe.Error()))
			}
			rest, _ := io.ReadAll(r)
			if tc.protocol && string(rest) != tc.rest {
				t.Fatalf("left %q, want %q", rest, tc.rest)
			}
		})
	}
}

func TestPayloadFields(t *testing.T) {
	cases := []struct {
		payload string
		headers map[string]string
		data    string
	}{
		{"processname:web groupname:web from_state:STARTING pid:123",
			map[string]string{"processname": "web", "groupname": "web", "from_state": "STARTING", "pid": "123"}, ""},
		{"groupname:dummyproc\n", map[string]string{"groupname": "dummyproc"}, "\n"},
		{"when:1356028501", map[string]string{"when": "1356028501"}, ""},
		{"processname:a groupname:a pid:1\nline one\nline two", map[string]string{"processname": "a", "groupname": "a", "pid": "1"}, "line one\nline two\n"},
		{"k:v:w bare", map[string]string{"k": "v:w", "bare": ""}, ""},
		{"", map[string]string{}, ""},
	}
	for _, tc := range cases {
		h, d := supervisor.Event{Payload: tc.payload}.PayloadFields()
		if !reflect.DeepEqual(h, tc.headers) || d != tc.data {
			t.Errorf("%q: got %v %q", tc.payload, h, d)
		}
	}
}

func TestConn(t *testing.T) {
	in := string(supervisor.Envelope(supervisor.Header{Serial: 1, Pool: "p", PoolSerial: 1, EventName: "TICK_60"}, "when:1")) +
		"garbage\n" +
		string(supervisor.Envelope(supervisor.Header{Serial: 2, EventName: "PROCESS_GROUP_REMOVED"}, "groupname:é\n"))
	var out bytes.Buffer
	c := supervisor.NewConn(strings.NewReader(in), &out)
	var got []string
	for {
		if err := c.Ready(); err != nil {
			t.Fatal(err)
		}
		ev, err := c.Next()
		if err == io.EOF {
			break
		}
		var pe *supervisor.ProtocolError
		switch {
		case errors.As(err, &pe):
			got = append(got, "bad")
			err = c.Fail()
		case err != nil:
			t.Fatal(err)
		default:
			got = append(got, ev.Header.EventName)
			err = c.OK()
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if want := []string{"TICK_60", "bad", "PROCESS_GROUP_REMOVED"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	if want := "READY\nRESULT 2\nOKREADY\nRESULT 4\nFAILREADY\nRESULT 2\nOKREADY\n"; out.String() != want {
		t.Fatalf("wrote %q, want %q", out.String(), want)
	}
}

func TestEnvelopeRoundTrip(t *testing.T) {
	h := supervisor.Header{Ver: "3.0", Server: "supervisor", Serial: 7, Pool: "p", PoolSerial: 3, EventName: "PROCESS_STATE_EXITED"}
	payload := "processname:naïve groupname:naïve from_state:RUNNING expected:0 pid:42"
	env := supervisor.Envelope(h, payload)
	if !bytes.Contains(env, []byte(" len:70\n")) {
		t.Fatalf("envelope %q: len should count characters (70), not bytes (%d)", env, len(payload))
	}
	ev, err := supervisor.ReadEvent(bufio.NewReader(bytes.NewReader(env)))
	h.Len = 70
	if err != nil || ev.Header != h || ev.Payload != payload {
		t.Fatalf("got %+v %q %v", ev.Header, ev.Payload, err)
	}
}

// FuzzReadEvent feeds garbage headers and payloads to ReadEvent, reading events until the input
// ends, as a listener does: it must never panic or loop, every event it returns must have a
// payload of exactly len characters, every error must be a *ProtocolError or an EOF, and a
// well-formed event after the garbage and a newline must still be read.
func FuzzReadEvent(f *testing.F) {
	f.Add([]byte(stateHeader + "57\nprocessname:web groupname:web from_state:STARTING pid:123"))
	f.Add([]byte("eventname:TICK_60 len:15\nwhen:1356028501"))
	f.Add([]byte("ver:3.0 eventname:PROCESS_GROUP_ADDED len:15\ngroupname:café\n"))
	f.Add([]byte("garbage\n"))
	f.Add([]byte("eventname:X len:5\n\xff\xfe\xfd\xfc\xfb"))
	f.Add([]byte("eventname:X len:1048576\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		valid := supervisor.Envelope(supervisor.Header{Serial: 99, EventName: "TICK_60"}, "when:1")
		in := append(append(append([]byte{}, data...), '\n'), valid...)
		r := bufio.NewReaderSize(bytes.NewReader(in), 4096)
		var last supervisor.Event
		for i := 0; ; i++ {
			if i > len(in)+1 {
				t.Fatalf("more events than input bytes: ReadEvent does not make progress")
			}
			ev, err := supervisor.ReadEvent(r)
			if err == io.EOF {
				break
			}
			var pe *supervisor.ProtocolError
			if errors.As(err, &pe) {
				continue
			}
			if errors.Is(err, io.ErrUnexpectedEOF) {
				// The garbage announced a payload longer than what followed; the valid event
				// was swallowed as payload, which is what a len says to do.
				return
			}
			if err != nil {
				t.Fatalf("unexpected error type %T: %v", err, err)
			}
			if ev.Header.EventName == "" || ev.Header.Len < 0 || ev.Header.Len > supervisor.MaxPayload {
				t.Fatalf("bad header accepted: %+v", ev.Header)
			}
			if n := charCount(ev.Payload); n != ev.Header.Len {
				t.Fatalf("payload %q has %d characters, header says %d", ev.Payload, n, ev.Header.Len)
			}
			last = ev
		}
		// Without a ":" the garbage cannot hold a header that eats the valid event as payload,
		// so reading must resynchronise on it.
		if !bytes.ContainsRune(data, ':') && (last.Header.Serial != 99 || last.Payload != "when:1") {
			t.Fatalf("the valid event after the garbage was not read (last %+v)", last)
		}
	})
}

// charCount counts characters as ReadEvent does: UTF-8 sequences, or single invalid bytes.
func charCount(s string) int {
	return utf8.RuneCountInString(s)
}
