package admin

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/gorilla/websocket"

	"sluice/backend/logging"
)

func (c *console) dial(path string, header http.Header) *websocket.Conn {
	c.t.Helper()
	conn, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(c.url, "http")+path, header)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		c.t.Fatalf("dial %s: %v (%d)", path, err, status)
	}
	c.t.Cleanup(func() { conn.Close() })
	return conn
}

func readText(t *testing.T, conn *websocket.Conn) string {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	kind, msg, err := conn.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	if kind != websocket.TextMessage {
		t.Fatalf("message kind %d", kind)
	}
	return string(msg)
}

// readUntil reads messages until one satisfies ok.
func readUntil(t *testing.T, conn *websocket.Conn, ok func(string) bool) string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if m := readText(t, conn); ok(m) {
			return m
		}
	}
	t.Fatal("no matching message")
	return ""
}

func TestLogPolling(t *testing.T) {
	t.Parallel()
	b := NewLogBuffer(3)
	for i := 1; i <= 5; i++ {
		b.Add(fmt.Sprintf("line %d", i))
	}
	for _, tc := range []struct {
		seen  int
		lines string
	}{
		{0, "line 3,line 4,line 5"},
		{3, "line 4,line 5"},
		{4, "line 5"},
		{5, ""},
		{9, "line 3,line 4,line 5"}, // from before a restart
	} {
		lines, total := b.Tail(tc.seen)
		if total != 5 || strings.Join(lines, ",") != tc.lines {
			t.Errorf("Tail(%d) = %v %d", tc.seen, lines, total)
		}
	}

	c := newConsole(t, consoleOptions{})
	logging.Infof("[test] polling marker")
	r := c.do("GET", "/api/v1/log", "")
	c.expect(r, 200, "")
	n, err := strconv.Atoi(r.header.Get("x-log-size"))
	if err != nil || n < 1 || !strings.Contains(r.body, "[test] polling marker\n") {
		t.Fatalf("log: x-log-size %q, body %q", r.header.Get("x-log-size"), r.body)
	}
	r = c.do("GET", "/api/v1/log", "", "x-log-size", strconv.Itoa(n))
	if r.body != "" && strings.Contains(r.body, "polling marker") {
		t.Fatalf("lines already seen came again: %q", r.body)
	}
	logging.Infof("[test] second marker")
	r = c.do("GET", "/api/v1/log", "", "x-log-size", strconv.Itoa(n))
	if !strings.Contains(r.body, "[test] second marker\n") || strings.Contains(r.body, "polling marker") {
		t.Fatalf("tail: %q", r.body)
	}
}

func TestLogStream(t *testing.T) {
	t.Parallel()
	c := newConsole(t, consoleOptions{})
	logging.Infof("[test] before the stream")
	conn := c.dial("/api/v1/log/stream", nil)
	readUntil(t, conn, func(m string) bool { return strings.HasSuffix(m, "[test] before the stream") })
	logging.Infof("[test] after\n[test] two lines")
	readUntil(t, conn, func(m string) bool { return strings.HasSuffix(m, "[test] after") })
	if m := readText(t, conn); !strings.HasSuffix(m, "[test] two lines") || !logPrefix(m) {
		t.Fatalf("next message %q", m)
	}
}

func logPrefix(m string) bool { return len(m) > 24 && m[4] == '-' && m[23:28] == " [INF" }

func TestStatusStream(t *testing.T) {
	t.Parallel()
	c := newConsole(t, consoleOptions{})
	conn := c.dial("/api/v1/status/stream", nil)
	var prog struct {
		Type       string `json:"type"`
		Running    bool   `json:"running"`
		Codebase   string `json:"codebase"`
		Generation int    `json:"generation"`
		Status     struct {
			Modules map[string]json.RawMessage `json:"modules"`
		} `json:"status"`
	}
	must(t, json.Unmarshal([]byte(readText(t, conn)), &prog))
	if prog.Type != "program" || prog.Running || prog.Generation != 0 {
		t.Fatalf("first message %+v", prog)
	}
	var counters struct {
		Type     string `json:"type"`
		Counters struct {
			Connections int64    `json:"connections"`
			Listeners   []string `json:"listeners"`
			Workers     []struct {
				ID int `json:"id"`
			} `json:"workers"`
		} `json:"counters"`
	}
	must(t, json.Unmarshal([]byte(readText(t, conn)), &counters))
	if counters.Type != "counters" {
		t.Fatalf("second message %+v", counters)
	}

	port := freePort(t)
	c.expect(c.do("POST", "/api/v1/repo/s", ""), 201, "")
	c.expect(c.do("POST", "/api/v1/repo/s/main.js", helloScript(port, "hi")), 201, "")
	c.expect(c.do("POST", "/api/v1/program", "/s"), 201, "")
	m := readUntil(t, conn, func(m string) bool { return strings.Contains(m, `"type":"program"`) })
	must(t, json.Unmarshal([]byte(m), &prog))
	if !prog.Running || prog.Codebase != "/s" || prog.Generation != 1 || prog.Status.Modules["/main.js"] == nil {
		t.Fatalf("program message %s", m)
	}
	m = readUntil(t, conn, func(m string) bool { return strings.Contains(m, `"type":"counters"`) })
	must(t, json.Unmarshal([]byte(m), &counters))
	if len(counters.Counters.Listeners) != 1 || len(counters.Counters.Workers) != 2 {
		t.Fatalf("counters %s", m)
	}
	// An open connection to the program shows up.
	raw, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	must(t, err)
	defer raw.Close()
	readUntil(t, conn, func(m string) bool { return strings.Contains(m, `"connections":1`) })
	c.expect(c.do("DELETE", "/api/v1/program", ""), 204, "")
	readUntil(t, conn, func(m string) bool { return strings.Contains(m, `"type":"program","running":false`) })
}

func TestWorkerLinkPushesVersions(t *testing.T) {
	t.Parallel()
	c := newConsole(t, consoleOptions{})
	c.expect(c.do("POST", "/api/v1/repo/base", ""), 201, "")
	c.expect(c.do("POST", "/api/v1/repo/derived", `{"base":"/base"}`), 201, "")
	conn := c.dial("/repo/derived/", nil)
	if m := readText(t, conn); m != `{"version":"1"}` {
		t.Fatalf("first message %q", m)
	}
	// A commit of the base gives the derived codebase a new version.
	c.expect(c.do("POST", "/api/v1/repo/base/main.js", "pipy() // 2"), 201, "")
	c.expect(c.do("POST", "/api/v1/repo/base", `{"version":2}`), 201, "")
	if m := readText(t, conn); m != `{"version":"2"}` {
		t.Fatalf("after the base's commit %q", m)
	}
	// A worker may report its status over the link.
	must(t, conn.WriteMessage(websocket.TextMessage,
		[]byte(`{"timestamp":1,"uuid":"ws-1","name":"w","version":"2","modules":{}}`)))
	eventually(t, 2*time.Second, func() error {
		if len(c.srv.instancesOf("/derived")) != 1 {
			return fmt.Errorf("the status sent over the link was not registered")
		}
		return nil
	})
	c.expectError(c.do("GET", "/repo/nope/", "", "Upgrade", "websocket", "Connection", "Upgrade",
		"Sec-WebSocket-Version", "13", "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), 404, "not found")
}

func TestTokenAndOrigins(t *testing.T) {
	t.Parallel()
	c := newConsole(t, consoleOptions{token: "s3cret", ui: fstest.MapFS{"index.html": {Data: []byte("<h1>console</h1>")}}})
	for _, p := range []string{"/api/v1/repo", "/api/v1/program", "/repo/", "/metrics", "/api/v1/status"} {
		r := c.do("GET", p, "")
		c.expectError(r, 401, "token")
		if r.header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: no WWW-Authenticate", p)
		}
		c.expectError(c.do("GET", p, "", "Authorization", "Bearer wrong"), 401, "token")
		if r := c.do("GET", p, "", "Authorization", "Bearer s3cret"); r.status >= 400 && r.status != 404 {
			t.Errorf("%s with the token: %d %s", p, r.status, r.body)
		}
		if r := c.do("GET", p+"?token=s3cret", ""); r.status >= 400 && r.status != 404 {
			t.Errorf("%s?token: %d %s", p, r.status, r.body)
		}
	}
	// Websockets need it too.
	_, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(c.url, "http")+"/api/v1/log/stream", nil)
	if err == nil || resp == nil || resp.StatusCode != 401 {
		t.Fatalf("websocket without a token: %v %v", err, resp)
	}
	c.dial("/api/v1/log/stream", http.Header{"Authorization": {"Bearer s3cret"}})
	// The front end's page does not; opened with ?token= it sets a cookie
	// that authenticates the API.
	c.expect(c.do("GET", "/", ""), 200, "<h1>console</h1>")
	r := c.do("GET", "/?token=s3cret", "")
	var cookie string
	for _, ck := range r.header.Values("Set-Cookie") {
		if strings.HasPrefix(ck, TokenCookie+"=s3cret") && strings.Contains(ck, "HttpOnly") {
			cookie = strings.SplitN(ck, ";", 2)[0]
		}
	}
	if cookie == "" {
		t.Fatalf("no token cookie: %v", r.header)
	}
	c.expect(c.do("GET", "/api/v1/program", "", "Cookie", cookie), 200, "")
	c.expect(c.do("GET", "/?token=wrong", ""), 200, "<h1>console</h1>")

	// Loopback only: the Host must be this machine (no DNS rebinding), and
	// another site's pages cannot post.
	l := newConsole(t, consoleOptions{loopback: true})
	l.expectError(l.do("GET", "/api/v1/repo", "", "Host", "evil.example:6060"), 403, "host")
	l.expectError(l.do("GET", "/", "", "Host", "evil.example"), 403, "host")
	for _, h := range []string{"localhost:6060", "127.0.0.1", "[::1]:6060", "app.localhost"} {
		l.expect(l.do("GET", "/api/v1/program", "", "Host", h), 200, "")
	}
	l.expectError(l.do("POST", "/api/v1/repo/x", "{}", "Origin", "http://evil.example"), 403, "cross-origin")
	l.expect(l.do("POST", "/api/v1/repo/x", "{}", "Origin", l.url), 201, "")
	l.expect(l.do("GET", "/api/v1/repo", "", "Origin", "http://evil.example"), 200, "/x")
	_, resp, err = websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(l.url, "http")+"/api/v1/log/stream",
		http.Header{"Origin": {"http://evil.example"}})
	if err == nil || resp == nil || resp.StatusCode != 403 {
		t.Fatalf("cross-origin websocket: %v %v", err, resp)
	}
}

func TestFrontEnd(t *testing.T) {
	t.Parallel()
	c := newConsole(t, consoleOptions{ui: fstest.MapFS{
		"index.html":     {Data: []byte("<!doctype html><title>Sluice</title>")},
		"assets/app.js":  {Data: []byte("console.log(1)")},
		"assets/app.css": {Data: []byte("body{}")},
	}})
	r := c.do("GET", "/", "")
	c.expect(r, 200, "<!doctype html><title>Sluice</title>")
	if !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") || r.header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("index headers %v", r.header)
	}
	c.expect(c.do("GET", "/", "", "If-None-Match", r.header.Get("ETag")), 304, "")
	r = c.do("GET", "/assets/app.js", "")
	c.expect(r, 200, "console.log(1)")
	if !strings.Contains(r.header.Get("Content-Type"), "javascript") || r.header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("js headers %v", r.header)
	}
	c.expect(c.do("GET", "/assets/app.js", "", "If-None-Match", r.header.Get("ETag")), 304, "")
	// The single-page app's own addresses get index.html...
	c.expect(c.do("GET", "/codebases/x", ""), 200, "<!doctype html><title>Sluice</title>")
	c.expect(c.do("POST", "/api/v1/repo/hello", ""), 201, "")
	c.expect(c.do("GET", "/repo/hello/", "", "Accept", "text/html,*/*"), 200, "<!doctype html><title>Sluice</title>")
	c.expect(c.do("GET", "/repo/hello/main.js", "", "Accept", "text/html"), 200, "<!doctype html><title>Sluice</title>")
	// ...while workers (no text/html) get the repo, and missing files 404.
	c.expect(c.do("GET", "/repo/hello/", ""), 200, "/main.js")
	c.expectError(c.do("GET", "/assets/nope.js", ""), 404, "not found")
	// Without a front end there is a notice.
	n := newConsole(t, consoleOptions{})
	if r := n.do("GET", "/", ""); r.status != 200 || !strings.Contains(r.body, "/api/v1/") {
		t.Fatalf("no-UI page: %d %s", r.status, r.body)
	}
}
