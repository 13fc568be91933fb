package filters_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/fstest"
	"time"

	"sluice/backend/engine"
	_ "sluice/backend/filters"
	"sluice/backend/logging"
)

// ioTimeout bounds every socket operation of the tests: nothing waits
// longer than this for bytes that should arrive.
const ioTimeout = 10 * time.Second

func TestMain(m *testing.M) {
	// Script errors and debug lines are expected in these tests; keep the
	// output readable unless asked for.
	if os.Getenv("SLUICE_TEST_LOG") == "" {
		logging.SetOutput(io.Discard)
	}
	os.Exit(m.Run())
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

// expand replaces each key of kv (pairs: "$NAME", value) in src.
func expand(src string, kv ...any) string {
	args := make([]string, 0, len(kv))
	for _, x := range kv {
		args = append(args, fmt.Sprint(x))
	}
	return strings.NewReplacer(args...).Replace(src)
}

type instance struct {
	srv  *engine.Server
	prog *engine.Program
	addr string // "127.0.0.1:PORT" of the first $PORT
}

type runOpts struct {
	threads int
	budget  time.Duration
	files   map[string]string
	// upstream: the instance serves another one, whose sessions may
	// outlive the test's clients.
	upstream bool
}

type runOpt func(*runOpts)

func threads(n int) runOpt                 { return func(o *runOpts) { o.threads = n } }
func budget(d time.Duration) runOpt        { return func(o *runOpts) { o.budget = d } }
func asUpstream() runOpt                   { return func(o *runOpts) { o.upstream = true } }
func files(fs map[string]string) runOpt    { return func(o *runOpts) { o.files = fs } }
func (i *instance) url(path string) string { return "http://" + i.addr + path }

// run loads main.js (with $PORT replaced by a free port, and the other
// kv pairs replaced too) and starts serving it. Everything stops when the
// test ends.
func run(t testing.TB, src string, opts []runOpt, kv ...any) *instance {
	t.Helper()
	o := runOpts{threads: 2, files: map[string]string{}}
	for _, f := range opts {
		f(&o)
	}
	port := freePort(t)
	kv = append(kv, "$PORT", port)
	fsys := fstest.MapFS{"main.js": {Data: []byte(expand(src, kv...))}}
	for name, body := range o.files {
		fsys[strings.TrimPrefix(name, "/")] = &fstest.MapFile{Data: []byte(expand(body, kv...))}
	}
	prog, err := engine.Load(engine.Options{FS: fsys, Main: "/main.js", Threads: o.threads, CallbackBudget: o.budget})
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	srv := engine.NewServer()
	if err := srv.Start(prog); err != nil {
		prog.Stop()
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() {
		srv.StopListening()
		prog.Stop()
		if t.Failed() {
			return
		}
		// The clients are gone by now (their cleanups ran first): nothing
		// may be left counted as in flight or connected.
		waitFor(t, "requests in flight to drain", 3*time.Second, func() bool { return prog.Inflight.Load() == 0 })
		if !o.upstream {
			waitFor(t, "inbound connections to close", 3*time.Second, func() bool { return srv.Connections() == 0 })
		}
	})
	return &instance{srv: srv, prog: prog, addr: fmt.Sprintf("127.0.0.1:%d", port)}
}

// ---- raw client ----

type rawConn struct {
	t  testing.TB
	c  net.Conn
	br *bufio.Reader
}

func dial(t testing.TB, addr string) *rawConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, ioTimeout)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	c.SetDeadline(time.Now().Add(ioTimeout))
	t.Cleanup(func() { c.Close() })
	return &rawConn{t: t, c: c, br: bufio.NewReader(c)}
}

func (r *rawConn) write(s string) {
	r.t.Helper()
	if _, err := io.WriteString(r.c, s); err != nil {
		r.t.Fatalf("write: %v", err)
	}
}

// readN reads exactly n bytes.
func (r *rawConn) readN(n int) string {
	r.t.Helper()
	b := make([]byte, n)
	got, err := io.ReadFull(r.br, b)
	if err != nil {
		r.t.Fatalf("read %d bytes: got %d (%q): %v", n, got, b[:got], err)
	}
	return string(b)
}

// expect reads len(want) bytes and compares them with want.
func (r *rawConn) expect(want string) {
	r.t.Helper()
	if got := r.readN(len(want)); got != want {
		r.t.Fatalf("wire mismatch\n got: %q\nwant: %q", got, want)
	}
}

type response struct {
	*http.Response
	body string
}

// response reads one response (to a request with the given method).
func (r *rawConn) response(method string) response {
	r.t.Helper()
	resp, err := http.ReadResponse(r.br, &http.Request{Method: method})
	if err != nil {
		r.t.Fatalf("read response: %v", err)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		r.t.Fatalf("read response body: %v (got %d bytes)", err, len(b))
	}
	resp.Body.Close()
	return response{resp, string(b)}
}

// expectClosed reads until the peer closes; it fails on unexpected bytes.
func (r *rawConn) expectClosed() {
	r.t.Helper()
	b, err := io.ReadAll(r.br)
	if err != nil && !isReset(err) {
		r.t.Fatalf("waiting for close: %v (read %q)", err, b)
	}
	if len(b) > 0 {
		r.t.Fatalf("unexpected bytes before close: %q", b)
	}
}

func isReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// ---- upstreams ----

// upstream is a Go HTTP server that counts the connections it accepted and
// tells when they close.
type upstream struct {
	*httptest.Server
	addr     string
	accepted atomic.Int64
	closed   chan struct{} // receives once per closed connection
}

func newUpstream(t testing.TB, h http.Handler) *upstream {
	t.Helper()
	u := &upstream{closed: make(chan struct{}, 1024)}
	u.Server = httptest.NewUnstartedServer(h)
	u.Config.ConnState = func(c net.Conn, s http.ConnState) {
		switch s {
		case http.StateNew:
			u.accepted.Add(1)
		case http.StateClosed, http.StateHijacked:
			u.closed <- struct{}{}
		}
	}
	u.Start()
	u.addr = u.Listener.Addr().String()
	t.Cleanup(u.Close)
	return u
}

// rawUpstream accepts connections and hands each to serve on its own
// goroutine. It stops (closing what it accepted) when the test ends.
func rawUpstream(t testing.TB, serve func(c net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			c.SetDeadline(time.Now().Add(ioTimeout))
			wg.Add(1)
			go func() { defer wg.Done(); serve(c) }()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

// readRequestHead reads one request head from br.
func readRequestHead(br *bufio.Reader) (*http.Request, error) {
	return http.ReadRequest(br)
}

// ---- net/http client ----

func newClient(t testing.TB) *http.Client {
	tr := &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: ioTimeout}
}

func get(t testing.TB, c *http.Client, url string) (int, string, http.Header) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: body: %v", url, err)
	}
	return resp.StatusCode, string(b), resp.Header
}

func post(t testing.TB, c *http.Client, url string, body io.Reader, size int64) (int, string) {
	t.Helper()
	req, err := http.NewRequest("POST", url, body)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = size
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("POST %s: body: %v", url, err)
	}
	return resp.StatusCode, string(b)
}

// bigBody is n bytes of a recognisable, non-repeating-ish pattern.
func bigBody(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + (i*7+i/251)%26)
	}
	return b
}

// chunkedReader hides the length of r from net/http so the request body
// goes out chunked.
type chunkedReader struct{ r io.Reader }

func (c chunkedReader) Read(p []byte) (int, error) { return c.r.Read(p) }

func mustEqual(t testing.TB, what string, got, want any) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("%s: got %v, want %v", what, got, want)
	}
}

func mustEqualBytes(t testing.TB, what string, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		i := 0
		for i < len(got) && i < len(want) && got[i] == want[i] {
			i++
		}
		t.Fatalf("%s: %d bytes, want %d; first difference at byte %d", what, len(got), len(want), i)
	}
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
