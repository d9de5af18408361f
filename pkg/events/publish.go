package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/vr-paas/vr/pkg/supervisor"
)

// Redis names. Channel and the cache are the original's; the stream and the per-host state are
// vr's.
const (
	// Channel is the pub/sub channel of proc events (the original server's PROC_EVENTS_CHANNEL).
	Channel = "proc_events"
	// CachePrefix + host is the hash of the host's procs: field = process name, value = JSON of
	// Supervisor's getProcessInfo struct.
	CachePrefix = "host_procs:"
	// CacheTTL is the cache's expiry, refreshed after every event (TICK_60 included).
	CacheTTL = 600 * time.Second
	// StreamKey is the stream every published message is appended to, with fields host, seq,
	// event and message (the JSON published on Channel).
	StreamKey = "proc_events:stream"
	// HostStatePrefix + host is a hash holding the host's last sequence number ("seq"), the
	// token of the last event handled ("last") and its stream id ("last_id").
	HostStatePrefix = "proc_events:host:"
	// DefaultStreamMaxLen caps the stream (approximately, MAXLEN ~).
	DefaultStreamMaxLen = 10000
)

// CacheKey returns the key of a host's proc cache, "host_procs:<host>".
func CacheKey(host string) string { return CachePrefix + host }

// URLError reports a Redis URL that cannot be parsed. It is bad input (exit code 2).
type URLError struct {
	URL string // redacted
	Err error
}

func (e *URLError) Error() string { return fmt.Sprintf("redis URL %q: %v", e.URL, e.Err) }
func (e *URLError) Unwrap() error { return e.Err }

// BadInput reports that the URL came from the caller's configuration.
func (e *URLError) BadInput() bool { return true }

// Dial returns a client for a redis://[user:password@]host:port/db (or rediss://, unix://) URL,
// with short timeouts and without go-redis's own retries: the listener answers FAIL and the
// watcher retries, each at the level of a whole event. It does not connect yet.
func Dial(rawURL string) (*redis.Client, error) {
	o, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, &URLError{URL: Redact(rawURL), Err: err}
	}
	o.DialTimeout = 2 * time.Second
	o.ReadTimeout = 3 * time.Second
	o.WriteTimeout = 3 * time.Second
	o.MaxRetries = -1
	o.DialerRetries = 1
	o.PoolSize = 4
	o.DisableIdentity = true
	o.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	return redis.NewClient(o), nil
}

// Redact returns a URL with its password replaced, for messages.
func Redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// Update is what one event changes in Redis.
type Update struct {
	Event        string                   // supervisord's event name
	Message      []byte                   // JSON to publish and append to the stream; nil for none
	Procs        []supervisor.ProcessInfo // the host's processes, for the cache
	RefreshCache bool                     // replace the cache with Procs (false: leave it alone)
	// Token identifies the event across re-sends (see Listener); an update whose token is the
	// host's last one was applied already, and is not published again. "" disables the check.
	Token string
}

// Published is the outcome of an Update.
type Published struct {
	Seq       int64  // the host's sequence number of the message (0 when none was published)
	ID        string // its stream id
	Duplicate bool   // the token had been applied; nothing was published again
}

// publishScript applies an Update atomically: the stream entry, the publish, the sequence number
// and the cache refresh happen together or not at all, in one round trip.
//
// KEYS: stream, host state, cache. ARGV: channel, maxlen, host, token, ttl, refresh ("1"/"0"),
// event, message ("" for none), then cache field/value pairs.
var publishScript = redis.NewScript(`
local dup = 0
if ARGV[4] ~= '' and redis.call('HGET', KEYS[2], 'last') == ARGV[4] then
  dup = 1
end
local seq, id = 0, ''
if ARGV[8] ~= '' then
  if dup == 1 then
    seq = tonumber(redis.call('HGET', KEYS[2], 'seq')) or 0
    id = redis.call('HGET', KEYS[2], 'last_id') or ''
  else
    seq = redis.call('HINCRBY', KEYS[2], 'seq', 1)
    id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*',
      'host', ARGV[3], 'seq', seq, 'event', ARGV[7], 'message', ARGV[8])
    redis.call('PUBLISH', ARGV[1], ARGV[8])
    redis.call('HSET', KEYS[2], 'last_id', id)
  end
end
if ARGV[4] ~= '' then
  redis.call('HSET', KEYS[2], 'last', ARGV[4])
end
if ARGV[6] == '1' then
  redis.call('DEL', KEYS[3])
  for i = 9, #ARGV, 2 do
    redis.call('HSET', KEYS[3], ARGV[i], ARGV[i + 1])
  end
  redis.call('EXPIRE', KEYS[3], ARGV[5])
end
return {seq, id, dup}
`)

// Publisher applies Updates for one host. It is safe for concurrent use, though the listener
// uses it from one goroutine.
type Publisher struct {
	rdb    *redis.Client
	host   string
	maxLen int64
}

// NewPublisher returns a Publisher for host. maxLen caps the stream (DefaultStreamMaxLen when
// not positive).
func NewPublisher(rdb *redis.Client, host string, maxLen int64) *Publisher {
	if maxLen <= 0 {
		maxLen = DefaultStreamMaxLen
	}
	return &Publisher{rdb: rdb, host: host, maxLen: maxLen}
}

// Publish applies u. An error means nothing was applied, or (when the reply was lost) that it
// may have been: applying the same Token again is then harmless.
func (p *Publisher) Publish(ctx context.Context, u Update) (Published, error) {
	args := []any{Channel, p.maxLen, p.host, u.Token, int64(CacheTTL / time.Second), "0", u.Event, string(u.Message)}
	if u.RefreshCache {
		args[5] = "1"
		for _, info := range u.Procs {
			v, err := json.Marshal(rawInfo(info))
			if err != nil {
				return Published{}, fmt.Errorf("encode process info of %s: %w", info.Name, err)
			}
			args = append(args, info.Name, string(v))
		}
	}
	keys := []string{StreamKey, HostStatePrefix + p.host, CacheKey(p.host)}
	res, err := publishScript.Run(ctx, p.rdb, keys, args...).Slice()
	if err != nil {
		return Published{}, fmt.Errorf("redis %s: publish %s: %w", p.rdb.Options().Addr, u.Event, err)
	}
	if len(res) != 3 {
		return Published{}, fmt.Errorf("redis %s: publish %s: unexpected script result %v", p.rdb.Options().Addr, u.Event, res)
	}
	seq, _ := res[0].(int64)
	id, _ := res[1].(string)
	dup, _ := res[2].(int64)
	return Published{Seq: seq, ID: id, Duplicate: dup == 1}, nil
}

// rawInfo is the process info as Supervisor returned it, for the cache (as the original
// stored it), or its fields when it was not decoded from a response.
func rawInfo(p supervisor.ProcessInfo) map[string]any {
	if p.Raw != nil {
		return p.Raw
	}
	return map[string]any{
		"name": p.Name, "group": p.Group, "description": p.Description,
		"start": p.Start, "stop": p.Stop, "now": p.Now, "state": p.State, "statename": p.StateName,
		"spawnerr": p.SpawnErr, "exitstatus": p.ExitStatus, "logfile": p.Logfile,
		"stdout_logfile": p.StdoutLogfile, "stderr_logfile": p.StderrLogfile, "pid": p.PID,
	}
}

// ReadCache returns a host's proc cache: process name → Supervisor's info struct. A missing
// (or expired) cache is an empty map.
func ReadCache(ctx context.Context, rdb *redis.Client, host string) (map[string]map[string]any, error) {
	h, err := rdb.HGetAll(ctx, CacheKey(host)).Result()
	if err != nil {
		return nil, fmt.Errorf("redis %s: read %s: %w", rdb.Options().Addr, CacheKey(host), err)
	}
	out := make(map[string]map[string]any, len(h))
	for name, v := range h {
		var m map[string]any
		if err := json.Unmarshal([]byte(v), &m); err != nil {
			return nil, fmt.Errorf("redis %s: %s field %q: %w", rdb.Options().Addr, CacheKey(host), name, err)
		}
		out[name] = m
	}
	return out, nil
}

// LastSeq returns the host's last sequence number (0 before its first message).
func LastSeq(ctx context.Context, rdb *redis.Client, host string) (int64, error) {
	s, err := rdb.HGet(ctx, HostStatePrefix+host, "seq").Result()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("redis %s: %w", rdb.Options().Addr, err)
	}
	return strconv.ParseInt(s, 10, 64)
}
