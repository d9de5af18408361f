package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/vr-paas/vr/pkg/cli"
	"github.com/vr-paas/vr/pkg/cli/clitest"
	"github.com/vr-paas/vr/pkg/events"
	"github.com/vr-paas/vr/pkg/events/eventstest"
)

// rootWithWatch is the root command whose watch subcommand records its options instead of
// running.
func rootWithWatch(got *watchOptions) func(*cli.Deps) *cobra.Command {
	return func(d *cli.Deps) *cobra.Command {
		root := &cobra.Command{Use: "proc-publisher"}
		root.AddCommand(newWatchCmd(d, func(_ context.Context, o watchOptions) error { *got = o; return nil }))
		return root
	}
}

func TestWatchOptions(t *testing.T) {
	t.Setenv("REDIS_URL", "")
	cases := []struct {
		args []string
		env  string
		want watchOptions
	}{
		{[]string{"watch"}, "", watchOptions{RedisURL: DefaultWatchRedisURL}},
		{[]string{"watch", "--from", "0", "--json", "--count", "5"}, "", watchOptions{RedisURL: DefaultWatchRedisURL, From: "0", JSON: true, Count: 5}},
		{[]string{"watch"}, "redis://r:6379/2", watchOptions{RedisURL: "redis://r:6379/2"}},
		{[]string{"watch", "--redis-url", "redis://flag/1"}, "redis://env/2", watchOptions{RedisURL: "redis://flag/1"}},
	}
	for _, tc := range cases {
		t.Setenv("REDIS_URL", tc.env)
		var got watchOptions
		if r := clitest.Run(t, rootWithWatch(&got), tc.args...); r.Code != 0 || got != tc.want {
			t.Errorf("%v (REDIS_URL=%q): code %d, options %+v, want %+v (%s)", tc.args, tc.env, r.Code, got, tc.want, r.Stderr)
		}
	}
	var got watchOptions
	clitest.RunTable(t, rootWithWatch(&got), []clitest.Case{
		{Args: []string{"watch", "--bogus"}, Code: 2, StderrLine: true},
		{Args: []string{"watch", "--count", "-1"}, Code: 2, Stderr: "--count must not be negative", StderrLine: true},
		{Args: []string{"watch", "extra"}, Code: 2, StderrLine: true},
	})
}

func TestWatchPrints(t *testing.T) {
	r := eventstest.StartRedis(t)
	ctx := context.Background()
	pub := events.NewPublisher(r.Client, "h1", 0)
	msg := func(name, state string, pid int) []byte {
		b, _ := json.Marshal(map[string]any{"name": name, "statename": state, "pid": pid})
		return b
	}
	if _, err := pub.Publish(ctx, events.Update{Event: "PROCESS_STATE_RUNNING", Message: msg("web", "RUNNING", 42)}); err != nil {
		t.Fatal(err)
	}
	// Simulate entries lost to the stream's cap: h1's numbers jump from 1 to 5.
	r.Client.HIncrBy(ctx, events.HostStatePrefix+"h1", "seq", 3)
	if _, err := pub.Publish(ctx, events.Update{Event: "PROCESS_GROUP_REMOVED", Message: []byte(`{"name":"old"}`)}); err != nil {
		t.Fatal(err)
	}

	res := clitest.Run(t, newRootCmd, "watch", "--redis-url", r.URL, "--from", "0", "--count", "2")
	lines := strings.Split(strings.TrimSpace(res.Stdout), "\n")
	if res.Code != 0 || len(lines) != 2 ||
		!strings.HasSuffix(lines[0], " h1 #1 PROCESS_STATE_RUNNING web RUNNING pid 42") ||
		!strings.HasSuffix(lines[1], " h1 #5 PROCESS_GROUP_REMOVED old") {
		t.Fatalf("code %d\nstdout:\n%s\nstderr:\n%s", res.Code, res.Stdout, res.Stderr)
	}
	if !strings.Contains(res.Stderr, "host h1: seq jumped from 1 to 5 (3 messages missing from the stream)") {
		t.Fatalf("stderr %q", res.Stderr)
	}

	first := strings.Fields(lines[0])[0]
	res = clitest.Run(t, newRootCmd, "watch", "--redis-url", r.URL, "--from", first, "--count", "1", "--json")
	var e events.Entry
	if err := json.Unmarshal([]byte(strings.TrimSpace(res.Stdout)), &e); err != nil || res.Code != 0 {
		t.Fatalf("--json: %q %v %s", res.Stdout, err, res.Stderr)
	}
	if e.Host != "h1" || e.Seq != 5 || e.Event != "PROCESS_GROUP_REMOVED" || string(e.Message) != `{"name":"old"}` || e.ID == first {
		t.Fatalf("%+v", e)
	}

	res = clitest.Run(t, newRootCmd, "watch", "--redis-url", r.URL, "--from", "not-an-id")
	if res.Code != 2 || !strings.Contains(res.Stderr, `stream id "not-an-id"`) {
		t.Fatalf("bad --from: %d %q", res.Code, res.Stderr)
	}
}
