package filters_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"testing"
)

// http.File serves a codebase file, and its .gz variant to clients that
// accept gzip, over a real socket.
func TestHTTPFileServesVariants(t *testing.T) {
	page := bytes.Repeat([]byte("<p>static</p>\n"), 200)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(page)
	zw.Close()
	in := run(t, `
pipy()
.listen('127.0.0.1:$PORT')
  .serveHTTP(
    msg => (
      (f => f ? f.toMessage(msg.head.headers['accept-encoding']) : new Message({ status: 404 }, 'Not found'))(
        http.File.from('www' + msg.head.path)
      )
    )
  )
`, []runOpt{files(map[string]string{
		"www/index.html":     "<h1>home</h1>",
		"www/page.html":      string(page),
		"www/page.html.gz":   gz.String(),
		"www/script.js":      "alert(1)",
		"www/sub/index.html": "sub",
	})})
	cl := newClient(t)
	for _, tc := range []struct {
		path, ae, ctype, ce string
		body                []byte
		status              int
	}{
		{"/", "", "text/html", "", []byte("<h1>home</h1>"), 200},
		{"/page.html", "", "text/html", "", page, 200},
		{"/page.html", "gzip, deflate, br", "text/html", "gzip", gz.Bytes(), 200},
		{"/script.js", "gzip", "application/javascript", "", []byte("alert(1)"), 200},
		{"/sub/", "", "text/html", "", []byte("sub"), 200},
		{"/sub", "", "text/html", "", []byte("sub"), 200},
		{"/missing", "", "", "", []byte("Not found"), 404},
		{"/../main.js", "", "", "", []byte("Not found"), 404},
	} {
		req, _ := http.NewRequest("GET", in.url(tc.path), nil)
		req.URL.Opaque = tc.path // keep /../ as it is
		if tc.ae != "" {
			req.Header.Set("Accept-Encoding", tc.ae)
		}
		resp, err := cl.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		mustEqual(t, tc.path+" status", resp.StatusCode, tc.status)
		if tc.status == 200 {
			mustEqual(t, tc.path+" content-type", resp.Header.Get("Content-Type"), tc.ctype)
		}
		mustEqual(t, tc.path+" content-encoding", resp.Header.Get("Content-Encoding"), tc.ce)
		mustEqualBytes(t, tc.path+" "+tc.ae+" body", b, tc.body)
	}
}

// Pipy's decodeDubbo example: Hessian bodies in Dubbo frames, answered by
// a script.
func TestDubboWithHessian(t *testing.T) {
	in := run(t, `
pipy()
.listen('127.0.0.1:$PORT')
  .decodeDubbo()
  .replaceMessage(
    msg => (
      (req => new Message({ id: msg.head.id }, Hessian.encode([1, 'Hi, ' + req[5] + ' from ' + req[3]])))(
        Hessian.decode(msg.body)
      )
    )
  )
  .encodeDubbo({ isRequest: false, isTwoWay: false })
`, nil)
	// dubbo version, service, version, method, parameter types, one argument, attachments
	body := []byte{0x05, '2', '.', '0', '.', '2', 0x07, 'c', 'o', 'm', '.', 'S', 'v', 'c', 0x03, '1', '.', '0',
		0x05, 's', 'a', 'y', 'H', 'i', 0x12, 'L', 'j', 'a', 'v', 'a', '/', 'l', 'a', 'n', 'g', '/', 'S', 't', 'r', 'i', 'n', 'g', ';',
		0x03, 'T', 'o', 'm', 'H', 0x04, 'p', 'a', 't', 'h', 0x07, 'c', 'o', 'm', '.', 'S', 'v', 'c', 'Z'}
	c := dial(t, in.addr)
	c.write(string(dubboFrame(0xc2, 0, 77, body)))
	want := append([]byte{0x91, 0x12}, "Hi, Tom from sayHi"...)
	c.expect(string(dubboFrame(0x02, 20, 77, want)))
}
