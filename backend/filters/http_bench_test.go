package filters_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
)

// benchClient sends keep-alive GETs on one connection and reads each
// response whole.
func benchRequests(b *testing.B, addr string) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	req := []byte("GET /hi HTTP/1.1\r\nhost: bench\r\nuser-agent: bench\r\naccept: */*\r\n\r\n")
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := c.Write(req); err != nil {
			b.Fatal(err)
		}
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			b.Fatalf("status %d: the benchmark would measure an error path", res.StatusCode)
		}
	}
}

// A constant response from serveHTTP: the whole request path in-process
// (socket read, decode, encode, socket write), with no script running.
func BenchmarkServeHTTPConstant(b *testing.B) {
	inst := run(b, `pipy().listen('127.0.0.1:$PORT').serveHTTP(new Message('Hi, there!\n'))`, []runOpt{threads(1)})
	benchRequests(b, inst.addr)
}

// The routing proxy of the performance issue: demuxHTTP, a URLRouter in
// handleMessageStart, link, muxHTTP keyed by target, connect.
func BenchmarkProxyRouting(b *testing.B) { benchProxy(b, true) }

// The same proxy without its handleMessageStart callback: the difference
// to BenchmarkProxyRouting is what one small script callback per request
// costs.
func BenchmarkProxyNoCallback(b *testing.B) { benchProxy(b, false) }

// benchProxy runs keep-alive requests through the routing proxy to a
// constant upstream. Without callback the target is fixed from the start
// and everything else is the same.
func benchProxy(b *testing.B, callback bool) {
	up := run(b, `pipy().listen('127.0.0.1:$PORT').serveHTTP(new Message('Hi, there!\n'))`, []runOpt{threads(1), asUpstream()})
	target, pick := up.addr, ""
	if callback {
		target = ""
		pick = "  .handleMessageStart(msg => _target = _router.find(msg.head.headers.host, msg.head.path))\n"
	}
	inst := run(b, fmt.Sprintf(`
pipy({ _router: new algo.URLRouter({ '/*': '%s' }), _target: '%s' })
.listen('127.0.0.1:$PORT')
  .demuxHTTP('request')
.pipeline('request')
%s  .link('forward', () => Boolean(_target), '404')
.pipeline('forward')
  .muxHTTP('connection', () => _target)
.pipeline('connection')
  .connect(() => _target)
.pipeline('404')
  .replaceMessage(new Message({ status: 404 }, 'No route'))
`, up.addr, target, pick), []runOpt{threads(1)})
	benchRequests(b, inst.addr)
}
