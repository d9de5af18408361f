package supervisor

import "strings"

// Process state codes, as supervisor.states.ProcessStates and the "state" field of
// getProcessInfo.
const (
	StateStopped  = 0
	StateStarting = 10
	StateRunning  = 20
	StateBackoff  = 30
	StateStopping = 40
	StateExited   = 100
	StateFatal    = 200
	StateUnknown  = 1000
)

var stateNames = map[int]string{
	StateStopped:  "STOPPED",
	StateStarting: "STARTING",
	StateRunning:  "RUNNING",
	StateBackoff:  "BACKOFF",
	StateStopping: "STOPPING",
	StateExited:   "EXITED",
	StateFatal:    "FATAL",
	StateUnknown:  "UNKNOWN",
}

// StateName returns Supervisor's name of a process state code ("RUNNING"), or "UNKNOWN".
func StateName(code int) string {
	if n, ok := stateNames[code]; ok {
		return n
	}
	return "UNKNOWN"
}

// StateCode returns the code of a process state name ("RUNNING" → 20); ok is false for a name
// Supervisor does not use.
func StateCode(name string) (code int, ok bool) {
	for c, n := range stateNames {
		if n == name {
			return c, true
		}
	}
	return StateUnknown, false
}

// StateFromEvent returns the state a PROCESS_STATE_<NAME> event announces: "PROCESS_STATE_RUNNING"
// → (20, "RUNNING", true). ok is false for other events and unknown state names.
func StateFromEvent(eventName string) (code int, name string, ok bool) {
	name, found := strings.CutPrefix(eventName, "PROCESS_STATE_")
	if !found {
		return StateUnknown, "", false
	}
	code, ok = StateCode(name)
	return code, name, ok
}
