package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Entry is one message of the stream.
type Entry struct {
	ID      string          `json:"id"`    // stream id, to resume after
	Host    string          `json:"host"`  // the publishing host
	Seq     int64           `json:"seq"`   // the host's sequence number
	Event   string          `json:"event"` // supervisord's event name
	Message json.RawMessage `json:"message"`
}

// FromIDError reports a --from id that is not a stream id. It is bad input (exit code 2).
type FromIDError struct{ ID string }

func (e *FromIDError) Error() string {
	return fmt.Sprintf("stream id %q: expected <milliseconds>-<n>, <milliseconds>, 0 (everything) or $ (only new events)", e.ID)
}

// BadInput reports that the id came from the caller.
func (e *FromIDError) BadInput() bool { return true }

var streamID = regexp.MustCompile(`^[0-9]{1,20}(-[0-9]{1,20})?$`)

// WatchOptions configure Watch.
type WatchOptions struct {
	// From is the stream id to read after: "" or "$" for only what comes next, "0" for the
	// whole stream, or the id of the last entry seen.
	From string
	// Block is how long one XREAD waits (default 2 s); it bounds how long a cancelled Watch
	// takes to return.
	Block time.Duration
	// OnError is told about Redis errors; Watch then waits (up to 2 s, doubling) and tries
	// again. nil: errors are retried silently.
	OnError func(error)
}

// Watch reads the stream after o.From and calls fn for each entry, in order, as they come. It
// returns when ctx is cancelled (ctx.Err()) or fn returns an error (that error).
func Watch(ctx context.Context, rdb *redis.Client, o WatchOptions, fn func(Entry) error) error {
	last := o.From
	switch {
	case last == "" || last == "$":
		last = ""
	case last == "0":
		last = "0-0"
	case !streamID.MatchString(last):
		return &FromIDError{ID: o.From}
	}
	if o.Block <= 0 {
		o.Block = 2 * time.Second
	}
	backoff := time.Duration(0)
	fail := func(err error) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if o.OnError != nil {
			o.OnError(fmt.Errorf("redis %s: %w", rdb.Options().Addr, err))
		}
		backoff = min(max(2*backoff, 100*time.Millisecond), 2*time.Second)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
			return nil
		}
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		// "$" is resolved to the current last id once, so nothing added between two reads is
		// skipped.
		if last == "" {
			id, err := lastID(ctx, rdb)
			if err != nil {
				if err := fail(err); err != nil {
					return err
				}
				continue
			}
			last = id
		}
		streams, err := rdb.XRead(ctx, &redis.XReadArgs{Streams: []string{StreamKey, last}, Count: 500, Block: o.Block}).Result()
		if errors.Is(err, redis.Nil) {
			backoff = 0
			continue
		}
		if err != nil {
			if err := fail(err); err != nil {
				return err
			}
			continue
		}
		backoff = 0
		for _, s := range streams {
			for _, m := range s.Messages {
				last = m.ID
				if err := fn(entryOf(m)); err != nil {
					return err
				}
			}
		}
	}
}

// lastID is the id of the stream's last entry, or "0-0" when it is empty.
func lastID(ctx context.Context, rdb *redis.Client) (string, error) {
	msgs, err := rdb.XRevRangeN(ctx, StreamKey, "+", "-", 1).Result()
	if err != nil {
		return "", err
	}
	if len(msgs) == 0 {
		return "0-0", nil
	}
	return msgs[0].ID, nil
}

func entryOf(m redis.XMessage) Entry {
	str := func(k string) string { s, _ := m.Values[k].(string); return s }
	seq, _ := strconv.ParseInt(str("seq"), 10, 64)
	msg := json.RawMessage(str("message"))
	if !json.Valid(msg) {
		msg, _ = json.Marshal(str("message"))
	}
	return Entry{ID: m.ID, Host: str("host"), Seq: seq, Event: str("event"), Message: msg}
}

// ReadStream returns the stream's entries after id ("0" for all), at most count of them.
func ReadStream(ctx context.Context, rdb *redis.Client, after string, count int64) ([]Entry, error) {
	start := "-"
	if after != "0" && after != "0-0" {
		start = "(" + after
	}
	msgs, err := rdb.XRangeN(ctx, StreamKey, start, "+", count).Result()
	if err != nil {
		return nil, fmt.Errorf("redis %s: read %s: %w", rdb.Options().Addr, StreamKey, err)
	}
	out := make([]Entry, len(msgs))
	for i, m := range msgs {
		out[i] = entryOf(m)
	}
	return out, nil
}
