package events

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/vr-paas/vr/pkg/schema"
	"github.com/vr-paas/vr/pkg/supervisor"
)

// ProcMessage is what the original published for a PROCESS_STATE* event: vr.common's
// Proc.as_dict() plus "event". Times are ISO-8601 UTC with "+00:00", or null where Supervisor
// reports 0; the name-derived fields come from schema.ParseProcNameLenient (UNKNOWN and port 0
// for names that are not vr proc names).
type ProcMessage struct {
	Description   string  `json:"description"`
	ExitStatus    int     `json:"exitstatus"`
	Group         string  `json:"group"`
	Logfile       string  `json:"logfile"`
	Name          string  `json:"name"`
	Now           *string `json:"now"`
	PID           int     `json:"pid"`
	SpawnErr      string  `json:"spawnerr"`
	StartTime     *string `json:"start_time"`
	State         int     `json:"state"`
	StateName     string  `json:"statename"`
	StderrLogfile string  `json:"stderr_logfile"`
	StdoutLogfile string  `json:"stdout_logfile"`
	StopTime      *string `json:"stop_time"`
	AppName       string  `json:"app_name"`
	Version       string  `json:"version"`
	ConfigName    string  `json:"config_name"`
	Hash          string  `json:"hash"`
	ProcName      string  `json:"proc_name"`
	Port          int     `json:"port"`
	JSName        string  `json:"jsname"`
	ID            string  `json:"id"`
	Host          string  `json:"host"`
	Event         string  `json:"event"`
}

// NewProcMessage builds the message for event (a PROCESS_STATE_<STATE> name) about the process
// described by info, as fetched from supervisord while handling the event.
//
// One difference from the original, on purpose: state and statename are the state the event
// announces, not the state the process has reached by the time the event is handled. They are
// the same when events are handled as they come; when supervisord re-sends events held back
// while Redis was down, each message still says what happened (STARTING, then RUNNING, ...).
func NewProcMessage(host, event string, info supervisor.ProcessInfo) ProcMessage {
	n := schema.ParseProcNameLenient(info.Name)
	m := ProcMessage{
		Description:   info.Description,
		ExitStatus:    info.ExitStatus,
		Group:         info.Group,
		Logfile:       info.Logfile,
		Name:          info.Name,
		Now:           isoTime(info.Now),
		PID:           info.PID,
		SpawnErr:      info.SpawnErr,
		StartTime:     isoTime(info.Start),
		State:         info.State,
		StateName:     info.StateName,
		StderrLogfile: info.StderrLogfile,
		StdoutLogfile: info.StdoutLogfile,
		StopTime:      isoTime(info.Stop),
		AppName:       n.App,
		Version:       n.Version,
		ConfigName:    n.Config,
		Hash:          n.Hash,
		ProcName:      n.Proc,
		Port:          n.Port,
		JSName:        strings.ReplaceAll(info.Name, ".", "dot"),
		ID:            host + "-" + info.Name,
		Host:          host,
		Event:         event,
	}
	if code, name, ok := supervisor.StateFromEvent(event); ok {
		m.State, m.StateName = code, name
	}
	return m
}

// procInfoFromPayload is what is known of a process from a state event's payload alone
// (processname, groupname, pid), for when supervisord no longer lists it or cannot be asked.
func procInfoFromPayload(headers map[string]string, now time.Time) supervisor.ProcessInfo {
	pid, _ := strconv.Atoi(headers["pid"])
	return supervisor.ProcessInfo{
		Name:  headers["processname"],
		Group: headers["groupname"],
		PID:   pid,
		Now:   now.Unix(),
		State: supervisor.StateUnknown, StateName: "UNKNOWN",
	}
}

// RemovedMessage is what the original published for PROCESS_GROUP_REMOVED: the event as its
// Event.emit() gave it, plus the group name as "name", the fields parsed from it and "id".
type RemovedMessage struct {
	Event          string            `json:"event"`
	Host           string            `json:"host"`
	PayloadHeaders map[string]string `json:"payload_headers"`
	PayloadData    string            `json:"payload_data"`
	Time           string            `json:"time"`
	Name           string            `json:"name"`
	AppName        string            `json:"app_name"`
	Version        string            `json:"version"`
	ConfigName     string            `json:"config_name"`
	Hash           string            `json:"hash"`
	ProcName       string            `json:"proc_name"`
	Port           int               `json:"port"`
	ID             string            `json:"id"`
}

// NewRemovedMessage builds the message for a PROCESS_GROUP_REMOVED event. now is the event's
// time unless its payload carries "when" (Unix seconds), as in the original.
func NewRemovedMessage(host string, ev supervisor.Event, now time.Time) RemovedMessage {
	headers, data := ev.PayloadFields()
	name := headers["groupname"]
	n := schema.ParseProcNameLenient(name)
	return RemovedMessage{
		Event:          ev.Header.EventName,
		Host:           host,
		PayloadHeaders: headers,
		PayloadData:    data,
		Time:           eventTime(headers, now),
		Name:           name,
		AppName:        n.App,
		Version:        n.Version,
		ConfigName:     n.Config,
		Hash:           n.Hash,
		ProcName:       n.Proc,
		Port:           n.Port,
		ID:             host + "-" + name,
	}
}

// isoTime renders Unix seconds as Python's datetime.isoformat() of an aware UTC time
// ("2013-01-01T12:00:00+00:00"), or nil for 0.
func isoTime(sec int64) *string {
	if sec == 0 {
		return nil
	}
	s := time.Unix(sec, 0).UTC().Format("2006-01-02T15:04:05") + "+00:00"
	return &s
}

// eventTime renders the event's time as the original did: the naive UTC datetime of "when"
// when present, else of now, in isoformat() (microseconds only when not zero).
func eventTime(headers map[string]string, now time.Time) string {
	t := now
	if w, ok := headers["when"]; ok {
		if f, err := strconv.ParseFloat(w, 64); err == nil && f >= 0 && f < 1e11 {
			sec := int64(f)
			t = time.Unix(sec, int64((f-float64(sec))*1e6)*1000)
		}
	}
	t = t.UTC().Truncate(time.Microsecond)
	if t.Nanosecond() == 0 {
		return t.Format("2006-01-02T15:04:05")
	}
	return t.Format("2006-01-02T15:04:05.000000")
}

// marshal encodes a message as the JSON published, without HTML escaping.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
