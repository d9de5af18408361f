package poolfile

import (
	"context"
	"strconv"
	"time"

	"github.com/vr-paas/vr/pkg/transport"
)

// ReloadWait is how long a reload made by WaitingReload waits for the server to retire the
// processes it had before the reload.
const ReloadWait = 10 * time.Second

// waitScript runs the reload command, then waits until none of the children the server's
// parent process had before the reload is busy. $1 pid file, $2 reload command, $3 number of
// 50 ms polls, $4 shell test that sets busy=$p when child $p (of $parent) still serves, $5
// message on failure.
const waitScript = `pidfile=$1
old=
if [ -r "$pidfile" ]; then
  parent=$(cat "$pidfile")
  old=$(ps -o pid= --ppid "$parent" 2>/dev/null)
fi
sh -c "$2" || exit
[ -n "$old" ] || exit 0
i=0
while [ "$i" -lt "$3" ]; do
  busy=
  for p in $old; do
    eval "$4"
  done
  [ -z "$busy" ] && exit 0
  sleep 0.05
  i=$((i+1))
done
echo "$5 (parent process $parent)" >&2
exit 1`

// WaitingReloadArgv is the command that runs reload, then polls (at most wait) until no
// child the server's parent (pid in pidFile) had before the reload is still busy. busy is a
// shell test run for each old child $p of $parent that sets busy=$p when it still serves;
// failure is the message when the wait runs out.
func WaitingReloadArgv(pidFile, reload string, wait time.Duration, busy, failure string) []string {
	return []string{"sh", "-c", waitScript, "sh", pidFile, reload, strconv.Itoa(int(wait / (50 * time.Millisecond))), busy, failure}
}

// WaitingReload returns a Spec.Reload that runs WaitingReloadArgv on the balancer host, so
// that an update returns only once no request is routed by the old configuration.
func WaitingReload(pidFile, reload, busy, failure string) func(context.Context, transport.Transport, string, []string, bool) error {
	return func(ctx context.Context, t transport.Transport, _ string, _ []string, _ bool) error {
		_, err := t.Run(ctx, transport.Cmd{Argv: WaitingReloadArgv(pidFile, reload, ReloadWait, busy, failure)})
		return err
	}
}
