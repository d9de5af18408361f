package supervisor

import (
	"errors"
	"fmt"
)

// Sentinels matched by *Fault (see Fault.Is), so callers need not compare fault strings.
var (
	// ErrNoSuchProcess is Supervisor's BAD_NAME fault: no process or group by that name.
	ErrNoSuchProcess = errors.New("no such process")
	// ErrAlreadyStarted is the ALREADY_STARTED fault of startProcess.
	ErrAlreadyStarted = errors.New("already started")
	// ErrNotRunning is the NOT_RUNNING fault of stopProcess and signalProcess.
	ErrNotRunning = errors.New("not running")
)

// ErrNotListener is returned when a program meant to run as a Supervisor event listener finds
// no SUPERVISOR_SERVER_URL in its environment (supervisord sets it for its children).
var ErrNotListener = errors.New("must be run as a Supervisor event listener ([eventlistener:...] in supervisord.conf): SUPERVISOR_SERVER_URL is not set")

// URLError reports a server URL that is neither unix:// nor http(s)://. It is bad input
// (BadInput returns true), so commands exit with the usage code.
type URLError struct {
	URL string
	Msg string
}

func (e *URLError) Error() string {
	return fmt.Sprintf("supervisor server URL %q: %s", e.URL, e.Msg)
}

// BadInput reports that the URL came from the caller's configuration.
func (e *URLError) BadInput() bool { return true }

// ProtocolError is a malformed event header read from a listener's stdin: Line is the header
// line as read (possibly cut short), Msg what is wrong with it.
type ProtocolError struct {
	Line string
	Msg  string
}

func (e *ProtocolError) Error() string {
	return fmt.Sprintf("malformed event header %q: %s", clip(e.Line), e.Msg)
}
