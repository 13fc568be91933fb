package filters_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/h2c"
)

// h2cClient speaks HTTP/2 with prior knowledge over plain TCP; dials
// counts the connections it opened.
func h2cClient(t testing.TB, dials *atomic.Int64) *http.Client {
	tr := &http2.Transport{AllowHTTP: true, DisableCompression: true,
		DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
			if dials != nil {
				dials.Add(1)
			}
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		}}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: ioTimeout}
}

func h2Get(t testing.TB, c *http.Client, url string) (int, string, http.Header) {
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
	if resp.ProtoMajor != 2 {
		t.Fatalf("GET %s: protocol %s", url, resp.Proto)
	}
	return resp.StatusCode, string(b), resp.Header
}

// h2Concurrent sends n GETs at once over c and checks every answer.
func h2Concurrent(t *testing.T, c *http.Client, n int, url func(i int) string, want func(i int) string) {
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := c.Get(url(i))
			if err != nil {
				errs <- err
				return
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != 200 || string(b) != want(i) {
				errs <- fmt.Errorf("request %d: %d %q %v", i, resp.StatusCode, b, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestH2ServeHTTP(t *testing.T) {
	in := run(t, appScript, nil)
	var dials atomic.Int64
	c := h2cClient(t, &dials)

	code, body, hdr := h2Get(t, c, in.url("/"))
	mustEqual(t, "status", code, 200)
	mustEqual(t, "body", body, "Hi, there!\n")
	mustEqual(t, "content-length", hdr.Get("Content-Length"), "11")
	code, body, hdr = h2Get(t, c, in.url("/header"))
	mustEqual(t, "status", code, 201)
	mustEqual(t, "body", body, "created")
	mustEqual(t, "x-answer", hdr.Get("X-Answer"), "42")
	_, body, _ = h2Get(t, c, in.url("/path"))
	mustEqual(t, "method and path", body, "GET /path")

	// 1 MiB both ways: the request body needs our WINDOW_UPDATEs, the
	// response body waits for the client's.
	big := bigBody(1 << 20)
	resp, err := c.Post(in.url("/echo"), "application/octet-stream", bytes.NewReader(big))
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	mustEqualBytes(t, "echoed body", got, big)
	_, body, _ = h2Get(t, c, in.url("/big"))
	mustEqual(t, "big body", len(body), 16*65536)
	mustEqual(t, "big body", body, strings.Repeat("abcdefghijklmnop", 65536))

	// HEAD and bodiless statuses.
	req, _ := http.NewRequest("HEAD", in.url("/"), nil)
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	mustEqual(t, "HEAD status", resp.StatusCode, 200)
	mustEqual(t, "HEAD content-length", resp.ContentLength, 11)
	code, body, _ = h2Get(t, c, in.url("/204"))
	mustEqual(t, "204", code, 204)
	mustEqual(t, "204 body", body, "")

	// A handler that throws fails its own stream only.
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			path := "/path"
			if i%2 == 0 {
				path = "/throw"
			}
			resp, err := c.Get(in.url(path))
			if err != nil {
				t.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			want := 200
			if i%2 == 0 {
				want = 500
			}
			if resp.StatusCode != want {
				t.Errorf("%s: %d", path, resp.StatusCode)
			}
		}()
	}
	wg.Wait()

	h2Concurrent(t, c, 50, func(i int) string { return in.url("/path") },
		func(i int) string { return "GET /path" })
	mustEqual(t, "connections opened", dials.Load(), 1)

	// HTTP/1.1 on the same listener.
	code, body, _ = get(t, newClient(t), in.url("/"))
	mustEqual(t, "HTTP/1.1 status", code, 200)
	mustEqual(t, "HTTP/1.1 body", body, "Hi, there!\n")
}

// A connection starting like the preface but turning out HTTP/1 is HTTP/1,
// even when its bytes come one at a time.
func TestH2PrefaceSniffing(t *testing.T) {
	in := run(t, appScript, nil)
	c := dial(t, in.addr)
	for _, b := range []byte("PRIX / HTTP/1.1\r\nHost: x\r\n\r\n") {
		c.write(string(b))
	}
	r := c.response("GET")
	if r.StatusCode != 501 && r.StatusCode != 200 && r.StatusCode != 400 {
		t.Fatalf("status %d", r.StatusCode)
	}
	c = dial(t, in.addr)
	c.write("P")
	c.write("OST /path HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
	mustEqual(t, "body", c.response("POST").body, "POST /path")

	// The preface split across writes.
	c = dial(t, in.addr)
	c.write("PRI * HTTP/2.0\r\n")
	c.write("\r\nSM\r\n\r\n")
	fr := http2.NewFramer(c.c, c.br)
	fr.WriteSettings()
	f, err := fr.ReadFrame()
	if err != nil {
		t.Fatal(err)
	}
	if sf, ok := f.(*http2.SettingsFrame); !ok || sf.IsAck() {
		t.Fatalf("first frame %v", f)
	}
	fr.WritePing(false, [8]byte{1, 2, 3})
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			t.Fatal(err)
		}
		if p, ok := f.(*http2.PingFrame); ok {
			if !p.IsAck() || p.Data != [8]byte{1, 2, 3} {
				t.Fatalf("ping %v", p)
			}
			break
		}
	}
	fr.WriteGoAway(0, http2.ErrCodeNo, nil)
	c.c.(*net.TCPConn).CloseWrite()
	io.Copy(io.Discard, c.br)
}

func TestH2DemuxProxy(t *testing.T) {
	up := newUpstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "POST" {
			io.Copy(w, r.Body)
			return
		}
		fmt.Fprintf(w, "%s %s host=%s proto=%s", r.Method, r.URL.RequestURI(), r.Host, r.Proto)
	}))
	in := run(t, `
pipy()
.listen('127.0.0.1:$PORT')
  .demuxHTTP('req')
.pipeline('req')
  .handleMessageStart(msg => { if (msg.head.path === '/throw') throw new Error('boom') })
  .muxHTTP('up')
.pipeline('up')
  .connect('$UP')
`, nil, "$UP", up.addr)
	var dials atomic.Int64
	c := h2cClient(t, &dials)
	host := strings.TrimPrefix(in.url(""), "http://")

	code, body, _ := h2Get(t, c, in.url("/a?b=c"))
	mustEqual(t, "status", code, 200)
	mustEqual(t, "body", body, "GET /a?b=c host="+host+" proto=HTTP/1.1")

	big := bigBody(1 << 20)
	resp, err := c.Post(in.url("/echo"), "application/octet-stream", bytes.NewReader(big))
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	mustEqualBytes(t, "echoed body", got, big)

	code, _, _ = h2Get(t, c, in.url("/throw"))
	mustEqual(t, "throwing stream", code, 500)

	h2Concurrent(t, c, 50, func(i int) string { return in.url(fmt.Sprintf("/n/%d", i)) },
		func(i int) string { return fmt.Sprintf("GET /n/%d host=%s proto=HTTP/1.1", i, host) })
	mustEqual(t, "connections opened", dials.Load(), 1)

	code, body, _ = get(t, newClient(t), in.url("/h1"))
	mustEqual(t, "HTTP/1.1 status", code, 200)
	mustEqual(t, "HTTP/1.1 body", body, "GET /h1 host="+host+" proto=HTTP/1.1")
}

// Tutorial 18's shape: acceptTLS into a pipeline doing demuxHTTP agrees on
// h2 with a client offering it, and still speaks HTTP/1.1 to the others; a
// TLS server that is not HTTP never gets h2 unless it asks.
func TestH2AcceptTLS(t *testing.T) {
	checkSessionsEnd(t)
	ca := newCA(t, "Test Root")
	srv := ca.issue(t, "localhost", []string{"localhost", "127.0.0.1"}, false, nil)
	tcpPort := freePort(t)
	in := run(t, `
pipy()
.listen($PORT)
  .acceptTLS('inbound-http', {certificate: {`+certScript+`}})
.listen($TCP)
  .acceptTLS('tcp', {certificate: {`+certScript+`}})
.pipeline('inbound-http')
  .demuxHTTP('req')
.pipeline('req')
  .replaceMessage(msg => new Message(msg.head.protocol + ' ' + msg.head.headers.host + ' ' + msg.body.size))
.pipeline('tcp')
  .handleData(() => {})
`, []runOpt{files(map[string]string{"secret/server-cert.pem": srv.certPEM, "secret/server-key.pem": srv.keyPEM})}, "$TCP", tcpPort)

	tr := &http2.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.pool(), NextProtos: []string{"h2"}}}
	t.Cleanup(tr.CloseIdleConnections)
	c := &http.Client{Transport: tr, Timeout: ioTimeout}
	url := "https://" + in.addr + "/"
	for range 3 {
		resp, err := c.Post(url, "text/plain", strings.NewReader("12345"))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		mustEqual(t, "ALPN", resp.TLS.NegotiatedProtocol, "h2")
		mustEqual(t, "body", string(b), "HTTP/2 "+in.addr+" 5")
	}
	h2Concurrent(t, c, 50, func(int) string { return url }, func(int) string { return "HTTP/2 " + in.addr + " 0" })

	h1, _ := tlsClient(t, ca.pool(), "")
	h1.Transport.(*http.Transport).ForceAttemptHTTP2 = false
	h1.Transport.(*http.Transport).TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	resp, err := h1.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	mustEqual(t, "HTTP/1.1 body", string(b), "HTTP/1.1 "+in.addr+" 0")

	conn, err := tls.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", tcpPort), &tls.Config{RootCAs: ca.pool(), NextProtos: []string{"h2", "x-other"}})
	if err != nil {
		t.Fatal(err)
	}
	mustEqual(t, "ALPN of a non-HTTP TLS server", conn.ConnectionState().NegotiatedProtocol, "x-other")
	conn.Close()
}

// muxHTTP with {version: 2}: every request is a stream on one HTTP/2
// connection to the upstream (h2c with prior knowledge).
func TestH2MuxHTTPVersion2(t *testing.T) {
	up := newUpstream(t, h2c.NewHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "POST" {
			io.Copy(w, r.Body)
			return
		}
		fmt.Fprintf(w, "%s %s host=%s proto=%s", r.Method, r.URL.RequestURI(), r.Host, r.Proto)
	}), &http2.Server{}))
	in := run(t, `
pipy()
.listen('127.0.0.1:$PORT')
  .demuxHTTP('req')
.pipeline('req')
  .muxHTTP('up', 'k', {version: 2})
.pipeline('up')
  .connect('$UP')
`, nil, "$UP", up.addr)
	host := strings.TrimPrefix(in.url(""), "http://")
	for _, tc := range []struct {
		name string
		c    *http.Client
	}{{"HTTP/1.1 client", newClient(t)}, {"h2c client", h2cClient(t, nil)}} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := tc.c.Get(in.url("/a?b=c"))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			mustEqual(t, "body", string(b), "GET /a?b=c host="+host+" proto=HTTP/2.0")

			big := bigBody(1 << 20)
			resp, err = tc.c.Post(in.url("/echo"), "application/octet-stream", bytes.NewReader(big))
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			mustEqualBytes(t, "echoed body", got, big)

			h2Concurrent(t, tc.c, 50, func(i int) string { return in.url(fmt.Sprintf("/n/%d", i)) },
				func(i int) string { return fmt.Sprintf("GET /n/%d host=%s proto=HTTP/2.0", i, host) })
		})
	}
	// One session (the key is the same): one upstream connection per worker at most.
	if n := up.accepted.Load(); n > 2 {
		t.Errorf("%d upstream connections", n)
	}
}
