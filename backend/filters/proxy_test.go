package filters_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// proxyScript is tutorial 04's shape: route by URL, forward through a
// muxHTTP session per target, or answer 404.
const proxyScript = `
pipy({
  _router: new algo.URLRouter({
    '/up/*': '$UP',
    '/echo': '$UP',
    '/other/*': '$OTHER',
    '/down/*': '$DOWN',
    '/sluice/*': '$SLUICE',
    '/broken/*': '$BROKEN',
  }),
  _target: '',
})
.listen('127.0.0.1:$PORT')
  .demuxHTTP('request')
.pipeline('request')
  .handleMessageStart(
    msg => (
      _target = _router.find(
        msg.head.headers.host,
        msg.head.path,
      )
    )
  )
  .link(
    'forward', () => Boolean(_target),
    '404'
  )
.pipeline('forward')
  .muxHTTP(
    'connection',
    () => _target
  )
.pipeline('connection')
  .connect(
    () => _target
  )
.pipeline('404')
  .replaceMessage(
    new Message({ status: 404 }, 'No route')
  )
`

// goApp is the Go upstream behind the proxy.
func goApp() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		w.Header().Set("X-Request-Length", strconv.Itoa(len(b)))
		w.Header().Set("X-Request-Chunked", strconv.FormatBool(len(r.TransferEncoding) > 0))
		if r.URL.Query().Get("chunked") != "" {
			// No content-length: net/http streams it chunked.
			for len(b) > 0 {
				n := min(len(b), 10000)
				w.Write(b[:n])
				w.(http.Flusher).Flush()
				b = b[n:]
			}
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.Write(b)
	})
	mux.HandleFunc("/up/", func(w http.ResponseWriter, r *http.Request) {
		if ms, _ := strconv.Atoi(r.URL.Query().Get("delay")); ms > 0 {
			time.Sleep(time.Duration(ms) * time.Millisecond)
		}
		if n, _ := strconv.Atoi(r.URL.Query().Get("size")); n > 0 {
			w.Header().Set("Content-Length", strconv.Itoa(n))
			w.Write(bigBody(n))
			return
		}
		w.Header().Set("X-Upstream", "go")
		w.Header().Add("Set-Cookie", "a=1")
		w.Header().Add("Set-Cookie", "b=2")
		w.Header().Set("X-Seen-Header", r.Header.Get("X-Client"))
		w.WriteHeader(207)
		fmt.Fprintf(w, "%s %s", r.Method, r.URL.RequestURI())
	})
	mux.HandleFunc("/other/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "other %s", r.URL.Path)
	})
	return mux
}

type proxyEnv struct {
	proxy *instance
	up    *upstream
	other *upstream
	down  string
}

func startProxy(t *testing.T, opts ...runOpt) *proxyEnv {
	t.Helper()
	env := &proxyEnv{up: newUpstream(t, goApp()), other: newUpstream(t, goApp())}
	env.down = fmt.Sprintf("127.0.0.1:%d", freePort(t))
	sl := run(t, appScript, []runOpt{asUpstream()})
	broken := rawUpstream(t, func(c net.Conn) {
		defer c.Close()
		br := bufio.NewReader(c)
		req, err := readRequestHead(br)
		if err != nil {
			return
		}
		if strings.Contains(req.URL.Path, "big") {
			// Enough for the proxy to start streaming, then gone.
			io.WriteString(c, "HTTP/1.1 200 OK\r\ncontent-length: 100000\r\n\r\n")
			c.Write(bigBody(50000))
			return
		}
		io.WriteString(c, "HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly ten b")
	})
	env.proxy = run(t, proxyScript, opts,
		"$UP", env.up.addr, "$OTHER", env.other.addr, "$DOWN", env.down, "$SLUICE", sl.addr, "$BROKEN", broken)
	return env
}

func TestProxyResponses(t *testing.T) {
	env := startProxy(t)
	cl := newClient(t)
	t.Run("Go upstream", func(t *testing.T) {
		req, _ := http.NewRequest("GET", env.proxy.url("/up/a?q=1"), nil)
		req.Header.Set("X-Client", "hello upstream")
		resp, err := cl.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		mustEqual(t, "status", resp.StatusCode, 207)
		mustEqual(t, "body", string(b), "GET /up/a?q=1")
		mustEqual(t, "x-upstream", resp.Header.Get("X-Upstream"), "go")
		mustEqual(t, "request header seen upstream", resp.Header.Get("X-Seen-Header"), "hello upstream")
		mustEqual(t, "set-cookie", resp.Header.Values("Set-Cookie"), []string{"a=1", "b=2"})
	})
	t.Run("sluice upstream", func(t *testing.T) {
		c := dial(t, env.proxy.addr)
		c.write("GET /sluice/x HTTP/1.1\r\nHost: x\r\n\r\n")
		c.expect(helloWire)
	})
	t.Run("404 route", func(t *testing.T) {
		c := dial(t, env.proxy.addr)
		c.write("GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n")
		c.expect("HTTP/1.1 404 Not Found\r\ncontent-length: 8\r\nconnection: keep-alive\r\n\r\nNo route")
		c.write("GET /up/after-404 HTTP/1.1\r\nHost: x\r\n\r\n")
		mustEqual(t, "after 404", c.response("GET").body, "GET /up/after-404")
	})
	t.Run("HEAD", func(t *testing.T) {
		c := dial(t, env.proxy.addr)
		c.write("HEAD /up/h?size=1000 HTTP/1.1\r\nHost: x\r\n\r\nGET /up/next HTTP/1.1\r\nHost: x\r\n\r\n")
		r := c.response("HEAD")
		mustEqual(t, "status", r.StatusCode, 200)
		mustEqual(t, "content-length", r.ContentLength, 1000)
		mustEqual(t, "next", c.response("GET").body, "GET /up/next")
	})
}

func TestProxyPipelinedOrder(t *testing.T) {
	env := startProxy(t)
	c := dial(t, env.proxy.addr)
	// The first answer is the slowest, and comes from another upstream
	// than the next ones.
	c.write("GET /up/first?delay=300 HTTP/1.1\r\nHost: x\r\n\r\n" +
		"GET /other/second HTTP/1.1\r\nHost: x\r\n\r\n" +
		"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nthird" +
		"GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n" +
		"GET /up/fifth?delay=50 HTTP/1.1\r\nHost: x\r\n\r\n")
	for _, want := range []string{"GET /up/first?delay=300", "other /other/second", "third", "No route", "GET /up/fifth?delay=50"} {
		mustEqual(t, "response", c.response("GET").body, want)
	}
}

func TestProxyBodies(t *testing.T) {
	env := startProxy(t)
	cl := newClient(t)
	for _, tc := range []struct {
		name        string
		size        int
		chunkedReq  bool
		chunkedResp bool
	}{
		{"small content-length", 11, false, false},
		{"small chunked request", 11, true, false},
		{"small chunked response", 11, false, true},
		{"empty", 0, false, false},
		{"1MiB content-length", 1 << 20, false, false},
		{"1MiB chunked both ways", 1 << 20, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := bigBody(tc.size)
			var r io.Reader = bytes.NewReader(body)
			size := int64(len(body))
			if tc.chunkedReq {
				r, size = chunkedReader{r}, -1
			}
			url := env.proxy.url("/echo")
			if tc.chunkedResp {
				url += "?chunked=1"
			}
			req, _ := http.NewRequest("POST", url, r)
			req.ContentLength = size
			resp, err := cl.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			mustEqual(t, "status", resp.StatusCode, 200)
			mustEqual(t, "length seen upstream", resp.Header.Get("X-Request-Length"), tc.size)
			mustEqualBytes(t, "body", got, body)
		})
	}
	t.Run("1MiB download", func(t *testing.T) {
		code, body, _ := get(t, cl, env.proxy.url("/up/big?size=1048576"))
		mustEqual(t, "status", code, 200)
		mustEqualBytes(t, "body", []byte(body), bigBody(1<<20))
	})
	t.Run("1MiB from a sluice upstream", func(t *testing.T) {
		code, body, _ := get(t, cl, env.proxy.url("/sluice/big"))
		mustEqual(t, "status", code, 200)
		mustEqualBytes(t, "body", []byte(body), bytes.Repeat([]byte("abcdefghijklmnop"), 65536))
	})
}

func TestProxyConcurrentClients(t *testing.T) {
	env := startProxy(t)
	const clients, requests = 20, 50
	tr := &http.Transport{MaxIdleConnsPerHost: clients}
	defer tr.CloseIdleConnections()
	cl := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range requests {
				path := fmt.Sprintf("/up/c%d/r%d", i, j)
				if j%5 == 4 {
					path = fmt.Sprintf("/other/c%d/r%d", i, j)
				}
				resp, err := cl.Get(env.proxy.url(path))
				if err != nil {
					errs <- err
					return
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				want := "GET " + path
				if j%5 == 4 {
					want = "other " + path
				}
				if err != nil || string(b) != want {
					errs <- fmt.Errorf("%s: got %q (%v), want %q", path, b, err, want)
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
}

func TestProxyUpstreamDown(t *testing.T) {
	env := startProxy(t)
	c := dial(t, env.proxy.addr)
	for range 2 {
		c.write("GET /down/x HTTP/1.1\r\nHost: x\r\n\r\n")
		c.expect("HTTP/1.1 502 Connection Refused\r\ncontent-length: 0\r\nconnection: keep-alive\r\n\r\n")
	}
	// The client connection is still usable.
	c.write("GET /up/after HTTP/1.1\r\nHost: x\r\n\r\n")
	r := c.response("GET")
	mustEqual(t, "status", r.StatusCode, 207)
	mustEqual(t, "body", r.body, "GET /up/after")
	// Pipelined around a refused one.
	c.write("GET /up/1 HTTP/1.1\r\nHost: x\r\n\r\nGET /down/2 HTTP/1.1\r\nHost: x\r\n\r\nGET /up/3 HTTP/1.1\r\nHost: x\r\n\r\n")
	mustEqual(t, "1", c.response("GET").body, "GET /up/1")
	mustEqual(t, "2", c.response("GET").StatusCode, 502)
	mustEqual(t, "3", c.response("GET").body, "GET /up/3")
}

func TestProxyUpstreamTimeout(t *testing.T) {
	silent := rawUpstream(t, func(c net.Conn) {
		io.Copy(io.Discard, c) // reads, never answers
	})
	in := run(t, `
pipy()
.listen('127.0.0.1:$PORT')
  .demuxHTTP('request')
.pipeline('request')
  .muxHTTP('connection', () => 'silent')
.pipeline('connection')
  .connect('$SILENT', { readTimeout: 1 })
`, nil, "$SILENT", silent)
	c := dial(t, in.addr)
	c.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	r := c.response("GET")
	mustEqual(t, "status", r.StatusCode, 504)
	mustEqual(t, "status line", r.Status, "504 Gateway Timeout")
}

func TestProxyUpstreamClosesMidResponse(t *testing.T) {
	env := startProxy(t)
	for _, path := range []string{"/broken/small", "/broken/big"} {
		t.Run(path, func(t *testing.T) {
			c := dial(t, env.proxy.addr)
			c.write("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n")
			resp, err := http.ReadResponse(c.br, &http.Request{Method: "GET"})
			if err != nil {
				return // the connection closed: the client sees the failure
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err == nil && resp.StatusCode == 200 {
				t.Fatalf("a truncated upstream response reached the client as a complete one: %d, %d bytes", resp.StatusCode, len(b))
			}
			if err == nil && resp.StatusCode < 500 {
				t.Fatalf("status %d, body %q", resp.StatusCode, b)
			}
			c.expectClosed()
		})
	}
	// Others are not affected.
	c := dial(t, env.proxy.addr)
	c.write("GET /up/fine HTTP/1.1\r\nHost: x\r\n\r\n")
	mustEqual(t, "body", c.response("GET").body, "GET /up/fine")
}

func TestProxyBadRequestBody(t *testing.T) {
	env := startProxy(t)
	c := dial(t, env.proxy.addr)
	c.write("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n")
	r := c.response("POST")
	mustEqual(t, "status", r.StatusCode, 400)
	mustEqual(t, "connection: close", r.Close, true)
	c.expectClosed()
}

func TestLinkPassThrough(t *testing.T) {
	up := newUpstream(t, goApp())
	in := run(t, `
pipy({
  _target: '',
})
.listen('127.0.0.1:$PORT')
  .demuxHTTP('request')
.pipeline('request')
  .handleMessageStart(msg => _target = msg.head.path.startsWith('/up/') ? '$UP' : '')
  .link('forward', () => Boolean(_target), '')
  .replaceMessage(msg => _target ? msg : new Message({ status: 404 }, 'No handler for ' + msg.head.path))
.pipeline('forward')
  .muxHTTP('connection', () => _target)
.pipeline('connection')
  .connect(() => _target)
`, nil, "$UP", up.addr)
	c := dial(t, in.addr)
	c.write("GET /nothing HTTP/1.1\r\nHost: x\r\n\r\nGET /up/x HTTP/1.1\r\nHost: x\r\n\r\n")
	c.expect("HTTP/1.1 404 Not Found\r\ncontent-length: 23\r\nconnection: keep-alive\r\n\r\nNo handler for /nothing")
	r := c.response("GET")
	mustEqual(t, "forwarded status", r.StatusCode, 207)
	mustEqual(t, "forwarded body", r.body, "GET /up/x")
	if !strings.Contains(r.Header.Get("X-Upstream"), "go") {
		t.Fatalf("upstream header lost: %v", r.Header)
	}
}

func TestProxyExpectContinuePipelined(t *testing.T) {
	// Behind a slow request, the 100 Continue waits for the responses
	// before it, then comes.
	env := startProxy(t)
	c := dial(t, env.proxy.addr)
	c.write("GET /up/slow?delay=200 HTTP/1.1\r\nHost: x\r\n\r\n" +
		"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
	mustEqual(t, "first", c.response("GET").body, "GET /up/slow?delay=200")
	c.expect("HTTP/1.1 100 Continue\r\n\r\n")
	c.write("hello")
	r := c.response("POST")
	mustEqual(t, "second", r.body, "hello")
}

func TestProxyHTTP10Client(t *testing.T) {
	env := startProxy(t)
	for _, tc := range []struct {
		name, path string
		size       int
	}{
		{"small", "/up/x?size=100", 100},
		{"1MiB", "/up/x?size=1048576", 1 << 20},
		{"1MiB chunked upstream", "/sluice/big", 1 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, env.proxy.addr)
			c.write("GET " + tc.path + " HTTP/1.0\r\n\r\n")
			head := readHead(t, c)
			if strings.Contains(strings.ToLower(head), "chunked") {
				t.Fatalf("chunked response to an HTTP/1.0 request: %q", head)
			}
			body, err := io.ReadAll(c.br)
			if err != nil {
				t.Fatal(err)
			}
			mustEqual(t, "body length", len(body), tc.size)
		})
	}
	t.Run("truncated upstream", func(t *testing.T) {
		c := dial(t, env.proxy.addr)
		c.write("GET /broken/x HTTP/1.0\r\n\r\n")
		resp, err := http.ReadResponse(c.br, &http.Request{Method: "GET"})
		if err != nil {
			return
		}
		b, err := io.ReadAll(resp.Body)
		if err == nil {
			t.Fatalf("a truncated response looked complete: %d %q", resp.StatusCode, b)
		}
	})
}

func TestProxyScriptEditsHeads(t *testing.T) {
	up := newUpstream(t, goApp())
	in := run(t, `
pipy()
.listen('127.0.0.1:$PORT')
  .demuxHTTP('request')
.pipeline('request')
  .handleMessageStart(
    msg => (
      msg.head.headers['x-client'] = 'via ' + msg.head.headers['x-client'],
      msg.head.path = msg.head.path.replace('/edit/', '/up/')
    )
  )
  .muxHTTP('connection', '$UP')
  .handleMessageStart(
    msg => (
      msg.head.headers['x-response'] = 'added',
      msg.head.headers['x-status'] = msg.head.status + ' ' + msg.head.statusText
    )
  )
.pipeline('connection')
  .connect('$UP')
`, nil, "$UP", up.addr)
	cl := newClient(t)
	for range 2 {
		req, _ := http.NewRequest("GET", in.url("/edit/a%20b?x=1&y=%2F"), nil)
		req.Header.Set("X-Client", "me")
		resp, err := cl.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		mustEqual(t, "status", resp.Status, "207 Multi-Status")
		mustEqual(t, "body", string(b), "GET /up/a%20b?x=1&y=%2F")
		mustEqual(t, "request header", resp.Header.Get("X-Seen-Header"), "via me")
		mustEqual(t, "added response header", resp.Header.Get("X-Response"), "added")
		mustEqual(t, "status seen by script", resp.Header.Get("X-Status"), "207 Multi-Status")
		mustEqual(t, "set-cookie", resp.Header.Values("Set-Cookie"), []string{"a=1", "b=2"})
		mustEqual(t, "content-length", resp.ContentLength, len(b))
	}
}

func TestProxyManyPipelined(t *testing.T) {
	env := startProxy(t)
	c := dial(t, env.proxy.addr)
	var sb strings.Builder
	var want []string
	for i := range 60 {
		switch i % 4 {
		case 0:
			fmt.Fprintf(&sb, "GET /up/%d HTTP/1.1\r\nHost: x\r\n\r\n", i)
			want = append(want, fmt.Sprintf("GET /up/%d", i))
		case 1:
			fmt.Fprintf(&sb, "GET /other/%d HTTP/1.1\r\nHost: x\r\n\r\n", i)
			want = append(want, fmt.Sprintf("other /other/%d", i))
		case 2:
			fmt.Fprintf(&sb, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n%03d\r\n0\r\n\r\n", i)
			want = append(want, fmt.Sprintf("%03d", i))
		case 3:
			fmt.Fprintf(&sb, "GET /sluice/path HTTP/1.1\r\nHost: x\r\n\r\n")
			want = append(want, "GET /path")
		}
	}
	c.write(sb.String())
	for i, w := range want {
		mustEqual(t, fmt.Sprintf("response %d", i), c.response("GET").body, w)
	}
}

func TestProxyNothingForwardedAfterConnectionClose(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Method+" "+r.URL.Path)
		mu.Unlock()
		fmt.Fprint(w, r.URL.Path)
	})
	up := newUpstream(t, mux)
	in := run(t, muxScript, []runOpt{threads(1)}, "$UP", up.addr, "$MUXOPTS", "{}")
	c := dial(t, in.addr)
	c.write("GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" +
		"POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi")
	mustEqual(t, "first", c.response("GET").body, "/a")
	c.expectClosed()
	// Over the same upstream session, so /b would have come before /c.
	c = dial(t, in.addr)
	c.write("GET /c HTTP/1.1\r\nHost: x\r\n\r\n")
	mustEqual(t, "next", c.response("GET").body, "/c")
	mu.Lock()
	defer mu.Unlock()
	mustEqual(t, "requests seen upstream", seen, []string{"GET /a", "GET /c"})
}

// Pipelined responses of different lengths, one after another on one
// connection: each demuxed exchange copies its response body into a buffer
// it keeps when it is reused, so a short body after a long one, a body
// that arrives in several reads, and one long enough to be streamed must
// each come back as itself.
func TestProxyReusedExchangesKeepBodiesApart(t *testing.T) {
	env := startProxy(t)
	c := dial(t, env.proxy.addr)
	sizes := []int{9000, 3, 15000, 1, 40000, 12000, 7, 0, 16384, 2}
	var want []string
	var sb strings.Builder
	for round := range 4 {
		for i, n := range sizes {
			body := bytes.Repeat([]byte{byte('A' + (round*len(sizes)+i)%26)}, n)
			if n > 1 {
				copy(body, fmt.Sprintf("%d", round*len(sizes)+i))
			}
			fmt.Fprintf(&sb, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", n, body)
			want = append(want, string(body))
		}
	}
	go c.c.Write([]byte(sb.String()))
	for i, w := range want {
		got := c.response("POST").body
		if got != w {
			t.Fatalf("response %d: %d bytes starting %.20q, want %d starting %.20q", i, len(got), got, len(w), w)
		}
	}
}
