package filters_test

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"
)

// muxScript forwards everything to one upstream through muxHTTP keyed by
// the target.
const muxScript = `
pipy({
  _target: '$UP',
})
.listen('127.0.0.1:$PORT')
  .demuxHTTP('request')
.pipeline('request')
  .muxHTTP('connection', () => _target, $MUXOPTS)
.pipeline('connection')
  .connect(() => _target)
`

func TestMuxHTTPSharesOneUpstreamConnection(t *testing.T) {
	up := newUpstream(t, goApp())
	in := run(t, muxScript, []runOpt{threads(1)}, "$UP", up.addr, "$MUXOPTS", "{}")
	// Several client connections at once, each with several requests.
	const clients, requests = 5, 10
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl := &http.Client{Transport: &http.Transport{}, Timeout: ioTimeout}
			defer cl.Transport.(*http.Transport).CloseIdleConnections()
			for j := range requests {
				path := fmt.Sprintf("/up/%d/%d", i, j)
				resp, err := cl.Get(in.url(path))
				if err != nil {
					errs <- err
					return
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if string(b) != "GET "+path {
					errs <- fmt.Errorf("%s: %q", path, b)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	mustEqual(t, "upstream connections", up.accepted.Load(), 1)
}

func TestMuxHTTPPerWorkerSessions(t *testing.T) {
	// With two workers, each keeps its own session: never more upstream
	// connections than workers.
	up := newUpstream(t, goApp())
	in := run(t, muxScript, []runOpt{threads(2)}, "$UP", up.addr, "$MUXOPTS", "{}")
	var conns []*rawConn
	for range 6 {
		conns = append(conns, dial(t, in.addr))
	}
	for round := range 3 {
		for i, c := range conns {
			c.write(fmt.Sprintf("GET /up/%d/%d HTTP/1.1\r\nHost: x\r\n\r\n", i, round))
		}
		for i, c := range conns {
			mustEqual(t, "body", c.response("GET").body, fmt.Sprintf("GET /up/%d/%d", i, round))
		}
	}
	if n := up.accepted.Load(); n < 1 || n > 2 {
		t.Fatalf("upstream connections: %d, want 1 or 2", n)
	}
}

func TestMuxHTTPMaxIdle(t *testing.T) {
	up := newUpstream(t, goApp())
	in := run(t, muxScript, []runOpt{threads(1)}, "$UP", up.addr, "$MUXOPTS", "{ maxIdle: 1 }")
	c := dial(t, in.addr)
	c.write("GET /up/x HTTP/1.1\r\nHost: x\r\n\r\n")
	mustEqual(t, "body", c.response("GET").body, "GET /up/x")
	start := time.Now()
	select {
	case <-up.closed:
	case <-time.After(5 * time.Second):
		t.Fatal("the idle upstream connection was not closed")
	}
	if d := time.Since(start); d < 500*time.Millisecond {
		t.Fatalf("the upstream connection closed after %v, before maxIdle", d)
	}
	// The client connection was not affected, and a new session opens.
	c.write("GET /up/y HTTP/1.1\r\nHost: x\r\n\r\n")
	mustEqual(t, "body", c.response("GET").body, "GET /up/y")
	mustEqual(t, "upstream connections", up.accepted.Load(), 2)
}

func TestMuxHTTPIdleSessionKeptWhileUsed(t *testing.T) {
	// A session with requests in flight is never idle, however long they take.
	up := newUpstream(t, goApp())
	in := run(t, muxScript, []runOpt{threads(1)}, "$UP", up.addr, "$MUXOPTS", "{ maxIdle: 0.2 }")
	c := dial(t, in.addr)
	c.write("GET /up/slow?delay=600 HTTP/1.1\r\nHost: x\r\n\r\n")
	mustEqual(t, "body", c.response("GET").body, "GET /up/slow?delay=600")
	mustEqual(t, "upstream connections", up.accepted.Load(), 1)
}

func TestMuxHTTPClientConnectionCloseIsHopByHop(t *testing.T) {
	// A client's "connection: close" ends the client's connection, not the
	// upstream session the other clients share.
	closeSeen := make(chan bool, 10)
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		closeSeen <- r.Close
		fmt.Fprintf(w, "%s", r.URL.Path)
	})
	up := newUpstream(t, mux)
	in := run(t, muxScript, []runOpt{threads(1)}, "$UP", up.addr, "$MUXOPTS", "{}")
	a := dial(t, in.addr)
	a.write("GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	r := a.response("GET")
	mustEqual(t, "body", r.body, "/a")
	mustEqual(t, "client connection: close", r.Close, true)
	a.expectClosed()
	mustEqual(t, "upstream saw connection: close", <-closeSeen, false)

	b := dial(t, in.addr)
	b.write("GET /b HTTP/1.1\r\nHost: x\r\n\r\n")
	mustEqual(t, "body", b.response("GET").body, "/b")
	mustEqual(t, "upstream connections", up.accepted.Load(), 1)
}

func TestMuxHTTPUpstreamClosesConnection(t *testing.T) {
	// An upstream that ends each connection after one response: every
	// request still gets its answer, over fresh sessions.
	var n int
	var mu sync.Mutex
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		mu.Unlock()
		w.Header().Set("Connection", "close")
		fmt.Fprintf(w, "%s", r.URL.Path)
	})
	up := newUpstream(t, mux)
	in := run(t, muxScript, []runOpt{threads(1)}, "$UP", up.addr, "$MUXOPTS", "{}")
	c := dial(t, in.addr)
	for i := range 3 {
		c.write("GET /" + strconv.Itoa(i) + " HTTP/1.1\r\nHost: x\r\n\r\n")
		r := c.response("GET")
		mustEqual(t, "body", r.body, "/"+strconv.Itoa(i))
		mustEqual(t, "client keeps its connection", r.Close, false)
	}
}

func TestMuxHTTPKeyedByInbound(t *testing.T) {
	// Keyed by __inbound, each client connection gets its own upstream
	// connection, kept for all its requests.
	up := newUpstream(t, goApp())
	in := run(t, `
pipy()
.listen('127.0.0.1:$PORT')
  .demuxHTTP('request')
.pipeline('request')
  .muxHTTP('connection', () => __inbound)
.pipeline('connection')
  .connect('$UP')
`, []runOpt{threads(1)}, "$UP", up.addr)
	a, b := dial(t, in.addr), dial(t, in.addr)
	for i := range 3 {
		for _, c := range []*rawConn{a, b} {
			c.write(fmt.Sprintf("GET /up/%d HTTP/1.1\r\nHost: x\r\n\r\n", i))
			mustEqual(t, "body", c.response("GET").body, fmt.Sprintf("GET /up/%d", i))
		}
	}
	mustEqual(t, "upstream connections", up.accepted.Load(), 2)
}

func TestMuxHTTPKeyThrows(t *testing.T) {
	up := newUpstream(t, goApp())
	in := run(t, `
pipy()
.listen('127.0.0.1:$PORT')
  .demuxHTTP('request')
.pipeline('request')
  .muxHTTP('connection', () => { throw new Error('no key') })
.pipeline('connection')
  .connect('$UP')
`, nil, "$UP", up.addr)
	c := dial(t, in.addr)
	for range 2 {
		c.write("GET /up/x HTTP/1.1\r\nHost: x\r\n\r\n")
		mustEqual(t, "status", c.response("GET").StatusCode, 500)
	}
}
