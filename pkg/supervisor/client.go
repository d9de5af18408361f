package supervisor

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Environment variables of a Supervisor child process: supervisord sets SUPERVISOR_SERVER_URL
// (unix:///path/to/sock or http://host:port) for every child; the username and password are set
// by the program's environment= line when the server requires them.
const (
	EnvServerURL = "SUPERVISOR_SERVER_URL"
	EnvUsername  = "SUPERVISOR_USERNAME"
	EnvPassword  = "SUPERVISOR_PASSWORD"
)

// DefaultTimeout bounds one XML-RPC call when Options.Timeout is zero (the original's 10 s).
const DefaultTimeout = 10 * time.Second

// maxResponse bounds a response body; getAllProcessInfo of thousands of procs stays far below.
const maxResponse = 64 << 20

// Options configure a Client.
type Options struct {
	Username string        // HTTP basic auth; overrides credentials in the URL
	Password string        //
	Timeout  time.Duration // per call; 0 means DefaultTimeout, negative means none
}

// Client calls supervisord's XML-RPC API. It is safe for concurrent use.
type Client struct {
	url      string // the server URL as given, password redacted (for messages)
	endpoint string // the HTTP URL requests are posted to
	username string
	password string
	timeout  time.Duration
	hc       *http.Client
}

// New returns a client for the supervisord at serverURL: "unix:///run/supervisor.sock" (the
// XML-RPC endpoint /RPC2 over that socket) or "http://host:port" (path /RPC2 unless the URL
// has one; credentials in the URL are used for basic auth unless Options sets them).
func New(serverURL string, o Options) (*Client, error) {
	c := &Client{username: o.Username, password: o.Password, timeout: o.Timeout}
	if c.timeout == 0 {
		c.timeout = DefaultTimeout
	}
	tr := &http.Transport{MaxIdleConnsPerHost: 4, IdleConnTimeout: 30 * time.Second}
	switch {
	case strings.HasPrefix(serverURL, "unix://"):
		path := strings.TrimPrefix(serverURL, "unix://")
		if path == "" {
			return nil, &URLError{URL: serverURL, Msg: "no socket path after unix://"}
		}
		c.url = serverURL
		c.endpoint = "http://localhost/RPC2"
		dialer := &net.Dialer{}
		tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, "unix", path)
		}
	case strings.HasPrefix(serverURL, "http://") || strings.HasPrefix(serverURL, "https://"):
		u, err := url.Parse(serverURL)
		if err != nil {
			return nil, &URLError{URL: serverURL, Msg: err.Error()}
		}
		if u.Host == "" {
			return nil, &URLError{URL: serverURL, Msg: "no host"}
		}
		if u.User != nil {
			if c.username == "" && c.password == "" {
				c.username = u.User.Username()
				c.password, _ = u.User.Password()
			}
			u.User = nil
		}
		if u.Path == "" || u.Path == "/" {
			u.Path = "/RPC2"
		}
		c.endpoint = u.String()
		c.url = u.Redacted()
		tr.Proxy = nil // supervisord is local; never send its credentials through a proxy
	default:
		return nil, &URLError{URL: serverURL, Msg: "expected unix:///path/to/socket or http://host:port"}
	}
	c.hc = &http.Client{Transport: tr}
	return c, nil
}

// URL returns the server URL the client was made with (without password).
func (c *Client) URL() string { return c.url }

// Close releases idle connections.
func (c *Client) Close() {
	c.hc.CloseIdleConnections()
}

// Call calls an XML-RPC method and returns its decoded result (see DecodeResponse). A fault is
// returned as a wrapped *Fault.
func (c *Client) Call(ctx context.Context, method string, args ...any) (any, error) {
	v, err := c.call(ctx, method, args...)
	if err != nil {
		return nil, fmt.Errorf("supervisor %s: %s: %w", c.url, method, err)
	}
	return v, nil
}

func (c *Client) call(ctx context.Context, method string, args ...any) (any, error) {
	body, err := EncodeCall(method, args...)
	if err != nil {
		return nil, err
	}
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "text/xml")
	if c.username != "" || c.password != "" {
		req.SetBasicAuth(c.username, c.password)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return nil, fmt.Errorf("read response: %w", err)
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		return nil, fmt.Errorf("%s (check %s and %s)", resp.Status, EnvUsername, EnvPassword)
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return nil, fmt.Errorf("http status %s", resp.Status)
	case len(data) > maxResponse:
		return nil, fmt.Errorf("response larger than %d bytes", maxResponse)
	}
	return DecodeResponse(data)
}

// ProcessInfo is one entry of getAllProcessInfo (or the result of getProcessInfo). Times are
// Unix seconds, 0 when not applicable. Raw is the struct exactly as Supervisor returned it.
type ProcessInfo struct {
	Name          string
	Group         string
	Description   string
	Start         int64
	Stop          int64
	Now           int64
	State         int
	StateName     string
	SpawnErr      string
	ExitStatus    int
	Logfile       string
	StdoutLogfile string
	StderrLogfile string
	PID           int
	Raw           map[string]any
}

// FullName is the name supervisorctl and startProcess use: "group:name", or "name" when the
// process is alone in a group of the same name.
func (p ProcessInfo) FullName() string {
	if p.Group == "" || p.Group == p.Name {
		return p.Name
	}
	return p.Group + ":" + p.Name
}

// ProcessInfoFromMap converts a decoded getProcessInfo struct. A missing key leaves its field
// zero (older Supervisors return fewer keys); a key of the wrong type is an error. "name" is
// required.
func ProcessInfoFromMap(m map[string]any) (ProcessInfo, error) {
	p := ProcessInfo{Raw: m}
	var err error
	str := func(k string) string {
		v, present := m[k]
		s, ok := v.(string)
		if present && !ok && err == nil {
			err = fmt.Errorf("process info: %q is a %T, not a string", k, v)
		}
		return s
	}
	num := func(k string) int64 {
		v, present := m[k]
		n, ok := v.(int64)
		if present && !ok && err == nil {
			err = fmt.Errorf("process info: %q is a %T, not an int", k, v)
		}
		return n
	}
	if _, ok := m["name"]; !ok {
		return ProcessInfo{}, fmt.Errorf("process info without a name: %v", m)
	}
	p.Name = str("name")
	p.Group = str("group")
	p.Description = str("description")
	p.Start = num("start")
	p.Stop = num("stop")
	p.Now = num("now")
	p.State = int(num("state"))
	p.StateName = str("statename")
	p.SpawnErr = str("spawnerr")
	p.ExitStatus = int(num("exitstatus"))
	p.Logfile = str("logfile")
	p.StdoutLogfile = str("stdout_logfile")
	p.StderrLogfile = str("stderr_logfile")
	p.PID = int(num("pid"))
	if err != nil {
		return ProcessInfo{}, err
	}
	return p, nil
}

// GetAllProcessInfo returns every process supervisord manages (supervisor.getAllProcessInfo).
func (c *Client) GetAllProcessInfo(ctx context.Context) ([]ProcessInfo, error) {
	const method = "supervisor.getAllProcessInfo"
	v, err := c.Call(ctx, method)
	if err != nil {
		return nil, err
	}
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("supervisor %s: %s: result is a %T, not an array", c.url, method, v)
	}
	out := make([]ProcessInfo, 0, len(list))
	for _, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("supervisor %s: %s: entry is a %T, not a struct", c.url, method, e)
		}
		p, err := ProcessInfoFromMap(m)
		if err != nil {
			return nil, fmt.Errorf("supervisor %s: %s: %w", c.url, method, err)
		}
		out = append(out, p)
	}
	return out, nil
}

// GetProcessInfo returns one process by name ("name" or "group:name"); a name supervisord does
// not know is an error matching ErrNoSuchProcess.
func (c *Client) GetProcessInfo(ctx context.Context, name string) (ProcessInfo, error) {
	const method = "supervisor.getProcessInfo"
	v, err := c.Call(ctx, method, name)
	if err != nil {
		return ProcessInfo{}, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return ProcessInfo{}, fmt.Errorf("supervisor %s: %s: result is a %T, not a struct", c.url, method, v)
	}
	p, err := ProcessInfoFromMap(m)
	if err != nil {
		return ProcessInfo{}, fmt.Errorf("supervisor %s: %s: %w", c.url, method, err)
	}
	return p, nil
}

// GetState returns supervisord's own state name ("RUNNING", "SHUTDOWN", ...).
func (c *Client) GetState(ctx context.Context) (string, error) {
	v, err := c.Call(ctx, "supervisor.getState")
	if err != nil {
		return "", err
	}
	m, _ := v.(map[string]any)
	name, ok := m["statename"].(string)
	if !ok {
		return "", fmt.Errorf("supervisor %s: supervisor.getState: no statename in %v", c.url, v)
	}
	return name, nil
}

// GetPID returns supervisord's process id.
func (c *Client) GetPID(ctx context.Context) (int, error) {
	v, err := c.Call(ctx, "supervisor.getPID")
	if err != nil {
		return 0, err
	}
	n, ok := v.(int64)
	if !ok {
		return 0, fmt.Errorf("supervisor %s: supervisor.getPID: result is a %T, not an int", c.url, v)
	}
	return int(n), nil
}

// StartProcess starts a process; with wait it returns once the process is RUNNING (or failed).
func (c *Client) StartProcess(ctx context.Context, name string, wait bool) error {
	_, err := c.Call(ctx, "supervisor.startProcess", name, wait)
	return err
}

// StopProcess stops a process; with wait it returns once the process has stopped.
func (c *Client) StopProcess(ctx context.Context, name string, wait bool) error {
	_, err := c.Call(ctx, "supervisor.stopProcess", name, wait)
	return err
}

// SignalProcess sends a signal ("HUP", "KILL", or a number) to a running process.
func (c *Client) SignalProcess(ctx context.Context, name, signal string) error {
	_, err := c.Call(ctx, "supervisor.signalProcess", name, signal)
	return err
}

// ReloadConfig re-reads the configuration files and returns the group names added, changed and
// removed relative to the running configuration (it applies nothing).
func (c *Client) ReloadConfig(ctx context.Context) (added, changed, removed []string, err error) {
	const method = "supervisor.reloadConfig"
	v, err := c.Call(ctx, method)
	if err != nil {
		return nil, nil, nil, err
	}
	// The result is [[added, changed, removed]].
	outer, _ := v.([]any)
	if len(outer) != 1 {
		return nil, nil, nil, fmt.Errorf("supervisor %s: %s: unexpected result %v", c.url, method, v)
	}
	inner, _ := outer[0].([]any)
	if len(inner) != 3 {
		return nil, nil, nil, fmt.Errorf("supervisor %s: %s: unexpected result %v", c.url, method, v)
	}
	lists := make([][]string, 3)
	for i, l := range inner {
		items, _ := l.([]any)
		for _, it := range items {
			s, ok := it.(string)
			if !ok {
				return nil, nil, nil, fmt.Errorf("supervisor %s: %s: unexpected result %v", c.url, method, v)
			}
			lists[i] = append(lists[i], s)
		}
	}
	return lists[0], lists[1], lists[2], nil
}

// AddProcessGroup starts managing a group that ReloadConfig reported as added.
func (c *Client) AddProcessGroup(ctx context.Context, name string) error {
	_, err := c.Call(ctx, "supervisor.addProcessGroup", name)
	return err
}

// RemoveProcessGroup stops managing a group whose processes are all stopped; supervisord then
// emits PROCESS_GROUP_REMOVED.
func (c *Client) RemoveProcessGroup(ctx context.Context, name string) error {
	_, err := c.Call(ctx, "supervisor.removeProcessGroup", name)
	return err
}
