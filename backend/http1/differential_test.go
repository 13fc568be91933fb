package http1

import (
	"bufio"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// Differential test: every request below goes through our decoder and
// through net/http's http.ReadRequest (plus reading the body to the end),
// the oracle.
//
// diffAgree: both must accept or both reject; when both accept, method,
// request-target, protocol, header fields, keep-alive and body must match.
//
// diffStricter: we reject on purpose what http.ReadRequest accepts. Each
// entry says why; the test asserts that the oracle accepts and we reject, so
// the list stays accurate.
//
// diffLenient: the (few) things we accept on purpose that http.ReadRequest
// rejects, each with the RFC text that allows it.

type diffCase struct{ name, raw string }

const host = "Host: example.com\r\n"

var diffAgree = []diffCase{
	// --- valid ---
	{"simple GET", "GET / HTTP/1.1\r\n" + host + "\r\n"},
	{"GET with query", "GET /search?q=go+lang&page=2 HTTP/1.1\r\n" + host + "\r\n"},
	{"absolute-form", "GET http://example.com/x?y=1 HTTP/1.1\r\n" + host + "\r\n"},
	{"absolute-form upper-case scheme", "GET HTTP://EXAMPLE.COM/ HTTP/1.1\r\n" + host + "\r\n"},
	{"absolute-form with userinfo and port", "GET http://user:pw@example.com:8080/a HTTP/1.1\r\n" + host + "\r\n"},
	{"absolute-form opaque", "GET urn:isbn:0451450523 HTTP/1.1\r\n" + host + "\r\n"},
	{"absolute-form bad host char", "GET http://exa#mple/ HTTP/1.1\r\n" + host + "\r\n"},
	{"absolute-form bad port", "GET http://example.com:8o/ HTTP/1.1\r\n" + host + "\r\n"},
	{"absolute-form bad escape in host", "GET http://a%zz/ HTTP/1.1\r\n" + host + "\r\n"},
	{"absolute-form IPv6", "GET http://[::1]:8080/a HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n"},
	{"asterisk-form", "OPTIONS * HTTP/1.1\r\n" + host + "\r\n"},
	{"authority-form CONNECT", "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"},
	{"POST content-length", "POST /form HTTP/1.1\r\n" + host + "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 13\r\n\r\na=1&b=2&c=xyz"},
	{"POST content-length 0", "POST / HTTP/1.1\r\n" + host + "Content-Length: 0\r\n\r\n"},
	{"content-length leading zeros", "POST / HTTP/1.1\r\n" + host + "Content-Length: 007\r\n\r\n1234567"},
	{"content-length padded", "POST / HTTP/1.1\r\n" + host + "Content-Length:   5   \r\n\r\nhello"},
	{"duplicate identical content-length", "POST / HTTP/1.1\r\n" + host + "Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello"},
	{"PUT chunked", "PUT /f HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"},
	{"chunked upper-case hex", "POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\nA\r\n0123456789\r\n0\r\n\r\n"},
	{"chunked coding case-insensitive", "POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: Chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n"},
	{"chunk extensions", "POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n5;a=b;c=\"d e\"\r\nhello\r\n0;end\r\n\r\n"},
	{"chunk size trailing whitespace", "POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n"},
	{"chunked trailers", "POST / HTTP/1.1\r\n" + host + "Trailer: X-Sum\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-Sum: 42\r\n\r\n"},
	{"chunked many chunks", "POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n1\r\na\r\n2\r\nbc\r\n3\r\ndef\r\n4\r\nghij\r\n0\r\n\r\n"},
	{"HTTP/1.0 without host", "GET / HTTP/1.0\r\n\r\n"},
	{"HTTP/1.0 keep-alive", "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"},
	{"HTTP/1.0 with body", "POST / HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc"},
	{"connection close", "GET / HTTP/1.1\r\n" + host + "Connection: close\r\n\r\n"},
	{"connection list", "GET / HTTP/1.1\r\n" + host + "Connection: keep-alive, Close\r\n\r\n"},
	{"browser headers", benchGET},
	{"curl POST", benchPOST},
	{"value with inner tab", "GET / HTTP/1.1\r\n" + host + "X-Tab: a\tb\r\n\r\n"},
	{"empty value", "GET / HTTP/1.1\r\n" + host + "X-Empty:\r\nX-Blank:   \r\n\r\n"},
	{"value surrounding whitespace", "GET / HTTP/1.1\r\n" + host + "X-Pad: \t padded \t \r\n\r\n"},
	{"obs-text value", "GET / HTTP/1.1\r\n" + host + "X-Name: caf\xc3\xa9 \xff\r\n\r\n"},
	{"repeated field", "GET / HTTP/1.1\r\n" + host + "Accept: text/html\r\nAccept: application/json\r\nX-A: 1\r\nAccept: */*\r\n\r\n"},
	{"bare LF line endings", "GET / HTTP/1.1\n" + "Host: example.com\n" + "X: y\n\n"},
	{"mixed line endings", "POST / HTTP/1.1\r\nHost: example.com\nContent-Length: 2\r\n\nok"},
	{"lower-case method", "get / HTTP/1.1\r\n" + host + "\r\n"},
	{"extension method", "PROPFIND /dav/ HTTP/1.1\r\n" + host + "Depth: 1\r\n\r\n"},
	{"token method chars", "M-!#$%&'*+.^_`|~ / HTTP/1.1\r\n" + host + "\r\n"},
	{"percent-encoded path", "GET /a%20b/%E2%82%AC HTTP/1.1\r\n" + host + "\r\n"},
	{"double slash path", "GET //double//slash HTTP/1.1\r\n" + host + "\r\n"},
	{"raw UTF-8 path", "GET /caf\xc3\xa9 HTTP/1.1\r\n" + host + "\r\n"},
	{"raw bad percent in query", "GET /p?x=%zz&y=% HTTP/1.1\r\n" + host + "\r\n"},
	{"path with sub-delims", "GET /a;b=c/d,e!f$g'h(i)j*k+l@m:n HTTP/1.1\r\n" + host + "\r\n"},
	{"token chars in name", "GET / HTTP/1.1\r\n" + host + "X-!#$%&'*+-.^_`|~: v\r\n\r\n"},
	{"numeric name", "GET / HTTP/1.1\r\n" + host + "123: v\r\n\r\n"},
	{"cookie", "GET / HTTP/1.1\r\n" + host + "Cookie: a=1; b=2; c=\"x y\"\r\n\r\n"},
	{"expect 100-continue", "PUT /big HTTP/1.1\r\n" + host + "Expect: 100-continue\r\nContent-Length: 4\r\n\r\ndata"},
	{"websocket upgrade", "GET /chat HTTP/1.1\r\n" + host + "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"},
	{"pragma", "GET / HTTP/1.1\r\n" + host + "Pragma: no-cache\r\n\r\n"},
	{"long value", "GET / HTTP/1.1\r\n" + host + "X-Long: " + strings.Repeat("v", 4000) + "\r\n\r\n"},
	{"host with port", "GET / HTTP/1.1\r\nHost: example.com:8080\r\n\r\n"},
	{"proxy headers", "GET / HTTP/1.1\r\n" + host + "X-Forwarded-For: 10.0.0.1, 10.0.0.2\r\nX-Forwarded-Proto: https\r\nVia: 1.1 proxy\r\n\r\n"},
	{"binary body", "POST / HTTP/1.1\r\n" + host + "Content-Length: 4\r\n\r\n\x00\r\n\xff"},

	// --- invalid ---
	{"HTTP/0.9 request line", "GET /\r\n\r\n"},
	{"extra token in request line", "GET / HTTP/1.1 extra\r\n" + host + "\r\n"},
	{"lower-case version", "GET / http/1.1\r\n" + host + "\r\n"},
	{"malformed version", "GET / HTTP/11\r\n" + host + "\r\n"},
	{"version letters", "GET / HTTP/1.x\r\n" + host + "\r\n"},
	{"double space", "GET  / HTTP/1.1\r\n" + host + "\r\n"},
	{"empty target", "GET  HTTP/1.1\r\n" + host + "\r\n"},
	{"invalid method char", "GE(T / HTTP/1.1\r\n" + host + "\r\n"},
	{"empty method", " / HTTP/1.1\r\n" + host + "\r\n"},
	{"control char in target", "GET /a\x01b HTTP/1.1\r\n" + host + "\r\n"},
	{"DEL in target", "GET /a\x7fb HTTP/1.1\r\n" + host + "\r\n"},
	{"relative target", "GET index.html HTTP/1.1\r\n" + host + "\r\n"},
	{"query-only target", "GET ?q=1 HTTP/1.1\r\n" + host + "\r\n"},
	{"bad percent in path", "GET /a%zzb HTTP/1.1\r\n" + host + "\r\n"},
	{"truncated percent in path", "GET /a% HTTP/1.1\r\n" + host + "\r\n"},
	{"CR CR LF", "GET / HTTP/1.1\r\r\n" + host + "\r\n"},
	{"header without colon", "GET / HTTP/1.1\r\n" + host + "NoColon\r\n\r\n"},
	{"empty header name", "GET / HTTP/1.1\r\n" + host + ": v\r\n\r\n"},
	{"invalid name char", "GET / HTTP/1.1\r\n" + host + "X(y): v\r\n\r\n"},
	{"NUL in value", "GET / HTTP/1.1\r\n" + host + "X: a\x00b\r\n\r\n"},
	{"ESC in value", "GET / HTTP/1.1\r\n" + host + "X: a\x1bb\r\n\r\n"},
	{"DEL in value", "GET / HTTP/1.1\r\n" + host + "X: a\x7fb\r\n\r\n"},
	{"bare CR in value", "GET / HTTP/1.1\r\n" + host + "X: a\rb\r\n\r\n"},
	{"leading whitespace on first field", "GET / HTTP/1.1\r\n X: y\r\n" + host + "\r\n"},
	{"two host fields", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"},
	{"differing content-length", "POST / HTTP/1.1\r\n" + host + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"},
	{"signed content-length", "POST / HTTP/1.1\r\n" + host + "Content-Length: +5\r\n\r\nhello"},
	{"negative content-length", "POST / HTTP/1.1\r\n" + host + "Content-Length: -5\r\n\r\nhello"},
	{"non-numeric content-length", "POST / HTTP/1.1\r\n" + host + "Content-Length: abc\r\n\r\n"},
	{"empty content-length", "POST / HTTP/1.1\r\n" + host + "Content-Length:\r\n\r\n"},
	{"overflowing content-length", "POST / HTTP/1.1\r\n" + host + "Content-Length: 99999999999999999999\r\n\r\n"},
	{"content-length list of differing values", "POST / HTTP/1.1\r\n" + host + "Content-Length: 5, 6\r\n\r\nhello!"},
	{"unknown transfer coding", "POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: gzip\r\n\r\n"},
	{"chunked not last", "POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n"},
	{"coding before chunked", "POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"},
	{"two transfer-encoding fields", "POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
	{"non-hex chunk size", "POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n"},
	{"empty chunk size", "POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n\r\nhello\r\n0\r\n\r\n"},
	{"chunk size overflow", "POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n10000000000000000\r\nx\r\n0\r\n\r\n"},
	{"0x chunk size", "POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n"},
	{"missing CRLF after chunk data", "POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n"},
	{"LF after chunk data", "POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\n0\r\n\r\n"},
	{"bare LF after chunk size", "POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n"},
	{"bare LF ending the trailer section", "POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n0\r\n\n"},
	{"truncated head", "GET / HTTP/1.1\r\n" + host},
	{"truncated body", "POST / HTTP/1.1\r\n" + host + "Content-Length: 10\r\n\r\nabc"},
	{"truncated chunked body", "POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"},
	{"missing last chunk CRLF", "POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n0\r\n"},
}

type diffDeviation struct{ name, raw, reason string }

var diffStricter = []diffDeviation{
	{"obs-fold", "GET / HTTP/1.1\r\n" + host + "X-Folded: a\r\n b\r\n\r\n",
		"RFC 9112 §5.2: obsolete line folding; a server must reject it or replace it by SP. net/http unfolds; a proxy that forwards folded lines invites smuggling, so we reject"},
	{"obs-fold in trailer", "POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n0\r\nX: a\r\n b\r\n\r\n",
		"same rule for trailer fields"},
	{"space before colon", "GET / HTTP/1.1\r\n" + host + "X-Space : v\r\n\r\n",
		"RFC 9112 §5.1: a server MUST reject whitespace between field name and colon with 400. ReadRequest keeps the name with the space (net/http's Server rejects it later)"},
	{"space before colon on Host", "GET / HTTP/1.1\r\nHost : example.com\r\n\r\n",
		"as above; also a classic Host-confusion vector"},
	{"missing Host in HTTP/1.1", "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n",
		"RFC 9112 §3.2: a server MUST answer 400 to an HTTP/1.1 request without Host. ReadRequest leaves this check to net/http's Server"},
	{"missing Host in HTTP/1.1 CONNECT", "CONNECT example.com:443 HTTP/1.1\r\n\r\n",
		"RFC 9112 §3.2 applies to every HTTP/1.1 request; net/http's Server exempts CONNECT"},
	{"HTTP/1.2", "GET / HTTP/1.2\r\n" + host + "\r\n",
		"only HTTP/1.0 and HTTP/1.1 are spoken: 505. ReadRequest parses any HTTP/x.y; net/http's Server answers 505 for major != 1 only"},
	{"HTTP/2.0 request line", "GET / HTTP/2.0\r\n" + host + "\r\n",
		"505; net/http's Server also answers 505 (except for the h2 preface)"},
	{"HTTP/9.9", "GET / HTTP/9.9\r\n" + host + "\r\n",
		"505"},
	{"content-length with transfer-encoding", "POST / HTTP/1.1\r\n" + host + "Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
		"RFC 9112 §6.3 item 3: such a message ought to be handled as an error (request smuggling). net/http drops content-length and decodes chunked"},
	{"transfer-encoding with content-length", "POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n",
		"same, other order"},
	{"transfer-encoding in HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\nabc",
		"RFC 9112 §6.1: an HTTP/1.0 message with transfer-encoding MUST be treated as having faulty framing. net/http ignores the field and uses content-length"},
	{"CONNECT with an empty target", "CONNECT  HTTP/1.1\r\n" + host + "\r\n",
		"RFC 9112 §3.2.3: CONNECT needs an authority (host:port). ReadRequest parses \"http://\" + target and accepts the empty authority"},
	{"CONNECT without a port", "CONNECT example.com HTTP/1.1\r\nHost: example.com\r\n\r\n",
		"RFC 9112 §3.2.3: authority-form is uri-host \":\" port"},
	{"CONNECT with an origin-form target", "CONNECT /_goRPC_ HTTP/1.1\r\n" + host + "\r\n",
		"RFC 9112 §3.2.3: CONNECT uses authority-form only (net/rpc's CONNECT /path is a Go-specific use)"},
	{"absolute-form host with a quote", "GET http://a\"b/ HTTP/1.1\r\n" + host + "\r\n",
		"RFC 3986 §3.2.2: '\"', '<' and '>' are not allowed in a host; net/url tolerates them"},
	{"control char in chunk extension", "POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n5;a=\x01\r\nhello\r\n0\r\n\r\n",
		"RFC 9112 §7.1.1: chunk-ext is tokens and quoted-strings; net/http skips extensions unchecked"},
}

var diffLenient = []diffDeviation{
	{"leading empty lines", "\r\n\r\nGET / HTTP/1.1\r\n" + host + "\r\n",
		"RFC 9112 §2.2: a server SHOULD ignore at least one empty line received before the request-line"},
	{"content-length list of identical values", "POST / HTTP/1.1\r\n" + host + "Content-Length: 5, 5\r\n\r\nhello",
		"RFC 9110 §8.6: a recipient MAY accept a list of identical values as that single value"},
	{"BWS before chunk extension", "POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n5 ;a=b\r\nhello\r\n0\r\n\r\n",
		"RFC 9112 §7.1.1: chunk-ext = *( BWS \";\" BWS chunk-ext-name ... )"},
}

type diffResult struct {
	err       error
	method    string
	target    string
	proto     string
	headers   map[string][]string
	host      string
	keepAlive bool
	chunked   bool
	length    int64
	body      string
}

func oracleDecode(t *testing.T, raw string) diffResult {
	br := bufio.NewReader(strings.NewReader(raw))
	req, err := http.ReadRequest(br)
	if err != nil {
		return diffResult{err: err}
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return diffResult{err: err}
	}
	if br.Buffered() > 0 {
		t.Fatalf("corpus error: net/http left %d bytes unread", br.Buffered())
	}
	r := diffResult{
		method:    req.Method,
		target:    req.RequestURI,
		proto:     req.Proto,
		headers:   map[string][]string{},
		host:      req.Host,
		keepAlive: !req.Close,
		chunked:   slices.Equal(req.TransferEncoding, []string{"chunked"}),
		length:    req.ContentLength,
		body:      string(body),
	}
	for k, vs := range req.Header {
		r.headers[strings.ToLower(k)] = vs
	}
	// net/http adds cache-control for "pragma: no-cache"
	if p := req.Header["Pragma"]; len(p) > 0 && p[0] == "no-cache" && len(req.Header["Cache-Control"]) == 1 &&
		req.Header["Cache-Control"][0] == "no-cache" && !strings.Contains(strings.ToLower(raw), "cache-control") {
		delete(r.headers, "cache-control")
	}
	return r
}

func oursDecode(t *testing.T, raw string) diffResult {
	rec := &recorder{}
	d := NewRequestDecoder(rec, Limits{})
	err := d.Feed([]byte(raw))
	if err == nil {
		err = d.EOF()
	}
	if err != nil {
		return diffResult{err: err}
	}
	if len(rec.heads) != 1 || len(rec.bodies) != 1 {
		t.Fatalf("corpus error: %d messages", len(rec.heads))
	}
	h := rec.heads[0].(*RequestHead)
	r := diffResult{
		method:    h.Method,
		target:    h.Path,
		proto:     h.Protocol,
		headers:   map[string][]string{},
		keepAlive: h.KeepAlive(),
		length:    -1,
		body:      string(rec.bodies[0]),
	}
	for _, f := range h.Headers {
		r.headers[f.Name] = append(r.headers[f.Name], f.Value)
	}
	return r
}

// compare reports how ours differs from the oracle's result, after undoing
// what net/http does to the header map: it removes Host (into req.Host) and
// Transfer-Encoding (into req.TransferEncoding), removes Content-Length
// from chunked requests, de-duplicates repeated Content-Length fields, and
// removes Trailer from chunked requests.
func compare(ours, oracle diffResult) string {
	var diffs []string
	add := func(what string, a, b any) {
		diffs = append(diffs, what+": ours "+strconv.Quote(toString(a))+", net/http "+strconv.Quote(toString(b)))
	}
	if ours.method != oracle.method {
		add("method", ours.method, oracle.method)
	}
	if ours.target != oracle.target {
		add("target", ours.target, oracle.target)
	}
	if ours.proto != oracle.proto {
		add("protocol", ours.proto, oracle.proto)
	}
	if ours.body != oracle.body {
		add("body", ours.body, oracle.body)
	}
	if ours.keepAlive != oracle.keepAlive {
		add("keep-alive", ours.keepAlive, oracle.keepAlive)
	}
	h := map[string][]string{}
	for k, v := range ours.headers {
		h[k] = v
	}
	if hv := h["host"]; len(hv) > 0 {
		absolute := !strings.HasPrefix(ours.target, "/") && ours.method != "CONNECT" && ours.target != "*"
		if !absolute && hv[0] != oracle.host {
			add("host", hv[0], oracle.host)
		}
		delete(h, "host")
	}
	_, chunked := h["transfer-encoding"]
	if chunked != oracle.chunked {
		add("chunked", chunked, oracle.chunked)
	}
	delete(h, "transfer-encoding")
	if chunked {
		delete(h, "content-length")
		delete(h, "trailer")
	} else if cl, ok := h["content-length"]; ok {
		if int64(len(ours.body)) != oracle.length {
			add("content-length", cl[0], oracle.length)
		}
		h["content-length"] = cl[:1] // net/http de-duplicates identical fields
	}
	for k, v := range h {
		if !slices.Equal(v, oracle.headers[k]) {
			add("field "+k, strings.Join(v, "|"), strings.Join(oracle.headers[k], "|"))
		}
	}
	for k, v := range oracle.headers {
		if _, ok := h[k]; !ok {
			add("field "+k, "", strings.Join(v, "|"))
		}
	}
	slices.Sort(diffs)
	return strings.Join(diffs, "\n")
}

func toString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case bool:
		return strconv.FormatBool(v)
	case int64:
		return strconv.FormatInt(v, 10)
	}
	return "?"
}

func TestDifferentialNetHTTP(t *testing.T) {
	accepted, rejected := 0, 0
	for _, c := range diffAgree {
		t.Run(c.name, func(t *testing.T) {
			ours, oracle := oursDecode(t, c.raw), oracleDecode(t, c.raw)
			switch {
			case ours.err != nil && oracle.err != nil:
				rejected++
			case ours.err != nil:
				t.Fatalf("we reject (%v), net/http accepts\n%q", ours.err, c.raw)
			case oracle.err != nil:
				t.Fatalf("we accept, net/http rejects (%v)\n%q", oracle.err, c.raw)
			default:
				accepted++
				if d := compare(ours, oracle); d != "" {
					t.Fatalf("results differ for %q:\n%s", c.raw, d)
				}
			}
		})
	}
	t.Logf("%d requests: %d accepted by both, %d rejected by both", len(diffAgree), accepted, rejected)
	if len(diffAgree)+len(diffStricter)+len(diffLenient) < 60 {
		t.Fatal("corpus too small")
	}

	for _, c := range diffStricter {
		t.Run("stricter/"+c.name, func(t *testing.T) {
			ours, oracle := oursDecode(t, c.raw), oracleDecode(t, c.raw)
			if oracle.err != nil {
				t.Fatalf("listed as accepted by net/http, but it rejects: %v", oracle.err)
			}
			if ours.err == nil {
				t.Fatalf("we must reject (%s)", c.reason)
			}
		})
	}
	for _, c := range diffLenient {
		t.Run("lenient/"+c.name, func(t *testing.T) {
			ours, oracle := oursDecode(t, c.raw), oracleDecode(t, c.raw)
			if oracle.err == nil {
				t.Fatal("listed as rejected by net/http, but it accepts")
			}
			if ours.err != nil {
				t.Fatalf("we must accept (%s): %v", c.reason, ours.err)
			}
		})
	}
}
