// Package events turns Supervisor's process events into the original Velociraptor's Redis
// messages, and reads them back.
//
// The messages (ProcMessage, RemovedMessage) are the original proc_publisher's, field for field:
// a proc's state change and a removed process group are published as JSON on the channel
// "proc_events", and after every event the hash "host_procs:<host>" is replaced by the host's
// current getAllProcessInfo (600 s expiry), so dashboards written for the original keep working.
//
// What vr adds is that nothing is lost: every published message is also appended to the capped
// stream "proc_events:stream" with a per-host sequence number, atomically with the publish and
// the cache refresh (one Lua script, see Publisher). Listener runs the event listener protocol
// and answers FAIL while Redis is unreachable, so supervisord keeps the event and sends it again;
// Watch reads the stream from any id, so a consumer that was away resumes where it stopped.
//
// pkg/events/eventstest starts a real redis-server for tests.
package events
