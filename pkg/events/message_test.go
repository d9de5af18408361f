package events_test

import (
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/vr-paas/vr/pkg/events"
	"github.com/vr-paas/vr/pkg/supervisor"
)

func dummyInfo(name string) supervisor.ProcessInfo {
	return supervisor.ProcessInfo{
		Name: name, Group: name, Description: "pid 1234, uptime 0:00:05",
		Start: 1356028501, Stop: 0, Now: 1356028506,
		State: supervisor.StateRunning, StateName: "RUNNING",
		Logfile: "/var/log/" + name + ".log", StdoutLogfile: "/var/log/" + name + ".log", StderrLogfile: "/var/log/" + name + ".err",
		PID: 1234,
	}
}

func decode(t *testing.T, v any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func keys(m map[string]any) []string {
	var k []string
	for key := range m {
		k = append(k, key)
	}
	sort.Strings(k)
	return k
}

// The keys of vr.common's Proc.as_dict() plus "event" (reference §5.4).
var originalProcKeys = []string{"app_name", "config_name", "description", "event", "exitstatus", "group", "hash", "host", "id",
	"jsname", "logfile", "name", "now", "pid", "port", "proc_name", "spawnerr", "start_time", "state", "statename",
	"stderr_logfile", "stdout_logfile", "stop_time", "version"}

func TestProcMessageFields(t *testing.T) {
	m := decode(t, events.NewProcMessage("somewhere", "PROCESS_STATE_RUNNING", dummyInfo("dummyproc")))
	if got := keys(m); !reflect.DeepEqual(got, originalProcKeys) {
		t.Fatalf("keys %v\nwant %v", got, originalProcKeys)
	}
	want := map[string]any{
		"app_name": "dummyproc", "version": "UNKNOWN", "config_name": "UNKNOWN", "hash": "UNKNOWN", "proc_name": "dummyproc", "port": 0.0,
		"description": "pid 1234, uptime 0:00:05", "event": "PROCESS_STATE_RUNNING", "exitstatus": 0.0, "group": "dummyproc",
		"host": "somewhere", "id": "somewhere-dummyproc", "jsname": "dummyproc", "logfile": "/var/log/dummyproc.log",
		"name": "dummyproc", "now": "2012-12-20T18:35:06+00:00", "pid": 1234.0, "spawnerr": "",
		"start_time": "2012-12-20T18:35:01+00:00", "state": 20.0, "statename": "RUNNING",
		"stderr_logfile": "/var/log/dummyproc.err", "stdout_logfile": "/var/log/dummyproc.log", "stop_time": nil,
	}
	if !reflect.DeepEqual(m, want) {
		t.Fatalf("got  %v\nwant %v", m, want)
	}
}

func TestProcMessageVRName(t *testing.T) {
	info := dummyInfo("node_example-v2-local-f96054b7-web-5003")
	info.Name = "node_example-v2-local-f96054b7-web-5003"
	m := events.NewProcMessage("app1.example.com", "PROCESS_STATE_RUNNING", info)
	if m.AppName != "node_example" || m.Version != "v2" || m.ConfigName != "local" || m.Hash != "f96054b7" ||
		m.ProcName != "web" || m.Port != 5003 || m.ID != "app1.example.com-node_example-v2-local-f96054b7-web-5003" {
		t.Fatalf("%+v", m)
	}
	// jsname replaces dots (the dashboard uses it as a DOM id).
	info.Name = "app-v1.2-prod-abcdef12-web-5000"
	if m := events.NewProcMessage("h", "PROCESS_STATE_RUNNING", info); m.JSName != "app-v1dot2-prod-abcdef12-web-5000" || m.Version != "v1.2" {
		t.Fatalf("%+v", m)
	}
}

func TestProcMessageStateFromEvent(t *testing.T) {
	info := dummyInfo("web") // supervisord already says RUNNING
	for _, tc := range []struct {
		event string
		state int
		name  string
	}{
		{"PROCESS_STATE_STARTING", 10, "STARTING"},
		{"PROCESS_STATE_STOPPING", 40, "STOPPING"},
		{"PROCESS_STATE_EXITED", 100, "EXITED"},
		{"PROCESS_STATE_FATAL", 200, "FATAL"},
		{"PROCESS_STATE_WHATEVER", 20, "RUNNING"}, // unknown: keep supervisord's
	} {
		m := events.NewProcMessage("h", tc.event, info)
		if m.State != tc.state || m.StateName != tc.name || m.Event != tc.event {
			t.Errorf("%s: state %d %s", tc.event, m.State, m.StateName)
		}
	}
}

func TestRemovedMessage(t *testing.T) {
	now := time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC)
	ev := supervisor.Event{Header: supervisor.Header{EventName: "PROCESS_GROUP_REMOVED"}, Payload: "groupname:dummyproc\n"}
	m := decode(t, events.NewRemovedMessage("somewhere", ev, now))
	want := map[string]any{
		"event": "PROCESS_GROUP_REMOVED", "host": "somewhere",
		"payload_headers": map[string]any{"groupname": "dummyproc"}, "payload_data": "\n",
		"time": "2024-05-06T07:08:09.123456", "name": "dummyproc", "id": "somewhere-dummyproc",
		"app_name": "dummyproc", "version": "UNKNOWN", "config_name": "UNKNOWN", "hash": "UNKNOWN", "proc_name": "dummyproc", "port": 0.0,
	}
	if !reflect.DeepEqual(m, want) {
		t.Fatalf("got  %v\nwant %v", m, want)
	}

	ev.Payload = "groupname:node_example-v2-local-f96054b7-web-5003\n"
	r := events.NewRemovedMessage("somewhere", ev, now)
	if r.AppName != "node_example" || r.Hash != "f96054b7" || r.ProcName != "web" || r.ConfigName != "local" || r.Version != "v2" || r.Port != 5003 {
		t.Fatalf("%+v", r)
	}

	// "when" gives the time, and whole seconds print without a fraction (isoformat()).
	ev.Payload = "groupname:x when:1356028501"
	if r := events.NewRemovedMessage("h", ev, now); r.Time != "2012-12-20T18:35:01" {
		t.Fatalf("time %q", r.Time)
	}
	if r := events.NewRemovedMessage("h", ev, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)); strings.Contains(r.Time, ".") {
		t.Fatalf("time %q", r.Time)
	}
}
