package admin

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	_ "sluice/backend/filters"
	"sluice/backend/logging"
	"sluice/backend/store"
	"sluice/backend/supervisor"
)

func TestMain(m *testing.M) {
	// The log lines still reach the consoles' log buffers.
	logging.SetOutput(io.Discard)
	os.Exit(m.Run())
}

// console is a console server on a real socket with a real store.
type console struct {
	t     *testing.T
	url   string
	srv   *Server
	store *store.Store
	sup   *supervisor.Supervisor
	dir   string
	http  *httptest.Server
}

type consoleOptions struct {
	token    string
	loopback bool
	budget   time.Duration
	ui       fstest.MapFS
	dir      string
}

func newConsole(t *testing.T, o consoleOptions) *console {
	t.Helper()
	if o.dir == "" {
		o.dir = t.TempDir()
	}
	st, err := store.Open(o.dir)
	if err != nil {
		t.Fatal(err)
	}
	sup := supervisor.New(supervisor.Options{Threads: 2, CallbackBudget: o.budget, UUID: "console-uuid", Name: "console"})
	var ui fstest.MapFS
	if o.ui != nil {
		ui = o.ui
	}
	cfg := Config{Store: st, Supervisor: sup, Token: o.token, Loopback: o.loopback, GraphBudget: 500 * time.Millisecond}
	if ui != nil {
		cfg.UI = ui
	}
	srv := New(cfg)
	hs := httptest.NewServer(srv)
	c := &console{t: t, url: hs.URL, srv: srv, store: st, sup: sup, dir: o.dir, http: hs}
	t.Cleanup(c.close)
	return c
}

func (c *console) close() {
	c.srv.Close()
	c.http.CloseClientConnections()
	c.http.Close()
	c.sup.Shutdown(time.Second)
	c.srv.Log().Detach()
	c.store.Close()
}

type reply struct {
	status int
	header http.Header
	body   string
}

func (r reply) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(r.body), v); err != nil {
		t.Fatalf("reply is not JSON (%v): %s", err, r.body)
	}
}

// do sends a request; headers come in name, value pairs.
func (c *console) do(method, path, body string, headers ...string) reply {
	c.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, c.url+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if strings.EqualFold(headers[i], "Host") {
			req.Host = headers[i+1]
			continue
		}
		req.Header.Set(headers[i], headers[i+1])
	}
	return c.send(req)
}

// raw sends a request with its path exactly as given (no cleaning, no
// escaping).
func (c *console) raw(method, rawPath, body string) reply {
	c.t.Helper()
	req, err := http.NewRequest(method, c.url+"/", strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.URL.Opaque = rawPath
	return c.send(req)
}

func (c *console) send(req *http.Request) reply {
	c.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{resp.StatusCode, resp.Header, string(b)}
}

func (c *console) expect(r reply, status int, body string) {
	c.t.Helper()
	if r.status != status || (body != "" && r.body != body) {
		c.t.Fatalf("got %d %q, want %d %q", r.status, r.body, status, body)
	}
}

// expectError checks the one error shape.
func (c *console) expectError(r reply, status int, contains string) apiError {
	c.t.Helper()
	var e apiError
	if r.status != status {
		c.t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		c.t.Fatalf("error content type %q: %s", ct, r.body)
	}
	r.json(c.t, &e)
	if e.Status != status || !strings.Contains(e.Message, contains) {
		c.t.Fatalf("error %+v, want status %d and a message with %q", e, status, contains)
	}
	return e
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func helloScript(port int, reply string) string {
	return fmt.Sprintf("pipy()\n\n.listen('127.0.0.1:%d')\n  .serveHTTP(new Message(%q))\n", port, reply)
}

// get fetches a URL on a fresh connection.
func get(url string) (string, error) {
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// eventually retries f until it returns nil or d passes.
func eventually(t *testing.T, d time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
