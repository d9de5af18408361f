package events

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log"
	"strings"
	"time"

	"github.com/vr-paas/vr/pkg/supervisor"
)

// ProcessLister lists the host's processes; *supervisor.Client implements it.
type ProcessLister interface {
	GetAllProcessInfo(ctx context.Context) ([]supervisor.ProcessInfo, error)
}

// Sink applies updates; *Publisher implements it.
type Sink interface {
	Publish(ctx context.Context, u Update) (Published, error)
}

var (
	_ ProcessLister = (*supervisor.Client)(nil)
	_ Sink          = (*Publisher)(nil)
)

// Defaults of Listener's tunables.
const (
	DefaultMinBackoff    = 100 * time.Millisecond
	DefaultMaxBackoff    = 2 * time.Second
	DefaultRPCRetryDelay = time.Second
	DefaultEventTimeout  = 30 * time.Second
)

// Listener is the proc publisher: a Supervisor event listener that publishes process events
// through a Sink. Set Host, Supervisor, Sink and Log; the other fields have defaults.
type Listener struct {
	Host       string        // the host name messages carry
	Supervisor ProcessLister // the local supervisord
	Sink       Sink          // Redis
	Log        *log.Logger   // diagnostics (stderr: stdout belongs to the protocol)
	Now        func() time.Time

	// After a FAIL the listener waits before saying READY again, from MinBackoff doubling up to
	// MaxBackoff, so that a Redis outage does not turn into a busy loop of re-sent events.
	MinBackoff, MaxBackoff time.Duration
	// RPCRetryDelay is the pause between the two attempts at getAllProcessInfo (the original's).
	RPCRetryDelay time.Duration
	// EventTimeout bounds the handling of one event.
	EventTimeout time.Duration
}

func (l *Listener) defaults() {
	if l.Now == nil {
		l.Now = time.Now
	}
	if l.MinBackoff <= 0 {
		l.MinBackoff = DefaultMinBackoff
	}
	if l.MaxBackoff < l.MinBackoff {
		l.MaxBackoff = max(DefaultMaxBackoff, l.MinBackoff)
	}
	if l.RPCRetryDelay <= 0 {
		l.RPCRetryDelay = DefaultRPCRetryDelay
	}
	if l.EventTimeout <= 0 {
		l.EventTimeout = DefaultEventTimeout
	}
	if l.Log == nil {
		l.Log = log.New(io.Discard, "", 0)
	}
}

// Serve speaks the event listener protocol on r (from supervisord) and w (to it) until r ends
// (it then returns nil) or ctx is cancelled (ctx.Err()). For each event it answers OK once the
// event's update is in Redis, or FAIL when it is not (supervisord keeps the event and sends it
// again). A malformed header is logged and answered FAIL; a malformed payload is logged and
// answered OK, since sending it again cannot help. After cancellation r must not be reused: a
// read may still be pending on it.
func (l *Listener) Serve(ctx context.Context, r io.Reader, w io.Writer) error {
	l.defaults()
	conn := supervisor.NewConn(r, w)
	nonce := newNonce()
	backoff := time.Duration(0)
	type result struct {
		ev  supervisor.Event
		err error
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := conn.Ready(); err != nil {
			return err
		}
		ch := make(chan result, 1)
		go func() {
			ev, err := conn.Next()
			ch <- result{ev, err}
		}()
		var res result
		select {
		case <-ctx.Done():
			return ctx.Err()
		case res = <-ch:
		}

		var pe *supervisor.ProtocolError
		switch {
		case errors.Is(res.err, io.EOF):
			l.Log.Printf("stdin closed by supervisord; exiting")
			return nil
		case errors.As(res.err, &pe):
			l.Log.Printf("%v; answered FAIL", pe)
			if err := conn.Fail(); err != nil {
				return err
			}
			continue
		case res.err != nil:
			return fmt.Errorf("read event from supervisord: %w", res.err)
		}

		// Finish the event even if a signal arrives meanwhile, so that what is in Redis and
		// what supervisord was told agree.
		hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), l.EventTimeout)
		err := l.handle(hctx, res.ev, token(nonce, res.ev.Header))
		cancel()
		if err != nil {
			if backoff == 0 {
				backoff = l.MinBackoff
			} else {
				backoff = min(2*backoff, l.MaxBackoff)
			}
			l.Log.Printf("%s: %v; answered FAIL, supervisord will send it again (retry in %v)", res.ev.Header.EventName, err, backoff)
			if err := conn.Fail(); err != nil {
				return err
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(backoff):
			}
			continue
		}
		if backoff != 0 {
			l.Log.Printf("redis is back")
			backoff = 0
		}
		if err := conn.OK(); err != nil {
			return err
		}
	}
}

// Handle publishes one event (Serve calls it for each); an error means it was not applied and
// should be answered FAIL.
func (l *Listener) Handle(ctx context.Context, ev supervisor.Event) error {
	l.defaults()
	return l.handle(ctx, ev, "")
}

func (l *Listener) handle(ctx context.Context, ev supervisor.Event, tok string) error {
	name := ev.Header.EventName
	headers, _ := ev.PayloadFields()
	procs, rpcErr := l.listProcs(ctx)
	if rpcErr != nil {
		l.Log.Printf("%s: %v; host cache left as it was", name, rpcErr)
	}
	u := Update{Event: name, Procs: procs, RefreshCache: rpcErr == nil, Token: tok}
	what := name

	switch {
	case strings.HasPrefix(name, "PROCESS_STATE"):
		pname := headers["processname"]
		if pname == "" {
			l.Log.Printf("%s: payload %q has no processname; nothing published", name, clip(ev.Payload))
			break
		}
		what = name + " " + pname
		info, ok := findProc(procs, pname, headers["groupname"])
		if !ok {
			if rpcErr == nil {
				l.Log.Printf("%s: supervisord no longer lists %s; publishing what the event says", name, pname)
			}
			info = procInfoFromPayload(headers, l.Now())
		}
		msg, err := marshal(NewProcMessage(l.Host, name, info))
		if err != nil {
			return err
		}
		u.Message = msg
	case name == "PROCESS_GROUP_REMOVED":
		if headers["groupname"] == "" {
			l.Log.Printf("%s: payload %q has no groupname; nothing published", name, clip(ev.Payload))
			break
		}
		what = name + " " + headers["groupname"]
		msg, err := marshal(NewRemovedMessage(l.Host, ev, l.Now()))
		if err != nil {
			return err
		}
		u.Message = msg
	}

	if u.Message == nil && !u.RefreshCache {
		return nil // nothing to write
	}
	p, err := l.Sink.Publish(ctx, u)
	if err != nil {
		return err
	}
	switch {
	case p.Duplicate:
		l.Log.Printf("%s: already published as seq %d (%s)", what, p.Seq, p.ID)
	case u.Message != nil:
		l.Log.Printf("%s: published seq %d (%s)", what, p.Seq, p.ID)
	default:
		l.Log.Printf("%s: host cache refreshed (%d procs)", what, len(procs))
	}
	return nil
}

// listProcs calls getAllProcessInfo, twice at most, as the original did.
func (l *Listener) listProcs(ctx context.Context) ([]supervisor.ProcessInfo, error) {
	procs, err := l.Supervisor.GetAllProcessInfo(ctx)
	if err == nil {
		return procs, nil
	}
	l.Log.Printf("getAllProcessInfo: %v; trying again in %v", err, l.RPCRetryDelay)
	select {
	case <-ctx.Done():
		return nil, err
	case <-time.After(l.RPCRetryDelay):
	}
	return l.Supervisor.GetAllProcessInfo(ctx)
}

// findProc finds a process by name, preferring the one in the named group.
func findProc(procs []supervisor.ProcessInfo, name, group string) (supervisor.ProcessInfo, bool) {
	var found supervisor.ProcessInfo
	ok := false
	for _, p := range procs {
		if p.Name != name {
			continue
		}
		if p.Group == group {
			return p, true
		}
		if !ok {
			found, ok = p, true
		}
	}
	return found, ok
}

// token identifies an event across supervisord's re-sends: they keep the event's serial. The
// nonce, new for each listener process, keeps serials of an earlier supervisord (which restart
// at 0) from matching.
func token(nonce string, h supervisor.Header) string {
	if h.Serial < 0 {
		return ""
	}
	return fmt.Sprintf("%s:%d", nonce, h.Serial)
}

func newNonce() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func clip(s string) string {
	if len(s) <= 80 {
		return s
	}
	return s[:80] + "…"
}
