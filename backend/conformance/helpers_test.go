package conformance_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"sluice/backend/engine"
	_ "sluice/backend/filters"
	"sluice/backend/logging"
)

// ioTimeout bounds every request of these tests.
const ioTimeout = 10 * time.Second

func TestMain(m *testing.M) {
	if os.Getenv("SLUICE_TEST_LOG") == "" {
		logging.SetOutput(io.Discard)
	}
	os.Exit(m.Run())
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

// upstream is a plain Go HTTP server standing for a service behind the
// proxy. It answers "<name> <path>" and counts the connections it accepts.
type upstream struct {
	name string
	addr string

	mu    sync.Mutex
	conns int
	paths []string
}

func newUpstream(t *testing.T, name string) *upstream {
	t.Helper()
	u := &upstream{name: name}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u.addr = ln.Addr().String()
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			u.mu.Lock()
			u.paths = append(u.paths, r.URL.RequestURI())
			u.mu.Unlock()
			w.Header().Set("x-upstream-conn", r.RemoteAddr)
			fmt.Fprintf(w, "%s %s", u.name, r.URL.RequestURI())
		}),
		ConnState: func(c net.Conn, s http.ConnState) {
			if s == http.StateNew {
				u.mu.Lock()
				u.conns++
				u.mu.Unlock()
			}
		},
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return u
}

func (u *upstream) connections() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.conns
}

func (u *upstream) lastPath() string {
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.paths) == 0 {
		return ""
	}
	return u.paths[len(u.paths)-1]
}

// proxy is a Sluice program loaded from an in-memory codebase and
// listening on a free port, written into the codebase as $PORT.
type proxy struct {
	base string // http://127.0.0.1:PORT
	srv  *engine.Server
	prog *engine.Program
}

// startProxy loads files (path -> content; "$PORT" and the keys of vars
// are replaced) with main as the entry, on threads workers.
func startProxy(t *testing.T, threads int, main string, files map[string]string, vars map[string]string) *proxy {
	t.Helper()
	port := fmt.Sprint(freePort(t))
	pairs := []string{"$PORT", port}
	for k, v := range vars {
		pairs = append(pairs, k, v)
	}
	r := strings.NewReplacer(pairs...)
	fsys := fstest.MapFS{}
	for name, content := range files {
		fsys[strings.TrimPrefix(name, "/")] = &fstest.MapFile{Data: []byte(r.Replace(content))}
	}
	p, err := engine.Load(engine.Options{FS: fsys, Main: main, Threads: threads})
	if err != nil {
		t.Fatalf("loading %s: %v", main, err)
	}
	srv := engine.NewServer()
	if err := srv.Start(p); err != nil {
		p.Stop()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		srv.StopListening()
		srv.Shutdown(5 * time.Second)
		p.Stop()
	})
	return &proxy{base: "http://127.0.0.1:" + port, srv: srv, prog: p}
}

// client is one keep-alive HTTP connection (at most) to the proxy.
type client struct {
	t  *testing.T
	hc *http.Client
	tr *http.Transport
}

// newClient makes a client whose requests share one connection; local,
// if not empty, is the source IP to connect from (any of 127.0.0.0/8).
func newClient(t *testing.T, local string) *client {
	t.Helper()
	d := &net.Dialer{Timeout: ioTimeout}
	if local != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(local)}
	}
	tr := &http.Transport{DialContext: d.DialContext, MaxConnsPerHost: 1, MaxIdleConnsPerHost: 1}
	c := &client{t: t, hc: &http.Client{Transport: tr, Timeout: ioTimeout}, tr: tr}
	t.Cleanup(tr.CloseIdleConnections)
	return c
}

// fresh makes a client that opens a new connection for every request.
func fresh(t *testing.T) *client {
	t.Helper()
	tr := &http.Transport{DisableKeepAlives: true}
	return &client{t: t, hc: &http.Client{Transport: tr, Timeout: ioTimeout}, tr: tr}
}

type response struct {
	status int
	body   string
	header http.Header
}

func (c *client) do(method, url, body string, header ...string) response {
	c.t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatalf("%s %s: reading the body: %v", method, url, err)
	}
	return response{status: res.StatusCode, body: string(b), header: res.Header}
}

func (c *client) get(url string, header ...string) response {
	c.t.Helper()
	return c.do("GET", url, "", header...)
}

// close ends the client's connection.
func (c *client) close() { c.tr.CloseIdleConnections() }

// jsonConfig renders v as JSON for a codebase's config file.
func jsonConfig(t *testing.T, v any) string {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// eventually polls cond until it holds or a few seconds have passed.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
