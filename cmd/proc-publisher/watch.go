package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/vr-paas/vr/pkg/cli"
	"github.com/vr-paas/vr/pkg/events"
)

// DefaultWatchRedisURL is where watch looks when neither --redis-url nor REDIS_URL is set.
const DefaultWatchRedisURL = "redis://localhost:6379/0"

type watchOptions struct {
	RedisURL string
	From     string // stream id to resume after: "" / "$" new only, "0" everything
	JSON     bool
	Count    int // stop after this many entries (0: run until interrupted)
}

func newWatchCmd(d *cli.Deps, runF func(context.Context, watchOptions) error) *cobra.Command {
	var opts watchOptions
	cmd := &cobra.Command{
		Use:   "watch",
		Short: "Print proc events as they come, after catching up from the stream",
		Long: `watch prints the messages of the stream ` + events.StreamKey + `, one line each, as they are
published. With --from it first prints those after the given stream id (0: all the stream
keeps), so a consumer that stopped at some id resumes there without missing any. Each line
starts with the entry's stream id; hosts number their messages, and a jump in a host's numbers
(entries trimmed from the capped stream before they were read) is reported on stderr.`,
		Example: `  proc-publisher watch                       # new events only
  proc-publisher watch --from 0 --count 20   # the oldest 20 the stream keeps
  proc-publisher watch --from 1700000000000-3 --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.RedisURL = d.Config.GetString("watch-redis-url")
			if opts.Count < 0 {
				return cli.Usagef("watch: --count must not be negative")
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runWatch(cmd.Context(), d, opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.From, "from", "", "stream id to resume after (0: the whole stream; default: new events only)")
	f.BoolVar(&opts.JSON, "json", false, "print each entry as one JSON object: id, host, seq, event, message")
	f.IntVar(&opts.Count, "count", 0, "exit after this many entries (default: run until interrupted)")
	f.String("redis-url", DefaultWatchRedisURL, "Redis to read (env REDIS_URL)")
	bindFlagEnv(d, cmd, "redis-url", "watch-redis-url", "REDIS_URL")
	return cmd
}

var errCountReached = errors.New("count reached")

func runWatch(ctx context.Context, d *cli.Deps, opts watchOptions) error {
	rdb, err := events.Dial(opts.RedisURL)
	if err != nil {
		return err
	}
	defer rdb.Close()
	out, errw := d.Streams.Out, d.Streams.Err
	lastSeq := map[string]int64{}
	n := 0
	wo := events.WatchOptions{
		From: opts.From,
		OnError: func(err error) {
			fmt.Fprintf(errw, "proc-publisher watch: %v (retrying)\n", err)
		},
	}
	err = events.Watch(ctx, rdb, wo, func(e events.Entry) error {
		if prev, ok := lastSeq[e.Host]; ok && e.Seq != prev+1 {
			fmt.Fprintf(errw, "proc-publisher watch: host %s: seq jumped from %d to %d (%d messages missing from the stream)\n", e.Host, prev, e.Seq, e.Seq-prev-1)
		}
		lastSeq[e.Host] = e.Seq
		var line string
		if opts.JSON {
			b, err := json.Marshal(e)
			if err != nil {
				return err
			}
			line = string(b)
		} else {
			line = humanLine(e)
		}
		if _, err := fmt.Fprintln(out, line); err != nil {
			return err
		}
		n++
		if opts.Count > 0 && n >= opts.Count {
			return errCountReached
		}
		return nil
	})
	if errors.Is(err, errCountReached) {
		return nil
	}
	return err
}

// humanLine is "<id> <host> #<seq> <event> <name> [<statename> [pid <pid>]]".
func humanLine(e events.Entry) string {
	var m struct {
		Name      string `json:"name"`
		StateName string `json:"statename"`
		PID       int    `json:"pid"`
	}
	_ = json.Unmarshal(e.Message, &m)
	line := fmt.Sprintf("%s %s #%d %s %s", e.ID, e.Host, e.Seq, e.Event, m.Name)
	if m.StateName != "" {
		line += " " + m.StateName
		if m.PID != 0 {
			line += fmt.Sprintf(" pid %d", m.PID)
		}
	}
	return line
}
