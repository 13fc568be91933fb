package filters_test

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

const helloWire = "HTTP/1.1 200 OK\r\ncontent-length: 11\r\nconnection: keep-alive\r\n\r\nHi, there!\n"

// appScript answers by path; the default is the tutorial's greeting.
const appScript = `
pipy({
  _big: 'abcdefghijklmnop'.repeat(65536),
})
.listen('127.0.0.1:$PORT')
  .serveHTTP(
    msg => (
      msg.head.path = msg.head.path.replace(/^\/sluice/, ''),
      msg.head.path === '/echo' ? new Message(msg.body) :
      msg.head.path === '/path' ? new Message(msg.head.method + ' ' + msg.head.path) :
      msg.head.path === '/204' ? new Message({ status: 204 }, 'must not be sent') :
      msg.head.path === '/304' ? new Message({ status: 304 }, 'must not be sent') :
      msg.head.path === '/big' ? new Message(_big) :
      msg.head.path === '/header' ? new Message({ status: 201, headers: { 'x-answer': '42' } }, 'created') :
      msg.head.path === '/throw' ? (() => { throw new Error('boom') })() :
      msg.head.path === '/loop' ? (() => { while (true) {} })() :
      new Message('Hi, there!\n')
    )
  )
`

func TestServeHTTPExactBytes(t *testing.T) {
	for _, tc := range []struct{ name, handler string }{
		{"static Message", `new Message('Hi, there!\n')`},
		{"function", `msg => new Message('Hi, there!\n')`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := run(t, `pipy().listen('127.0.0.1:$PORT').serveHTTP($HANDLER)`, nil, "$HANDLER", tc.handler)
			c := dial(t, in.addr)
			c.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
			c.expect(helloWire)
			// Nothing else came with it: the next bytes are the next response.
			c.write("GET /again HTTP/1.1\r\nHost: x\r\n\r\n")
			c.expect(helloWire)
			c.write("POST /with-body HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbody")
			c.expect(helloWire)
			c.write("HEAD / HTTP/1.1\r\nHost: x\r\n\r\n")
			c.expect("HTTP/1.1 200 OK\r\ncontent-length: 11\r\nconnection: keep-alive\r\n\r\n")
			c.write("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
			c.expect("HTTP/1.1 200 OK\r\ncontent-length: 11\r\nconnection: close\r\n\r\nHi, there!\n")
			c.expectClosed()

			c = dial(t, in.addr)
			c.write("GET / HTTP/1.0\r\n\r\n")
			c.expect("HTTP/1.1 200 OK\r\ncontent-length: 11\r\nconnection: close\r\n\r\nHi, there!\n")
			c.expectClosed()
		})
	}
}

func TestServeHTTPNetHTTPClient(t *testing.T) {
	in := run(t, appScript, nil)
	cl := newClient(t)
	code, body, hdr := get(t, cl, in.url("/"))
	mustEqual(t, "status", code, 200)
	mustEqual(t, "body", body, "Hi, there!\n")
	mustEqual(t, "content-length", hdr.Get("Content-Length"), "11")
	code, body, hdr = get(t, cl, in.url("/header"))
	mustEqual(t, "status", code, 201)
	mustEqual(t, "body", body, "created")
	mustEqual(t, "x-answer", hdr.Get("X-Answer"), "42")
}

func TestServeHTTPEchoBody(t *testing.T) {
	in := run(t, appScript, nil)
	cl := newClient(t)
	for _, tc := range []struct {
		name    string
		body    []byte
		chunked bool
	}{
		{"content-length", []byte("hello"), false},
		{"chunked", []byte("hello, chunked world"), true},
		{"empty", nil, false},
		{"64KiB content-length", bigBody(64 << 10), false},
		{"1MiB chunked", bigBody(1 << 20), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r io.Reader = bytes.NewReader(tc.body)
			size := int64(len(tc.body))
			if tc.chunked {
				r, size = chunkedReader{r}, -1
			}
			code, body := post(t, cl, in.url("/echo"), r, size)
			mustEqual(t, "status", code, 200)
			mustEqualBytes(t, "echoed body", []byte(body), tc.body)
		})
	}
	t.Run("raw chunked", func(t *testing.T) {
		c := dial(t, in.addr)
		c.write("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n")
		c.expect("HTTP/1.1 200 OK\r\ncontent-length: 11\r\nconnection: keep-alive\r\n\r\nhello world")
	})
}

func TestServeHTTPKeepAliveAndPipelining(t *testing.T) {
	in := run(t, appScript, nil)
	t.Run("keep-alive", func(t *testing.T) {
		c := dial(t, in.addr)
		for i := range 5 {
			c.write(fmt.Sprintf("GET /path HTTP/1.1\r\nHost: x\r\nX-N: %d\r\n\r\n", i))
			r := c.response("GET")
			mustEqual(t, "body", r.body, "GET /path")
			mustEqual(t, "connection", r.Header.Get("Connection"), "keep-alive")
		}
	})
	t.Run("pipelining", func(t *testing.T) {
		c := dial(t, in.addr)
		c.write("GET /path HTTP/1.1\r\nHost: x\r\n\r\n" +
			"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\nsecond" +
			"PUT /path HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc")
		for _, want := range []string{"GET /path", "second", "PUT /path"} {
			r := c.response("GET")
			mustEqual(t, "status", r.StatusCode, 200)
			mustEqual(t, "body", r.body, want)
		}
	})
	t.Run("pipelined bytes one at a time", func(t *testing.T) {
		c := dial(t, in.addr)
		req := "GET /path HTTP/1.1\r\nHost: x\r\n\r\nPOST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
		for i := range len(req) {
			c.write(req[i : i+1])
		}
		mustEqual(t, "first", c.response("GET").body, "GET /path")
		mustEqual(t, "second", c.response("POST").body, "abc")
	})
}

func TestServeHTTPConnectionClose(t *testing.T) {
	in := run(t, appScript, nil)
	for _, tc := range []struct{ name, req string }{
		{"connection: close", "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"},
		{"HTTP/1.0", "GET / HTTP/1.0\r\n\r\n"},
		{"HTTP/1.0 pipelined behind keep-alive", "GET /path HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.0\r\n\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, in.addr)
			c.write(tc.req)
			if strings.Count(tc.req, "GET") == 2 {
				r := c.response("GET")
				mustEqual(t, "first connection header", r.Header.Get("Connection"), "keep-alive")
			}
			r := c.response("GET")
			mustEqual(t, "status", r.StatusCode, 200)
			mustEqual(t, "body", r.body, "Hi, there!\n")
			mustEqual(t, "connection: close", r.Close, true)
			c.expectClosed()
		})
	}
	t.Run("HTTP/1.0 keep-alive", func(t *testing.T) {
		c := dial(t, in.addr)
		for range 2 {
			c.write("GET /path HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
			r := c.response("GET")
			mustEqual(t, "body", r.body, "GET /path")
			mustEqual(t, "connection", r.Header.Get("Connection"), "keep-alive")
		}
	})
	t.Run("requests after connection: close are ignored", func(t *testing.T) {
		c := dial(t, in.addr)
		c.write("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET /path HTTP/1.1\r\nHost: x\r\n\r\n")
		r := c.response("GET")
		mustEqual(t, "body", r.body, "Hi, there!\n")
		c.expectClosed()
	})
}

func TestServeHTTPNoBodyResponses(t *testing.T) {
	in := run(t, appScript, nil)
	t.Run("HEAD", func(t *testing.T) {
		c := dial(t, in.addr)
		c.write("HEAD / HTTP/1.1\r\nHost: x\r\n\r\n")
		c.expect("HTTP/1.1 200 OK\r\ncontent-length: 11\r\nconnection: keep-alive\r\n\r\n")
		c.write("HEAD /big HTTP/1.1\r\nHost: x\r\n\r\n")
		r := c.response("HEAD")
		mustEqual(t, "status", r.StatusCode, 200)
		mustEqual(t, "content-length", r.ContentLength, 1<<20)
		mustEqual(t, "body", r.body, "")
		// If a body had been sent, it would be read as the next response.
		c.write("GET /path HTTP/1.1\r\nHost: x\r\n\r\n")
		mustEqual(t, "next", c.response("GET").body, "GET /path")
	})
	for _, code := range []int{204, 304} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			c := dial(t, in.addr)
			c.write(fmt.Sprintf("GET /%d HTTP/1.1\r\nHost: x\r\n\r\n", code))
			head := readHead(t, c)
			if !strings.HasPrefix(head, fmt.Sprintf("HTTP/1.1 %d ", code)) {
				t.Fatalf("status line: %q", head)
			}
			if strings.Contains(strings.ToLower(head), "transfer-encoding") {
				t.Fatalf("%d response with framing: %q", code, head)
			}
			if code == 204 && strings.Contains(strings.ToLower(head), "content-length") {
				t.Fatalf("204 response with content-length: %q", head)
			}
			c.write("GET /path HTTP/1.1\r\nHost: x\r\n\r\n")
			mustEqual(t, "next", c.response("GET").body, "GET /path")
		})
	}
}

// readHead reads a response head up to and including the blank line.
func readHead(t *testing.T, c *rawConn) string {
	t.Helper()
	var sb strings.Builder
	for {
		line, err := c.br.ReadString('\n')
		if err != nil {
			t.Fatalf("reading head: %v (got %q)", err, sb.String()+line)
		}
		sb.WriteString(line)
		if line == "\r\n" {
			return sb.String()
		}
	}
}

func TestServeHTTPExpectContinue(t *testing.T) {
	in := run(t, appScript, nil)
	c := dial(t, in.addr)
	c.write("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
	c.expect("HTTP/1.1 100 Continue\r\n\r\n")
	c.write("hello")
	c.expect("HTTP/1.1 200 OK\r\ncontent-length: 5\r\nconnection: keep-alive\r\n\r\nhello")

	// net/http's client waits for the 100 before it sends the body.
	cl := newClient(t)
	cl.Transport.(*http.Transport).ExpectContinueTimeout = 5 * time.Second
	req, _ := http.NewRequest("POST", in.url("/echo"), strings.NewReader("continued"))
	req.Header.Set("Expect", "100-continue")
	resp, err := cl.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	mustEqual(t, "body", string(b), "continued")
}

func TestServeHTTPBigResponse(t *testing.T) {
	in := run(t, appScript, nil)
	want := bytes.Repeat([]byte("abcdefghijklmnop"), 65536)
	cl := newClient(t)
	for range 2 {
		code, body, _ := get(t, cl, in.url("/big"))
		mustEqual(t, "status", code, 200)
		mustEqualBytes(t, "body", []byte(body), want)
	}
	// Pipelined behind a small one, on the raw wire.
	c := dial(t, in.addr)
	c.write("GET /big HTTP/1.1\r\nHost: x\r\n\r\nGET /path HTTP/1.1\r\nHost: x\r\n\r\n")
	mustEqualBytes(t, "first", []byte(c.response("GET").body), want)
	mustEqual(t, "second", c.response("GET").body, "GET /path")
}

func TestServeHTTPBadRequests(t *testing.T) {
	in := run(t, appScript, nil)
	for _, tc := range []struct {
		name   string
		req    string
		status int
	}{
		{"garbage request line", "GARBAGE\r\n\r\n", 400},
		{"bad version", "GET / HTTP/9.x\r\nHost: x\r\n\r\n", 400},
		{"content-length and transfer-encoding", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
		{"two content-lengths", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", 400},
		{"bad chunk size", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", 400},
		{"obs-fold", "GET / HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n b\r\n\r\n", 400},
		{"header too large", "GET / HTTP/1.1\r\nHost: x\r\n" + strings.Repeat("X-Filler: "+strings.Repeat("y", 1000)+"\r\n", 70) + "\r\n", 431},
		{"bad after a good one", "GET /path HTTP/1.1\r\nHost: x\r\n\r\nGARBAGE\r\n\r\n", 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, in.addr)
			c.write(tc.req)
			if strings.HasPrefix(tc.req, "GET /path") {
				mustEqual(t, "good one", c.response("GET").body, "GET /path")
			}
			r := c.response("GET")
			if r.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", r.StatusCode, tc.status)
			}
			mustEqual(t, "connection: close", r.Close, true)
			c.expectClosed()

			// The server is fine for everyone else.
			c2 := dial(t, in.addr)
			c2.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
			c2.expect(helloWire)
		})
	}
}

func TestServeHTTPHandlerThrows(t *testing.T) {
	in := run(t, appScript, nil)
	c := dial(t, in.addr)
	c.write("GET /throw HTTP/1.1\r\nHost: x\r\n\r\n")
	r := c.response("GET")
	mustEqual(t, "status", r.StatusCode, 500)
	// The connection and the server go on.
	c.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	c.expect(helloWire)
	// Pipelined: only the failing request fails.
	c.write("GET /path HTTP/1.1\r\nHost: x\r\n\r\nGET /throw HTTP/1.1\r\nHost: x\r\n\r\nGET /path HTTP/1.1\r\nHost: x\r\n\r\n")
	mustEqual(t, "before", c.response("GET").StatusCode, 200)
	mustEqual(t, "failing", c.response("GET").StatusCode, 500)
	mustEqual(t, "after", c.response("GET").body, "GET /path")
	c2 := dial(t, in.addr)
	c2.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	c2.expect(helloWire)
}

func TestServeHTTPEndlessLoopInterrupted(t *testing.T) {
	in := run(t, appScript, []runOpt{budget(300 * time.Millisecond)})
	looping := dial(t, in.addr)
	looping.write("GET /loop HTTP/1.1\r\nHost: x\r\n\r\n")

	// Other clients are served while (and after) the loop runs.
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tr := &http.Transport{}
			defer tr.CloseIdleConnections()
			cl := &http.Client{Transport: tr, Timeout: ioTimeout}
			resp, err := cl.Get(in.url("/path"))
			if err != nil {
				errs <- err
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(b) != "GET /path" {
				errs <- fmt.Errorf("body %q", b)
			}
		}()
	}
	r := looping.response("GET")
	mustEqual(t, "looping request status", r.StatusCode, 500)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// The worker that ran the loop serves again, on the same connection too.
	looping.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	looping.expect(helloWire)
	for range 3 {
		c := dial(t, in.addr)
		c.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		c.expect(helloWire)
	}
}

func TestServeHTTPExpectContinuePipelined(t *testing.T) {
	// A request waiting for 100 Continue behind another one gets it once
	// the responses before it are out.
	in := run(t, appScript, nil)
	c := dial(t, in.addr)
	c.write("GET /path HTTP/1.1\r\nHost: x\r\n\r\n" +
		"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
	mustEqual(t, "first", c.response("GET").body, "GET /path")
	c.expect("HTTP/1.1 100 Continue\r\n\r\n")
	c.write("hello")
	mustEqual(t, "second", c.response("POST").body, "hello")
}

func TestServeHTTPExpectContinueBodySentAnyway(t *testing.T) {
	// A client that sends the body without waiting gets at most one 100,
	// and never a stray one after the final response.
	in := run(t, appScript, nil)
	c := dial(t, in.addr)
	c.write("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\nhello" +
		"GET /path HTTP/1.1\r\nHost: x\r\n\r\n")
	r := c.response("POST")
	if r.StatusCode == 100 { // allowed, though the body is already there
		r = c.response("POST")
	}
	mustEqual(t, "first", r.body, "hello")
	mustEqual(t, "second", c.response("GET").body, "GET /path")
}

func TestServeHTTPClientHalfClose(t *testing.T) {
	// A client that shuts down its sending side after the requests still
	// gets every response, then the server closes.
	in := run(t, appScript, nil)
	c := dial(t, in.addr)
	c.write("GET /path HTTP/1.1\r\nHost: x\r\n\r\nGET /big HTTP/1.1\r\nHost: x\r\n\r\n")
	c.c.(*net.TCPConn).CloseWrite()
	mustEqual(t, "first", c.response("GET").body, "GET /path")
	mustEqual(t, "second length", len(c.response("GET").body), 1<<20)
	c.expectClosed()
}

func TestServeHTTPBigResponseToHTTP10(t *testing.T) {
	// HTTP/1.0 has no chunked coding: a streamed response goes out
	// unframed and the connection closes after it.
	in := run(t, appScript, nil)
	for _, req := range []string{
		"GET /big HTTP/1.0\r\n\r\n",
		"GET /big HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
	} {
		c := dial(t, in.addr)
		c.write(req)
		head := readHead(t, c)
		if strings.Contains(strings.ToLower(head), "chunked") {
			t.Fatalf("chunked response to an HTTP/1.0 request: %q", head)
		}
		body, err := io.ReadAll(c.br)
		if err != nil {
			t.Fatal(err)
		}
		mustEqualBytes(t, "body", body, bytes.Repeat([]byte("abcdefghijklmnop"), 65536))
	}
}

func TestDemuxHTTPStreamedResponseToHEAD(t *testing.T) {
	// A response body that comes in several pieces is streamed; for HEAD
	// (and 204/304) none of it goes out, and the head goes out once.
	in := run(t, `
pipy({
  _part: 'x'.repeat(20000),
})
.listen('127.0.0.1:$PORT')
  .demuxHTTP('request')
.pipeline('request')
  .replaceMessage(
    msg => [
      new MessageStart({ status: msg.head.path === '/204' ? 204 : 200 }),
      new Data(_part),
      new Data(_part),
      new Data(_part),
      new MessageEnd(),
    ]
  )
`, nil)
	c := dial(t, in.addr)
	c.write("HEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET /204 HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n")
	r := c.response("HEAD")
	mustEqual(t, "HEAD status", r.StatusCode, 200)
	mustEqual(t, "HEAD content-length", r.ContentLength, 60000)
	r = c.response("GET")
	mustEqual(t, "204 status", r.StatusCode, 204)
	r = c.response("GET")
	mustEqual(t, "GET status", r.StatusCode, 200)
	mustEqual(t, "GET body length", len(r.body), 60000)
	c.write("GET /204 HTTP/1.1\r\nHost: x\r\n\r\n")
	mustEqual(t, "last status", c.response("GET").StatusCode, 204)
}

func TestServeHTTPNothingAfterConnectionClose(t *testing.T) {
	// Requests that follow a "connection: close" (or an HTTP/1.0 request
	// without keep-alive) on the same connection are not processed.
	in := run(t, `
pipy({
  _g: { n: 0 },
})
.listen('127.0.0.1:$PORT')
  .serveHTTP(msg => new Message(msg.head.path + ' ' + (++_g.n)))
`, []runOpt{threads(1)})
	for i, first := range []string{
		"GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
		"GET /a HTTP/1.0\r\n\r\n",
	} {
		c := dial(t, in.addr)
		c.write(first + "POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhiGARBAGE\r\n\r\n")
		r := c.response("GET")
		mustEqual(t, "first", r.body, fmt.Sprintf("/a %d", 2*i+1))
		c.expectClosed()
		c = dial(t, in.addr)
		c.write("GET /c HTTP/1.1\r\nHost: x\r\n\r\n")
		mustEqual(t, "next connection", c.response("GET").body, fmt.Sprintf("/c %d", 2*i+2))
	}
}

func TestDemuxHTTPScriptErrors(t *testing.T) {
	// A callback that throws or loops in a request's sub-pipeline fails
	// that request with a 500; the others, before and after it, are fine.
	in := run(t, `
pipy()
.listen('127.0.0.1:$PORT')
  .demuxHTTP('request')
.pipeline('request')
  .handleMessageStart(
    msg => (
      msg.head.path === '/throw' && (() => { throw new Error('boom') })(),
      msg.head.path === '/loop' && (() => { while (true) {} })()
    )
  )
  .replaceMessage(msg => new Message('ok ' + msg.head.path))
`, []runOpt{budget(300 * time.Millisecond)})
	c := dial(t, in.addr)
	c.write("GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /throw HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n" +
		"GET /loop HTTP/1.1\r\nHost: x\r\n\r\nGET /c HTTP/1.1\r\nHost: x\r\n\r\n")
	for _, want := range []struct {
		status int
		body   string
	}{{200, "ok /a"}, {500, ""}, {200, "ok /b"}, {500, ""}, {200, "ok /c"}} {
		r := c.response("GET")
		mustEqual(t, "status of the one answered "+want.body, r.StatusCode, want.status)
		if want.status == 200 {
			mustEqual(t, "body", r.body, want.body)
		}
	}
	c.write("GET /d HTTP/1.1\r\nHost: x\r\n\r\n")
	mustEqual(t, "after", c.response("GET").body, "ok /d")
}

func TestServeHTTPEndlessLoopHandler(t *testing.T) {
	// The handler itself is the endless loop: each request is interrupted
	// and answered 500; the other listener of the script keeps working.
	other := freePort(t)
	in := run(t, `
pipy()
.listen('127.0.0.1:$PORT')
  .serveHTTP(msg => { while(true){} })
.listen('127.0.0.1:$OTHER')
  .serveHTTP(new Message('Hi, there!\n'))
`, []runOpt{budget(300 * time.Millisecond)}, "$OTHER", other)
	looping := dial(t, in.addr)
	looping.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	c := dial(t, fmt.Sprintf("127.0.0.1:%d", other))
	c.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	c.expect(helloWire)
	mustEqual(t, "looping status", looping.response("GET").StatusCode, 500)
	looping.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	mustEqual(t, "looping again", looping.response("GET").StatusCode, 500)
	c.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	c.expect(helloWire)
}

func TestServeHTTPSlowReaderDoesNotStallOthers(t *testing.T) {
	// One worker; a client asks for 16 MiB and reads none of it. Another
	// client on the same worker is still served.
	in := run(t, appScript, []runOpt{threads(1)})
	slow := dial(t, in.addr)
	slow.write(strings.Repeat("GET /big HTTP/1.1\r\nHost: x\r\n\r\n", 16))
	for i := range 5 {
		c := dial(t, in.addr)
		c.write("GET /path HTTP/1.1\r\nHost: x\r\n\r\n")
		mustEqual(t, fmt.Sprintf("fast client %d", i), c.response("GET").body, "GET /path")
	}
	// The slow one gets everything once it reads.
	for range 16 {
		mustEqual(t, "slow body length", len(slow.response("GET").body), 1<<20)
	}
}
