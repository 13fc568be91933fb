package filters_test

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
)

// compressApp answers /text with a large body, /small with a short one,
// /encoded with a body that claims to be compressed already, /204 with no
// body; the response goes through the filter under test ($FILTER).
const compressApp = `
pipy({
  _ae: '',
  _text: 'The quick brown fox jumps over the lazy dog. '.repeat(5000),
})
.listen('127.0.0.1:$PORT')
  .demuxHTTP('req')
.pipeline('req')
  .handleMessageStart(msg => _ae = msg.head.headers['accept-encoding'] || '')
  .replaceMessage(
    msg => (
      msg.head.path === '/text' ? new Message({ headers: { 'content-type': 'text/plain', 'content-length': '999' } }, _text) :
      msg.head.path === '/echo' ? new Message({ headers: msg.head.headers }, msg.body) :
      msg.head.path === '/encoded' ? new Message({ headers: { 'content-encoding': 'gzip' } }, 'not really gzip') :
      msg.head.path === '/204' ? new Message({ status: 204 }) :
      new Message('small')
    )
  )
  $FILTER
`

func text() string { return strings.Repeat("The quick brown fox jumps over the lazy dog. ", 5000) }

func rawGet(t *testing.T, cl *http.Client, url string, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := cl.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: body: %v", url, err)
	}
	return resp, b
}

func decodeWith(t *testing.T, enc string, b []byte) []byte {
	t.Helper()
	var r io.Reader
	var err error
	switch enc {
	case "gzip":
		r, err = gzip.NewReader(bytes.NewReader(b))
	case "deflate":
		r, err = zlib.NewReader(bytes.NewReader(b))
	case "br":
		r = brotli.NewReader(bytes.NewReader(b))
	default:
		t.Fatalf("unexpected content-encoding %q", enc)
	}
	if err != nil {
		t.Fatalf("%s: %v", enc, err)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("%s: %v", enc, err)
	}
	return out
}

func TestCompressHTTPMethods(t *testing.T) {
	for _, tc := range []struct{ options, enc string }{
		{"", "gzip"},
		{"{}", "gzip"},
		{"{ method: 'gzip', level: 'best' }", "gzip"},
		{"{ method: 'gzip', level: 'none' }", "gzip"},
		{"{ method: 'deflate' }", "deflate"},
		{"{ method: 'brotli', level: 'speed' }", "br"},
		{"{ method: 'brotli' }", "br"},
	} {
		t.Run(tc.options, func(t *testing.T) {
			in := run(t, compressApp, nil, "$FILTER", ".compressHTTP("+tc.options+")")
			cl := newClient(t)
			resp, b := rawGet(t, cl, in.url("/text"), nil)
			mustEqual(t, "content-encoding", resp.Header.Get("Content-Encoding"), tc.enc)
			mustEqual(t, "content-type", resp.Header.Get("Content-Type"), "text/plain")
			if !strings.Contains(tc.options, "none") && len(b) > 2000 {
				t.Fatalf("compressed body is %d bytes; want it small", len(b))
			}
			mustEqualBytes(t, "decompressed body", decodeWith(t, tc.enc, b), []byte(text()))
			// The connection stays usable.
			// A response with no head at all is compressed too.
			resp, b = rawGet(t, cl, in.url("/small"), nil)
			mustEqual(t, "content-encoding", resp.Header.Get("Content-Encoding"), tc.enc)
			mustEqualBytes(t, "small body", decodeWith(t, tc.enc, b), []byte("small"))
		})
	}
}

func TestCompressHTTPLeavesEncodedAndBodiless(t *testing.T) {
	in := run(t, compressApp, nil, "$FILTER", ".compressHTTP()")
	cl := newClient(t)
	resp, b := rawGet(t, cl, in.url("/encoded"), nil)
	mustEqual(t, "content-encoding", resp.Header.Get("Content-Encoding"), "gzip")
	mustEqual(t, "body", string(b), "not really gzip")
	resp, b = rawGet(t, cl, in.url("/204"), nil)
	mustEqual(t, "status", resp.StatusCode, 204)
	mustEqual(t, "content-encoding", resp.Header.Get("Content-Encoding"), "")
	mustEqual(t, "body", len(b), 0)
}

func TestCompressHTTPFollowsAcceptEncoding(t *testing.T) {
	in := run(t, compressApp, nil, "$FILTER",
		`.compressHTTP({
		   enabled: () => _ae !== '',
		   method: () => _ae.includes('br') ? 'brotli' : _ae.includes('gzip') ? 'gzip' : null,
		 })`)
	cl := newClient(t)
	for _, tc := range []struct{ ae, enc string }{
		{"", ""}, {"gzip", "gzip"}, {"gzip, br", "br"}, {"identity", ""},
	} {
		hdr := map[string]string{}
		if tc.ae != "" {
			hdr["Accept-Encoding"] = tc.ae
		}
		resp, b := rawGet(t, cl, in.url("/text"), hdr)
		mustEqual(t, "content-encoding for "+tc.ae, resp.Header.Get("Content-Encoding"), tc.enc)
		if tc.enc == "" {
			mustEqual(t, "plain body", string(b), text())
		} else {
			mustEqualBytes(t, "body", decodeWith(t, tc.enc, b), []byte(text()))
		}
	}
}

func TestCompressMessageThenDecompress(t *testing.T) {
	for _, tc := range []struct{ comp, decomp string }{
		{"compressMessage()", "decompressMessage('gzip')"},
		{"compressMessage()", "decompressMessage('inflate')"},
		{"compressMessage({ method: 'deflate' })", "decompressMessage('inflate')"},
		{"compressMessage({ method: 'deflate' })", "decompressMessage('deflate')"},
		{"compressMessage({ method: 'brotli' })", "decompressMessage('brotli')"},
		{"compressMessage({ method: 'brotli' })", "decompressMessage(() => 'brotli')"},
		{"compressHTTP({ method: 'brotli' })", "decompressHTTP()"},
		{"compressHTTP({ method: 'gzip' })", "decompressHTTP(() => true)"},
		{"compressHTTP({ method: 'deflate' })", "decompressHTTP(true)"},
	} {
		t.Run(tc.comp+"."+tc.decomp, func(t *testing.T) {
			in := run(t, compressApp, nil, "$FILTER", "."+tc.comp+"."+tc.decomp)
			cl := newClient(t)
			resp, b := rawGet(t, cl, in.url("/text"), nil)
			mustEqual(t, "content-encoding", resp.Header.Get("Content-Encoding"), "")
			mustEqualBytes(t, "body", b, []byte(text()))
			// A request body echoed back, 1 MiB, in many Data events.
			big := bigBody(1 << 20)
			code, body := post(t, cl, in.url("/echo"), chunkedReader{bytes.NewReader(big)}, -1)
			mustEqual(t, "status", code, 200)
			mustEqualBytes(t, "echoed body", []byte(body), big)
		})
	}
}

// decompressApp echoes the request body after the filter under test.
const decompressApp = `
pipy()
.listen('127.0.0.1:$PORT')
  .demuxHTTP('req')
.pipeline('req')
  $FILTER
  .replaceMessage(
    msg => new Message({ headers: { 'x-ce': msg.head.headers['content-encoding'] || '-' } }, msg.body)
  )
`

func compressBytes(t *testing.T, enc string, b []byte) []byte {
	var buf bytes.Buffer
	var w io.WriteCloser
	switch enc {
	case "gzip":
		w = gzip.NewWriter(&buf)
	case "zlib":
		w = zlib.NewWriter(&buf)
	case "raw":
		w, _ = flate.NewWriter(&buf, flate.DefaultCompression)
	case "br":
		w = brotli.NewWriter(&buf)
	}
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func postEncoded(t *testing.T, cl *http.Client, url, ce string, body []byte, chunked bool) (*http.Response, []byte) {
	t.Helper()
	var r io.Reader = bytes.NewReader(body)
	if chunked {
		r = chunkedReader{r}
	}
	req, _ := http.NewRequest("POST", url, r)
	if !chunked {
		req.ContentLength = int64(len(body))
	}
	if ce != "" {
		req.Header.Set("Content-Encoding", ce)
	}
	resp, err := cl.Do(req)
	if err != nil {
		t.Fatalf("POST: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func TestDecompressHTTPAgainstStandardEncoders(t *testing.T) {
	in := run(t, decompressApp, nil, "$FILTER", ".decompressHTTP()")
	cl := newClient(t)
	plain := bigBody(300 << 10)
	for _, tc := range []struct{ ce, format string }{
		{"gzip", "gzip"}, {"deflate", "zlib"}, {"deflate", "raw"}, {"br", "br"},
	} {
		for _, chunked := range []bool{false, true} {
			resp, b := postEncoded(t, cl, in.url("/"), tc.ce, compressBytes(t, tc.format, plain), chunked)
			mustEqual(t, tc.format+": content-encoding seen by the script", resp.Header.Get("X-Ce"), "-")
			mustEqualBytes(t, tc.format+": body", b, plain)
		}
	}
	// Not compressed, or an encoding it does not know: untouched.
	resp, b := postEncoded(t, cl, in.url("/"), "", []byte("plain"), false)
	mustEqual(t, "plain", string(b), "plain")
	resp, b = postEncoded(t, cl, in.url("/"), "compress", []byte("lzw?"), false)
	mustEqual(t, "unknown encoding kept", resp.Header.Get("X-Ce"), "compress")
	mustEqual(t, "unknown encoding body", string(b), "lzw?")
}

func TestDecompressHTTPDisabled(t *testing.T) {
	in := run(t, decompressApp, nil, "$FILTER", ".decompressHTTP(() => false)")
	cl := newClient(t)
	gz := compressBytes(t, "gzip", []byte("hello"))
	resp, b := postEncoded(t, cl, in.url("/"), "gzip", gz, false)
	mustEqual(t, "content-encoding", resp.Header.Get("X-Ce"), "gzip")
	mustEqualBytes(t, "body", b, gz)
}

func TestDecompressCorruptBodyIsCut(t *testing.T) {
	in := run(t, decompressApp, nil, "$FILTER", ".decompressHTTP()")
	cl := newClient(t)
	plain := bigBody(200 << 10)
	gz := compressBytes(t, "gzip", plain)
	bad := append([]byte(nil), gz...)
	for i := len(bad) / 2; i < len(bad)/2+64; i++ {
		bad[i] ^= 0x5a
	}
	resp, b := postEncoded(t, cl, in.url("/"), "gzip", bad, true)
	mustEqual(t, "status", resp.StatusCode, 200)
	// What was decoded before the damage showed passes on (possibly some
	// garbage: deflate data checks only at the end), then the message ends.
	if bytes.Equal(b, plain) {
		t.Fatalf("corrupt body decoded to the original")
	}
	// Truncated gzip: everything that could be decoded, then the end.
	resp, b = postEncoded(t, cl, in.url("/"), "gzip", gz[:len(gz)-10], false)
	if !bytes.Equal(b, plain[:len(b)]) {
		t.Fatalf("truncated body: not a prefix")
	}
	// Garbage: nothing.
	resp, b = postEncoded(t, cl, in.url("/"), "br", []byte("this is not brotli at all"), false)
	mustEqual(t, "status", resp.StatusCode, 200)
	// The connection still serves.
	resp, b = postEncoded(t, cl, in.url("/"), "gzip", gz, false)
	mustEqualBytes(t, "good body after bad ones", b, plain)
}

func TestCompressBadOptions(t *testing.T) {
	for _, tc := range []struct{ filter, want string }{
		{"compressHTTP({ method: 'zip' })", `unknown compression method "zip"`},
		{"compressHTTP({ level: 'max' })", "options.level must be one of"},
		{"compressHTTP({ enabled: 'yes' })", "options.enabled must be a boolean or a function"},
		{"compressMessage('gzip')", "options must be an object"},
		{"compressMessage({ method: 42 })", "options.method must be a string or a function"},
		{"decompressMessage('lzma')", `unknown decompression algorithm "lzma"`},
		{"decompressMessage()", "wrong number of arguments"},
		{"decompressMessage(42)", "algorithm must be a string or a function"},
		{"decompressHTTP('gzip')", "enable must be a boolean or a function"},
	} {
		t.Run(tc.filter, func(t *testing.T) {
			msg := loadError(t, "pipy()\n.listen(8000)\n  ."+tc.filter+"\n", nil)
			mustContain(t, "load error", msg, "main.js:3:", tc.want)
		})
	}
}

func TestDecompressMessageFunctionUnknownAlgorithmPasses(t *testing.T) {
	in := run(t, decompressApp, nil, "$FILTER", ".decompressMessage(() => 'lzma')")
	cl := newClient(t)
	_, b := postEncoded(t, cl, in.url("/"), "", []byte("as is"), false)
	mustEqual(t, "body", string(b), "as is")
}

// A client that goes away in the middle of a compressed body leaves no
// decompressing coroutine behind.
func TestDecompressStopsWhenTheStreamEnds(t *testing.T) {
	in := run(t, decompressApp, nil, "$FILTER", ".decompressHTTP()")
	gz := compressBytes(t, "gzip", bigBody(1<<20))
	for range 5 {
		c := dial(t, in.addr)
		c.write("POST / HTTP/1.1\r\nHost: x\r\nContent-Encoding: gzip\r\nContent-Length: " + fmt.Sprint(len(gz)) + "\r\n\r\n")
		c.write(string(gz[:len(gz)/2]))
		time.Sleep(20 * time.Millisecond)
		c.c.Close()
	}
	waitFor(t, "decompressing coroutines to end", 3*time.Second, func() bool {
		buf := make([]byte, 1<<20)
		return !strings.Contains(string(buf[:runtime.Stack(buf, true)]), "newInflater")
	})
}
