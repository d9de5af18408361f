package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"

	"github.com/spf13/cobra"

	"github.com/vr-paas/vr/pkg/cli"
	"github.com/vr-paas/vr/pkg/events"
	"github.com/vr-paas/vr/pkg/supervisor"
)

// listenOptions are the settings of the event listener (the root command).
type listenOptions struct {
	RedisURL     string // REDIS_URL
	Hostname     string // HOSTNAME, else the system's host name
	StreamMaxLen int64
}

// newRootCmd: run without a subcommand, proc-publisher is a Supervisor event listener.
func newRootCmd(d *cli.Deps) *cobra.Command {
	var opts listenOptions
	root := &cobra.Command{
		Use:   "proc-publisher",
		Short: "Publish Supervisor process events to Redis",
		Long: `proc-publisher is a Supervisor event listener ([eventlistener:proc_publisher],
events=PROCESS_STATE,PROCESS_GROUP,TICK_60): it publishes each proc's state change on the Redis
channel proc_events, keeps host_procs:<hostname> current, and records every message in a Redis
stream so a consumer that was away can catch up ("proc-publisher watch").

supervisord runs it; its stdin and stdout are the event listener protocol, its log goes to
stderr. Settings come from the environment= line of the section:

  REDIS_URL             redis://[:password@]host:port/db (required)
  HOSTNAME              the host name messages carry (default: the system's)
  SUPERVISOR_SERVER_URL set by supervisord (unix:// or http://)
  SUPERVISOR_USERNAME   credentials of supervisord's XML-RPC server, if it has any
  SUPERVISOR_PASSWORD`,
		Example: `  [eventlistener:proc_publisher]
  command=/usr/local/bin/proc-publisher
  events=PROCESS_STATE,PROCESS_GROUP,TICK_60
  buffer_size=1024
  environment=REDIS_URL="redis://localhost:6379/0",HOSTNAME="app1.example.com"
  stderr_logfile=/var/log/proc_publisher.log`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.RedisURL = d.Config.GetString("redis-url")
			opts.Hostname = d.Config.GetString("hostname")
			opts.StreamMaxLen = d.Config.GetInt64("stream-maxlen")
			return runListen(cmd.Context(), d, opts)
		},
	}
	f := root.Flags()
	f.String("redis-url", "", "Redis to publish to (env REDIS_URL)")
	f.String("hostname", "", "host name the messages carry (env HOSTNAME; default: the system's host name)")
	f.Int64("stream-maxlen", events.DefaultStreamMaxLen, "approximate cap of the stream "+events.StreamKey+" (env VR_STREAM_MAXLEN)")
	bindFlagEnv(d, root, "redis-url", "redis-url", "REDIS_URL")
	bindFlagEnv(d, root, "hostname", "hostname", "HOSTNAME")
	bindFlagEnv(d, root, "stream-maxlen", "stream-maxlen", "VR_STREAM_MAXLEN")

	root.AddCommand(newWatchCmd(d, nil))
	return root
}

// bindFlagEnv binds a flag to a settings key that also reads the given environment variable
// (names the original used, such as REDIS_URL, which have no VR_ prefix).
func bindFlagEnv(d *cli.Deps, cmd *cobra.Command, flag, key, env string) {
	if err := d.Config.BindPFlag(key, cmd.Flags().Lookup(flag)); err != nil {
		panic(err)
	}
	if err := d.Config.BindEnv(key, env); err != nil {
		panic(err)
	}
}

func badConfig(err error) error {
	return &cli.ExitError{Code: cli.ExitBadInput, Err: err}
}

func runListen(ctx context.Context, d *cli.Deps, opts listenOptions) error {
	serverURL := os.Getenv(supervisor.EnvServerURL)
	if serverURL == "" {
		return badConfig(supervisor.ErrNotListener)
	}
	sv, err := supervisor.New(serverURL, supervisor.Options{
		Username: os.Getenv(supervisor.EnvUsername),
		Password: os.Getenv(supervisor.EnvPassword),
	})
	if err != nil {
		return err // *supervisor.URLError: bad input
	}
	defer sv.Close()
	if opts.RedisURL == "" {
		return badConfig(errors.New(`REDIS_URL is not set; add environment=REDIS_URL="redis://localhost:6379/0" to the [eventlistener:proc_publisher] section`))
	}
	rdb, err := events.Dial(opts.RedisURL)
	if err != nil {
		return err // *events.URLError: bad input
	}
	defer rdb.Close()
	host := opts.Hostname
	if host == "" {
		if host, err = os.Hostname(); err != nil {
			return fmt.Errorf("host name: %w (set HOSTNAME)", err)
		}
	}

	logger := log.New(d.Streams.Err, "proc-publisher: ", log.LstdFlags|log.Lmicroseconds)
	logger.Printf("starting with hostname %s; supervisor %s; redis %s", host, sv.URL(), events.Redact(opts.RedisURL))
	l := &events.Listener{
		Host:       host,
		Supervisor: sv,
		Sink:       events.NewPublisher(rdb, host, opts.StreamMaxLen),
		Log:        logger,
	}
	return l.Serve(ctx, d.Streams.In, d.Streams.Out)
}
