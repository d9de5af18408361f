// Package supervisor talks to Supervisor (supervisord), the process manager every vr host runs.
//
// It has two halves:
//
//   - Client, an XML-RPC client for supervisord's API ("supervisor.getAllProcessInfo",
//     "supervisor.startProcess", ...) over unix:// or http:// server URLs, with HTTP basic auth.
//     Faults come back as *Fault, whose Code is Supervisor's fault code; errors.Is(err,
//     ErrNoSuchProcess) recognises the BAD_NAME fault.
//   - the event listener protocol, spoken on a listener's stdin/stdout: Conn writes READY and
//     RESULT and reads events (a header line of key:value tokens, then a payload of exactly len
//     characters); ReadEvent is the reading half on its own.
//
// The XML-RPC encoding is written here rather than taken from a module: see xmlrpc.go.
package supervisor
