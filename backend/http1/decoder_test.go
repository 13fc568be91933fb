package http1

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

type decodeCase struct {
	name    string
	in      string
	want    string
	lim     Limits
	methods []string // response decoder: request methods pushed first
	noEOF   bool     // do not call EOF after the input
}

var requestCases = []decodeCase{
	{
		name: "simple GET",
		in:   "GET /index.html HTTP/1.1\r\nHost: example.com\r\n\r\n",
		want: lines("req GET /index.html HTTP/1.1 | host=example.com", "end"),
	},
	{
		name: "names lower-cased, values trimmed, order kept",
		in:   "GET / HTTP/1.1\r\nHOST: a\r\nX-Foo:\t bar baz \t\r\nAccept:*/*\r\nx-empty:\r\nX-Foo: second\r\n\r\n",
		want: lines("req GET / HTTP/1.1 | host=a | x-foo=bar baz | accept=*/* | x-empty= | x-foo=second", "end"),
	},
	{
		name: "obs-text in value and target",
		in:   "GET /caf\xc3\xa9 HTTP/1.1\r\nHost: a\r\nX-Name: caf\xc3\xa9\r\n\r\n",
		want: lines("req GET /caf\xc3\xa9 HTTP/1.1 | host=a | x-name=caf\xc3\xa9", "end"),
	},
	{
		name: "extension method, absolute-form, query with raw percent",
		in:   "PURGE http://example.com/a?b=%zz HTTP/1.1\r\nHost: example.com\r\n\r\n",
		want: lines("req PURGE http://example.com/a?b=%zz HTTP/1.1 | host=example.com", "end"),
	},
	{
		name: "asterisk-form",
		in:   "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
		want: lines("req OPTIONS * HTTP/1.1 | host=a", "end"),
	},
	{
		name: "POST with content-length",
		in:   "POST /submit HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello world",
		want: lines("req POST /submit HTTP/1.1 | host=a | content-length=11", `data "hello world"`, "end"),
	},
	{
		name: "content-length zero",
		in:   "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n",
		want: lines("req POST / HTTP/1.1 | host=a | content-length=0", "end"),
	},
	{
		name: "identical duplicate content-length",
		in:   "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
		want: lines("req POST / HTTP/1.1 | host=a | content-length=3 | content-length=3", `data "abc"`, "end"),
	},
	{
		name: "content-length list of identical values",
		in:   "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3,3\r\n\r\nabc",
		want: lines("req POST / HTTP/1.1 | host=a | content-length=3, 3,3", `data "abc"`, "end"),
	},
	{
		name: "chunked with extensions and trailers",
		in: "POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" +
			"5;name=value;quoted=\"a b\"\r\nhello\r\n" +
			"6 ; ext\r\n world\r\n" +
			"A\r\n0123456789\r\n" +
			"0;last\r\nX-Checksum: abc\r\nX-Other: 1\r\n\r\n",
		want: lines("req POST /up HTTP/1.1 | host=a | transfer-encoding=chunked", `data "hello world0123456789"`, "end"),
	},
	{
		name: "chunked, upper-case coding and hex, trailing whitespace after size",
		in: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: CHUNKED\r\n\r\n" +
			"00000000000000B \r\nhello world\r\n0\r\n\r\n",
		want: lines("req POST / HTTP/1.1 | host=a | transfer-encoding=CHUNKED", `data "hello world"`, "end"),
	},
	{
		name: "pipelined requests in one feed",
		in: "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n" +
			"POST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi" +
			"PUT /3 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nyo\r\n0\r\n\r\n" +
			"DELETE /4 HTTP/1.0\r\n\r\n",
		want: lines(
			"req GET /1 HTTP/1.1 | host=a", "end",
			"req POST /2 HTTP/1.1 | host=a | content-length=2", `data "hi"`, "end",
			"req PUT /3 HTTP/1.1 | host=a | transfer-encoding=chunked", `data "yo"`, "end",
			"req DELETE /4 HTTP/1.0", "end"),
	},
	{
		name: "leading empty lines are ignored",
		in:   "\r\n\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\n",
		want: lines("req GET / HTTP/1.1 | host=a", "end", "req GET /b HTTP/1.1 | host=a", "end"),
	},
	{
		name: "bare LF line endings in the head",
		in:   "GET / HTTP/1.1\nHost: a\nX: y\r\n\n",
		want: lines("req GET / HTTP/1.1 | host=a | x=y", "end"),
	},
	{
		name: "HTTP/1.0 needs no host",
		in:   "GET / HTTP/1.0\r\n\r\n",
		want: lines("req GET / HTTP/1.0", "end"),
	},
	{
		name: "CONNECT authority-form",
		in:   "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
		want: lines("req CONNECT example.com:443 HTTP/1.1 | host=example.com:443", "end"),
	},
	{
		name: "clean EOF between messages",
		in:   "GET / HTTP/1.1\r\nHost: a\r\n\r\n\r\n",
		want: lines("req GET / HTTP/1.1 | host=a", "end"),
	},

	// truncation
	{name: "EOF inside head", in: "GET / HTTP/1.1\r\nHost: a\r\n", want: "err 400 unexpected EOF in message head"},
	{
		name: "EOF inside body",
		in:   "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nabc",
		want: lines("req POST / HTTP/1.1 | host=a | content-length=5", `data "abc"`, "err 400 unexpected EOF in message body"),
	},
	{
		name: "EOF inside chunked body",
		in:   "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n",
		want: lines("req POST / HTTP/1.1 | host=a | transfer-encoding=chunked", `data "abc"`, "err 400 unexpected EOF in message body"),
	},
	{
		name: "EOF inside trailers",
		in:   "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: y\r\n",
		want: lines("req POST / HTTP/1.1 | host=a | transfer-encoding=chunked", "err 400 unexpected EOF in message body"),
	},

	// request line
	{name: "lower-case version", in: "GET / http/1.1\r\nHost: a\r\n\r\n", want: "err 400 malformed HTTP version"},
	{name: "HTTP/1.2", in: "GET / HTTP/1.2\r\nHost: a\r\n\r\n", want: "err 505 HTTP version not supported"},
	{name: "HTTP/2.0", in: "GET / HTTP/2.0\r\nHost: a\r\n\r\n", want: "err 505 HTTP version not supported"},
	{name: "HTTP/0.9 style", in: "GET /\r\n\r\n", want: "err 400 malformed request line"},
	{name: "version with trailing space", in: "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", want: "err 400 malformed HTTP version"},
	{name: "double space", in: "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", want: "err 400 invalid request target"},
	{name: "method not a token", in: "G(T / HTTP/1.1\r\nHost: a\r\n\r\n", want: "err 400 malformed request line"},
	{name: "tab separator", in: "GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", want: "err 400 malformed request line"},
	{name: "target with control char", in: "GET /a\x01b HTTP/1.1\r\nHost: a\r\n\r\n", want: "err 400 invalid request target"},
	{name: "target with DEL", in: "GET /a\x7f HTTP/1.1\r\nHost: a\r\n\r\n", want: "err 400 invalid request target"},
	{name: "target not in a known form", in: "GET index.html HTTP/1.1\r\nHost: a\r\n\r\n", want: "err 400 invalid request target"},
	{
		name: "absolute-form with userinfo, port, IPv6 and opaque targets",
		in: "GET http://u:p@h.example:8080/x HTTP/1.1\r\nHost: a\r\n\r\n" +
			"GET http://[::1]/ HTTP/1.1\r\nHost: a\r\n\r\n" +
			"GET urn:%zz HTTP/1.1\r\nHost: a\r\n\r\n",
		want: lines("req GET http://u:p@h.example:8080/x HTTP/1.1 | host=a", "end",
			"req GET http://[::1]/ HTTP/1.1 | host=a", "end",
			"req GET urn:%zz HTTP/1.1 | host=a", "end"),
	},
	{name: "absolute-form with bad host", in: "GET http://exa#mple/ HTTP/1.1\r\nHost: a\r\n\r\n", want: "err 400 invalid request target"},
	{name: "absolute-form with bad port", in: "GET http://example:8o/ HTTP/1.1\r\nHost: a\r\n\r\n", want: "err 400 invalid request target"},
	{name: "absolute-form with bad escape in host", in: "GET http://a%zz/ HTTP/1.1\r\nHost: a\r\n\r\n", want: "err 400 invalid request target"},
	{name: "CONNECT without port", in: "CONNECT example.com HTTP/1.1\r\nHost: example.com\r\n\r\n", want: "err 400 invalid request target"},
	{name: "CONNECT with a path", in: "CONNECT /rpc HTTP/1.1\r\nHost: a\r\n\r\n", want: "err 400 invalid request target"},
	{name: "CONNECT to IPv6", in: "CONNECT [2001:db8::1]:443 HTTP/1.1\r\nHost: [2001:db8::1]:443\r\n\r\n", want: lines("req CONNECT [2001:db8::1]:443 HTTP/1.1 | host=[2001:db8::1]:443", "end")},
	{name: "bad percent escape in path", in: "GET /a%2 HTTP/1.1\r\nHost: a\r\n\r\n", want: "err 400 invalid request target"},
	{name: "bare CR in request line", in: "GET /\r HTTP/1.1\r\nHost: a\r\n\r\n", want: "err 400 invalid request target"},
	{name: "CR CR LF", in: "GET / HTTP/1.1\r\r\nHost: a\r\n\r\n", want: "err 400 malformed HTTP version"},
	{name: "bare CR before request line", in: "\rGET / HTTP/1.1\r\nHost: a\r\n\r\n", want: "err 400 bare CR before request line"},
	{
		name: "request line too long",
		in:   "GET /" + strings.Repeat("a", 100) + " HTTP/1.1\r\nHost: a\r\n\r\n",
		lim:  Limits{MaxLineSize: 64},
		want: "err 414 request line too long",
	},

	// header fields
	{name: "obs-fold", in: "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n", want: "err 400 obsolete line folding"},
	{name: "obs-fold on first field", in: "GET / HTTP/1.1\r\n X: a\r\nHost: a\r\n\r\n", want: "err 400 obsolete line folding"},
	{name: "space before colon", in: "GET / HTTP/1.1\r\nHost : a\r\n\r\n", want: "err 400 whitespace between header name and colon"},
	{name: "tab before colon", in: "GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", want: "err 400 whitespace between header name and colon"},
	{name: "invalid name char", in: "GET / HTTP/1.1\r\nHost: a\r\nX(y): z\r\n\r\n", want: "err 400 invalid character in header name"},
	{name: "empty name", in: "GET / HTTP/1.1\r\nHost: a\r\n: z\r\n\r\n", want: "err 400 empty header name"},
	{name: "no colon", in: "GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", want: "err 400 header line without colon"},
	{name: "NUL in value", in: "GET / HTTP/1.1\r\nHost: a\r\nX: a\x00b\r\n\r\n", want: "err 400 invalid character in header value"},
	{name: "control char in value", in: "GET / HTTP/1.1\r\nHost: a\r\nX: a\x1bb\r\n\r\n", want: "err 400 invalid character in header value"},
	{name: "bare CR in value", in: "GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n", want: "err 400 bare CR in header value"},
	{name: "bare CR in name", in: "GET / HTTP/1.1\r\nHost: a\r\nX\r: b\r\n\r\n", want: "err 400 bare CR in header name"},
	{name: "bare CR as terminator", in: "GET / HTTP/1.1\r\nHost: a\r\r\n\r\n", want: "err 400 bare CR in header value"},
	{name: "missing host", in: "GET / HTTP/1.1\r\nX: y\r\n\r\n", want: "err 400 missing host header"},
	{name: "two hosts", in: "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", want: "err 400 multiple host headers"},
	{name: "two hosts in HTTP/1.0", in: "GET / HTTP/1.0\r\nHost: a\r\nhost: a\r\n\r\n", want: "err 400 multiple host headers"},
	{
		name: "header line too long",
		in:   "GET / HTTP/1.1\r\nHost: a\r\nX: " + strings.Repeat("v", 100) + "\r\n\r\n",
		lim:  Limits{MaxLineSize: 64},
		want: "err 431 header line too long",
	},
	{
		name: "too many headers",
		in:   "GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n",
		lim:  Limits{MaxHeaderCount: 3},
		want: "err 431 too many header fields",
	},
	{
		name: "exactly MaxHeaderCount headers",
		in:   "GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\n\r\n",
		lim:  Limits{MaxHeaderCount: 3},
		want: lines("req GET / HTTP/1.1 | host=a | a=1 | b=2", "end"),
	},
	{
		name: "head too large",
		in:   "GET / HTTP/1.1\r\nHost: a\r\nA: " + strings.Repeat("1", 40) + "\r\nB: " + strings.Repeat("2", 40) + "\r\n\r\n",
		lim:  Limits{MaxHeaderSize: 80},
		want: "err 431 message head too large",
	},
	{
		name: "head exactly MaxHeaderSize",
		in:   "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
		lim:  Limits{MaxHeaderSize: 27},
		want: lines("req GET / HTTP/1.1 | host=a", "end"),
	},

	// framing
	{
		name: "content-length and transfer-encoding",
		in:   "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
		want: "err 400 both content-length and transfer-encoding",
	},
	{
		name: "transfer-encoding and content-length",
		in:   "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n",
		want: "err 400 both content-length and transfer-encoding",
	},
	{name: "differing content-length", in: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", want: "err 400 conflicting content-length values"},
	{name: "differing content-length list", in: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\n", want: "err 400 invalid content-length"},
	{name: "signed content-length", in: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n", want: "err 400 invalid content-length"},
	{name: "negative content-length", in: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", want: "err 400 invalid content-length"},
	{name: "hex content-length", in: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x5\r\n\r\n", want: "err 400 invalid content-length"},
	{name: "empty content-length", in: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \r\n\r\n", want: "err 400 invalid content-length"},
	{name: "empty list element", in: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5,\r\n\r\n", want: "err 400 invalid content-length"},
	{name: "content-length with inner space", in: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 2\r\n\r\n", want: "err 400 invalid content-length"},
	{name: "overflowing content-length", in: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9223372036854775808\r\n\r\n", want: "err 400 invalid content-length"},
	{
		name: "body over MaxBodySize",
		in:   "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello world",
		lim:  Limits{MaxBodySize: 10},
		want: "err 413 body too large",
	},
	{
		name: "chunked body over MaxBodySize",
		in:   "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nhello \r\n5\r\nworld\r\n0\r\n\r\n",
		lim:  Limits{MaxBodySize: 10},
		want: lines("req POST / HTTP/1.1 | host=a | transfer-encoding=chunked", `data "hello "`, "err 413 body too large"),
	},
	{name: "unknown transfer coding", in: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: foo\r\n\r\n", want: "err 501 unsupported transfer coding"},
	{name: "gzip then chunked", in: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", want: "err 501 unsupported transfer coding"},
	{name: "chunked not last", in: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", want: "err 400 chunked is not the final transfer coding"},
	{name: "chunked not last across fields", in: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n", want: "err 400 chunked is not the final transfer coding"},
	{name: "chunked twice", in: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", want: "err 400 chunked applied more than once"},
	{name: "empty transfer-encoding", in: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \r\n\r\n", want: "err 400 invalid transfer-encoding"},
	{name: "chunked with parameter", in: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked;q=1\r\n\r\n", want: "err 400 invalid transfer-encoding"},
	{name: "transfer-encoding in HTTP/1.0", in: "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", want: "err 400 transfer-encoding in an HTTP/1.0 request"},

	// chunked framing
	{name: "non-hex chunk size", in: chunkedReq("zz\r\n"), want: chunkedStart("err 400 invalid chunk size")},
	{name: "empty chunk size", in: chunkedReq("\r\nabc\r\n"), want: chunkedStart("err 400 invalid chunk size")},
	{name: "signed chunk size", in: chunkedReq("+5\r\nhello\r\n"), want: chunkedStart("err 400 invalid chunk size")},
	{name: "0x chunk size", in: chunkedReq("0x5\r\nhello\r\n"), want: chunkedStart("err 400 invalid chunk size")},
	{name: "chunk size overflow", in: chunkedReq("10000000000000000\r\n"), want: chunkedStart("err 400 chunk size too large")},
	{name: "chunk size over int64", in: chunkedReq("8000000000000000\r\n"), want: chunkedStart("err 400 chunk size too large")},
	{name: "bare LF after chunk size", in: chunkedReq("5\nhello\r\n0\r\n\r\n"), want: chunkedStart("err 400 invalid chunk size")},
	{name: "bare CR after chunk size", in: chunkedReq("5\rhello\r\n0\r\n\r\n"), want: chunkedStart("err 400 bare CR in chunk size line")},
	{name: "garbage after chunk size", in: chunkedReq("5 x\r\nhello\r\n0\r\n\r\n"), want: chunkedStart("err 400 invalid chunk size")},
	{name: "control char in chunk extension", in: chunkedReq("5;a\x01\r\nhello\r\n0\r\n\r\n"), want: chunkedStart("err 400 invalid chunk extension")},
	{name: "missing CRLF after chunk data", in: chunkedReq("5\r\nhelloX\r\n0\r\n\r\n"), want: chunkedStart(`data "hello"`, "err 400 missing CRLF after chunk data")},
	{name: "LF only after chunk data", in: chunkedReq("5\r\nhello\n0\r\n\r\n"), want: chunkedStart(`data "hello"`, "err 400 missing CRLF after chunk data")},
	{name: "too long chunk data", in: chunkedReq("3\r\nhello\r\n0\r\n\r\n"), want: chunkedStart(`data "hel"`, "err 400 missing CRLF after chunk data")},
	{
		name: "chunk line too long",
		in:   chunkedReq("5;" + strings.Repeat("x", 40) + "\r\nhello\r\n0\r\n\r\n"),
		lim:  Limits{MaxChunkLineSize: 32},
		want: chunkedStart("err 400 chunk size line too long"),
	},
	{name: "obs-fold in trailer", in: chunkedReq("0\r\nX: a\r\n b\r\n\r\n"), want: chunkedStart("err 400 obsolete line folding in trailer")},
	{name: "trailer without colon", in: chunkedReq("0\r\nX\r\n\r\n"), want: chunkedStart("err 400 invalid trailer line")},
	{name: "bare LF in trailer", in: chunkedReq("0\r\nX: y\n\r\n"), want: chunkedStart("err 400 invalid character in trailer value")},
	{name: "bare LF ending trailers", in: chunkedReq("0\r\n\n"), want: chunkedStart("err 400 invalid trailer line")},
	{
		name: "too many trailers",
		in:   chunkedReq("0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"),
		lim:  Limits{MaxHeaderCount: 2},
		want: chunkedStart("err 431 too many trailer fields"),
	},
}

func chunkedReq(body string) string {
	return "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" + body
}

func chunkedStart(rest ...string) string {
	return lines(append([]string{"req POST / HTTP/1.1 | host=a | transfer-encoding=chunked"}, rest...)...)
}

var responseCases = []decodeCase{
	{
		name: "200 with content-length",
		in:   "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello",
		want: lines("res HTTP/1.1 200 OK | content-type=text/plain | content-length=5", `data "hello"`, "end"),
	},
	{
		name: "custom and empty reason phrases",
		in:   "HTTP/1.1 200 Fine Thanks\r\nContent-Length: 0\r\n\r\nHTTP/1.1 404 \r\nContent-Length: 0\r\n\r\nHTTP/1.1 299\r\nContent-Length: 0\r\n\r\n",
		want: lines("res HTTP/1.1 200 Fine Thanks | content-length=0", "end", "res HTTP/1.1 404  | content-length=0", "end", "res HTTP/1.1 299  | content-length=0", "end"),
	},
	{
		name: "chunked with trailers",
		in:   "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n0\r\nX-T: 1\r\n\r\n",
		want: lines("res HTTP/1.1 200 OK | transfer-encoding=chunked", `data "abc"`, "end"),
	},
	{
		name: "read until EOF",
		in:   "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of this until close",
		want: lines("res HTTP/1.1 200 OK | content-type=text/plain", `data "all of this until close"`, "end"),
	},
	{
		name: "HTTP/1.0 read until EOF, empty body",
		in:   "HTTP/1.0 200 OK\r\n\r\n",
		want: lines("res HTTP/1.0 200 OK", "end"),
	},
	{
		name: "non-chunked final coding reads until close",
		in:   "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n0\r\n\r\nraw",
		want: lines("res HTTP/1.1 200 OK | transfer-encoding=gzip", `data "0\r\n\r\nraw"`, "end"),
	},
	{
		name:    "HEAD response has no body",
		methods: []string{"HEAD", "GET"},
		in:      "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
		want:    lines("res HTTP/1.1 200 OK | content-length=100", "end", "res HTTP/1.1 200 OK | content-length=2", `data "ok"`, "end"),
	},
	{
		name:    "HEAD response with chunked has no body",
		methods: []string{"HEAD"},
		in:      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
		want:    lines("res HTTP/1.1 200 OK | transfer-encoding=chunked", "end"),
	},
	{
		name: "204 and 304 have no body",
		in:   "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\nHTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n",
		want: lines("res HTTP/1.1 204 No Content | content-length=10", "end", "res HTTP/1.1 304 Not Modified | content-length=10", "end"),
	},
	{
		name:    "100-continue is an interim message",
		methods: []string{"POST", "HEAD"},
		in:      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n",
		want: lines("res HTTP/1.1 100 Continue", "end", "res HTTP/1.1 103 Early Hints | link=</a>", "end",
			"res HTTP/1.1 201 Created | content-length=2", `data "ok"`, "end",
			"res HTTP/1.1 200 OK | content-length=9", "end"),
	},
	{
		name: "101 switches to a tunnel",
		in:   "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x05hello HTTP/1.1 200 OK\r\n",
		want: lines("res HTTP/1.1 101 Switching Protocols | upgrade=websocket | connection=Upgrade", "end", `tunnel "\x81\x05hello HTTP/1.1 200 OK\r\n"`),
	},
	{
		name:    "2xx to CONNECT switches to a tunnel",
		methods: []string{"CONNECT"},
		in:      "HTTP/1.1 200 Connection Established\r\nContent-Length: 5\r\n\r\n\x16\x03\x01",
		want:    lines("res HTTP/1.1 200 Connection Established | content-length=5", "end", `tunnel "\x16\x03\x01"`),
	},
	{
		name:    "non-2xx to CONNECT has a body",
		methods: []string{"CONNECT"},
		in:      "HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 4\r\n\r\ndenyHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
		want: lines("res HTTP/1.1 407 Proxy Authentication Required | content-length=4", `data "deny"`, "end",
			"res HTTP/1.1 200 OK | content-length=0", "end"),
	},
	{name: "content-length and transfer-encoding", in: "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", want: "err 400 both content-length and transfer-encoding"},
	{name: "transfer-encoding in HTTP/1.0", in: "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", want: "err 400 transfer-encoding in an HTTP/1.0 response"},
	{name: "bad content-length", in: "HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n", want: "err 400 invalid content-length"},
	{name: "bad status code", in: "HTTP/1.1 2x0 OK\r\n\r\n", want: "err 400 malformed status code"},
	{name: "status code under 100", in: "HTTP/1.1 099 OK\r\n\r\n", want: "err 400 malformed status code"},
	{name: "short status line", in: "HTTP/1.1 20\r\n\r\n", want: "err 400 malformed status line"},
	{name: "no space after code", in: "HTTP/1.1 200OK\r\n\r\n", want: "err 400 malformed status line"},
	{name: "HTTP/2.0 status line", in: "HTTP/2.0 200 OK\r\n\r\n", want: "err 505 HTTP version not supported"},
	{name: "empty status line", in: "\r\nHTTP/1.1 200 OK\r\n\r\n", want: "err 400 empty status line"},
	{name: "control char in reason", in: "HTTP/1.1 200 O\x01K\r\n\r\n", want: "err 400 invalid character in reason phrase"},
	{
		name: "EOF inside content-length body",
		in:   "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel",
		want: lines("res HTTP/1.1 200 OK | content-length=5", `data "hel"`, "err 400 unexpected EOF in message body"),
	},
	{
		name: "until-close body over MaxBodySize",
		in:   "HTTP/1.1 200 OK\r\n\r\nhello world",
		lim:  Limits{MaxBodySize: 5},
		want: lines("res HTTP/1.1 200 OK", `data "hello"`, "err 413 body too large"),
	},
}

// every split of the input must give the same trace as feeding it whole
func checkSplits(t *testing.T, resp bool, tc decodeCase, whole string) {
	t.Helper()
	in := []byte(tc.in)
	for k := 1; k < len(in); k++ {
		got, _ := decode(resp, tc.lim, tc.methods, in, []int{k}, !tc.noEOF)
		if got != whole {
			t.Fatalf("split at %d:\n%s\nwhole:\n%s", k, got, whole)
		}
	}
	cuts := make([]int, 0, len(in))
	for k := 1; k < len(in); k++ {
		cuts = append(cuts, k)
	}
	if got, _ := decode(resp, tc.lim, tc.methods, in, cuts, !tc.noEOF); got != whole {
		t.Fatalf("byte by byte:\n%s\nwhole:\n%s", got, whole)
	}
}

func runDecodeCases(t *testing.T, resp bool, cases []decodeCase) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := decode(resp, tc.lim, tc.methods, []byte(tc.in), nil, !tc.noEOF)
			if got != tc.want {
				t.Fatalf("input %q\ngot:\n%s\nwant:\n%s", tc.in, got, tc.want)
			}
			checkSplits(t, resp, tc, got)
		})
	}
}

func TestRequestDecoder(t *testing.T)  { runDecodeCases(t, false, requestCases) }
func TestResponseDecoder(t *testing.T) { runDecodeCases(t, true, responseCases) }

func TestDecoderStaysFailed(t *testing.T) {
	r := &recorder{}
	d := NewRequestDecoder(r, Limits{})
	err := d.Feed([]byte("GET / HTTP/1.1\r\nHost : a\r\n\r\n"))
	var e *Error
	if !errors.As(err, &e) || e.Status != 400 {
		t.Fatalf("want 400 error, got %v", err)
	}
	if err2 := d.Feed([]byte("GET / HTTP/1.1\r\nHost: a\r\n\r\n")); err2 != err {
		t.Fatalf("later Feed returned %v, want the first error", err2)
	}
	if err3 := d.EOF(); err3 != err {
		t.Fatalf("EOF returned %v, want the first error", err3)
	}
	if len(r.heads) != 0 {
		t.Fatalf("no message expected, got %v", r.lines)
	}
	if e.Error() != "http1: 400 whitespace between header name and colon" {
		t.Fatalf("Error() = %q", e.Error())
	}
}

func TestFeedAfterEOF(t *testing.T) {
	d := NewRequestDecoder(&recorder{}, Limits{})
	if err := d.EOF(); err != nil {
		t.Fatal(err)
	}
	if err := d.Feed([]byte("GET")); err == nil {
		t.Fatal("Feed after EOF must fail")
	}
}

func TestUpgradeRequestHoldsBytes(t *testing.T) {
	in := "GET /chat HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x85frame"

	// accepted: StartTunnel releases the held bytes and tunnels the rest
	r := &recorder{}
	d := NewRequestDecoder(r, Limits{})
	if err := d.Feed([]byte(in)); err != nil {
		t.Fatal(err)
	}
	if !d.Holding() || d.Tunneled() {
		t.Fatalf("want holding, got holding=%v tunneled=%v", d.Holding(), d.Tunneled())
	}
	if h := r.heads[0].(*RequestHead); !h.IsUpgrade() {
		t.Fatal("IsUpgrade() = false")
	}
	d.StartTunnel()
	if !d.Tunneled() {
		t.Fatal("not tunneled after StartTunnel")
	}
	if err := d.Feed([]byte("more")); err != nil {
		t.Fatal(err)
	}
	want := lines("req GET /chat HTTP/1.1 | host=a | upgrade=websocket | connection=Upgrade", "end", `tunnel "\x81\x85framemore"`)
	if got := r.String(); got != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
	if err := d.EOF(); err != nil {
		t.Fatal(err)
	}

	// refused: Resume parses the held bytes as HTTP again
	in2 := "GET /chat HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\n\r\nGET /next HTTP/1.1\r\nHost: a\r\n\r\n"
	r = &recorder{}
	d = NewRequestDecoder(r, Limits{})
	if err := d.Feed([]byte(in2)); err != nil {
		t.Fatal(err)
	}
	if len(r.heads) != 1 || !d.Holding() {
		t.Fatalf("want one message and holding, got %v", r.lines)
	}
	if err := d.Resume(); err != nil {
		t.Fatal(err)
	}
	want = lines("req GET /chat HTTP/1.1 | host=a | upgrade=h2c | connection=Upgrade, HTTP2-Settings", "end", "req GET /next HTTP/1.1 | host=a", "end")
	if got := r.String(); got != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
	if d.Holding() {
		t.Fatal("still holding after Resume")
	}
}

func TestConnectTunnelFromCallback(t *testing.T) {
	// the caller accepts the CONNECT synchronously in OnMessageStart
	r := &recorder{}
	var d *Decoder
	r.onStart = func(any) { d.StartTunnel() }
	d = NewRequestDecoder(r, Limits{})
	in := "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n\x16\x03\x01hello"
	for _, c := range []byte(in) { // byte by byte
		if err := d.Feed([]byte{c}); err != nil {
			t.Fatal(err)
		}
	}
	want := lines("req CONNECT a:443 HTTP/1.1 | host=a:443", "end", `tunnel "\x16\x03\x01hello"`)
	if got := r.String(); got != want || !d.Tunneled() {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}

	// or in OnMessageEnd; and Resume from OnMessageEnd keeps parsing HTTP
	r = &recorder{}
	r.onEnd = func() {
		if d.Holding() {
			if err := d.Resume(); err != nil {
				t.Error(err)
			}
		}
	}
	d = NewRequestDecoder(r, Limits{})
	in = "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"
	if err := d.Feed([]byte(in)); err != nil {
		t.Fatal(err)
	}
	want = lines("req CONNECT a:443 HTTP/1.1 | host=a:443", "end", "req GET / HTTP/1.1 | host=a", "end")
	if got := r.String(); got != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestHeldBytesLimit(t *testing.T) {
	d := NewRequestDecoder(&recorder{}, Limits{MaxHeaderSize: 100})
	if err := d.Feed([]byte("CONNECT a:443 HTTP/1.1\r\nHost: a\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	if err := d.Feed(make([]byte, 101)); err == nil {
		t.Fatal("want an error for too many held bytes")
	}
}

func TestResponseMethodQueue(t *testing.T) {
	// pipelined requests: push 10, answer 5, repeatedly, so that the FIFO
	// never drains and has to compact itself
	r := &recorder{}
	d := NewResponseDecoder(r, Limits{})
	var sent []string
	answered := 0
	for round := 0; round < 40; round++ {
		for k := 0; k < 10; k++ {
			m := "GET"
			if len(sent)%3 == 0 {
				m = "HEAD"
			}
			sent = append(sent, m)
			d.PushRequestMethod(m)
		}
		for k := 0; k < 5; k++ {
			if err := d.Feed([]byte("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n")); err != nil {
				t.Fatal(err)
			}
			if sent[answered] == "GET" {
				if err := d.Feed([]byte("x")); err != nil {
					t.Fatal(err)
				}
			}
			if len(r.bodies) != answered+1 {
				t.Fatalf("response %d (%s) not complete", answered, sent[answered])
			}
			if want := map[string]string{"GET": "x", "HEAD": ""}[sent[answered]]; string(r.bodies[answered]) != want {
				t.Fatalf("response %d body %q", answered, r.bodies[answered])
			}
			answered++
		}
	}
	if len(d.methods)-d.mhead != len(sent)-answered {
		t.Fatalf("queue holds %d, want %d", len(d.methods)-d.mhead, len(sent)-answered)
	}
	if cap(d.methods) > 4*(len(sent)-answered) {
		t.Fatalf("queue did not compact: cap %d", cap(d.methods))
	}
}

func TestKeepAlive(t *testing.T) {
	cases := []struct {
		proto, conn string
		want        bool
	}{
		{"HTTP/1.1", "", true},
		{"", "", true},
		{"HTTP/1.1", "close", false},
		{"HTTP/1.1", "Close", false},
		{"HTTP/1.1", "keep-alive, close", false},
		{"HTTP/1.1", "upgrade", true},
		{"HTTP/1.1", "closed", true},
		{"HTTP/1.0", "", false},
		{"HTTP/1.0", "keep-alive", true},
		{"HTTP/1.0", "Keep-Alive", true},
		{"HTTP/1.0", "foo,  keep-alive ", true},
		{"HTTP/1.0", "keep-alive, close", false},
	}
	for _, c := range cases {
		var hs Headers
		if c.conn != "" {
			hs.Add("Connection", c.conn)
		}
		req := &RequestHead{Method: "GET", Path: "/", Protocol: c.proto, Headers: hs}
		res := &ResponseHead{Protocol: c.proto, Status: 200, Headers: hs}
		if got := req.KeepAlive(); got != c.want {
			t.Errorf("request %s connection=%q: KeepAlive()=%v", c.proto, c.conn, got)
		}
		if got := res.KeepAlive(); got != c.want {
			t.Errorf("response %s connection=%q: KeepAlive()=%v", c.proto, c.conn, got)
		}
	}
}

func TestRequestHelpers(t *testing.T) {
	_, r := decode(false, Limits{}, nil, []byte("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 0\r\n\r\n"+
		"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n"+
		"GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n"), nil, true)
	if len(r.heads) != 3 {
		t.Fatalf("got %d messages", len(r.heads))
	}
	h0, h1, h2 := r.heads[0].(*RequestHead), r.heads[1].(*RequestHead), r.heads[2].(*RequestHead)
	if !h0.ExpectContinue() || h1.ExpectContinue() {
		t.Error("ExpectContinue")
	}
	if h0.IsUpgrade() || h1.IsUpgrade() || !h2.IsUpgrade() {
		t.Error("IsUpgrade: an upgrade field needs the upgrade connection option")
	}
	if !h0.KeepAlive() {
		t.Error("KeepAlive")
	}
}

func TestHeaders(t *testing.T) {
	var hs Headers
	hs.Add("Content-Type", "text/plain")
	hs.Add("x-a", "1")
	hs.Add("X-A", "2")
	hs.Add("Set-Cookie", "a=1")
	if v, ok := hs.Get("content-type"); !ok || v != "text/plain" {
		t.Fatalf("Get = %q %v", v, ok)
	}
	if _, ok := hs.Get("missing"); ok {
		t.Fatal("Get(missing) found")
	}
	if vs := hs.Values("X-a"); len(vs) != 2 || vs[0] != "1" || vs[1] != "2" {
		t.Fatalf("Values = %q", vs)
	}
	hs.Set("x-A", "3")
	if len(hs) != 3 || hs[1] != (Header{"x-a", "3"}) || hs[2].Name != "Set-Cookie" {
		t.Fatalf("Set: %v", hs)
	}
	hs.Set("new", "v")
	if len(hs) != 4 || hs[3] != (Header{"new", "v"}) {
		t.Fatalf("Set new: %v", hs)
	}
	hs.Del("CONTENT-TYPE")
	if len(hs) != 3 || hs.Has("content-type") || hs[0].Name != "x-a" {
		t.Fatalf("Del: %v", hs)
	}
	hs.Add("Connection", "keep-alive,Upgrade")
	if !hs.HasToken("connection", "upgrade") || hs.HasToken("connection", "close") {
		t.Fatal("HasToken")
	}
}

func TestStatusText(t *testing.T) {
	for code, want := range map[int]string{
		100: "Continue", 200: "OK", 204: "No Content", 301: "Moved Permanently", 304: "Not Modified",
		400: "Bad Request", 404: "Not Found", 413: "Payload Too Large", 431: "Request Header Fields Too Large",
		500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout",
		505: "HTTP Version Not Supported", 299: "", 0: "", 999: "",
	} {
		if got := StatusText(code); got != want {
			t.Errorf("StatusText(%d) = %q, want %q", code, got, want)
		}
	}
}

// The head's strings must not alias the fed buffer.
func TestHeadDoesNotAliasInput(t *testing.T) {
	in := []byte("GET /path HTTP/1.1\r\nHost: a\r\nX-Key: value\r\n\r\n")
	r := &recorder{}
	d := NewRequestDecoder(r, Limits{})
	if err := d.Feed(in); err != nil {
		t.Fatal(err)
	}
	for i := range in {
		in[i] = 'X'
	}
	h := r.heads[0].(*RequestHead)
	if h.Path != "/path" || h.Headers[1].Value != "value" {
		t.Fatalf("head changed with the input: %+v", h)
	}
}

// The word-at-a-time check must agree with the byte table for every byte
// value at every position.
func TestInvalidValueByte(t *testing.T) {
	for n := 1; n <= 24; n++ {
		for pos := 0; pos < n; pos++ {
			for c := 0; c < 256; c++ {
				v := []byte(strings.Repeat("a\x80~ ", 6)[:n])
				v[pos] = byte(c)
				want := -1
				if !isValueChar[c] {
					want = pos
				}
				if got := invalidValueByte(v); got != want {
					t.Fatalf("len %d, byte %#x at %d: got %d, want %d", n, c, pos, got, want)
				}
			}
		}
	}
	if invalidValueByte(nil) != -1 {
		t.Fatal("empty value")
	}
}

func TestResponseStartTunnelFromCallback(t *testing.T) {
	// a caller that tunnels on its own after a response: the head that was
	// just parsed must not leak into the tunnel, however the input is split
	in := "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokraw bytes"
	want := lines("res HTTP/1.1 200 OK | content-length=2", `data "ok"`, "end", `tunnel "raw bytes"`)
	for k := 1; k < len(in); k++ {
		r := &recorder{}
		var d *Decoder
		r.onEnd = func() { d.StartTunnel() }
		d = NewResponseDecoder(r, Limits{})
		d.PushRequestMethod("GET")
		if d.PendingRequests() != 1 {
			t.Fatal("PendingRequests")
		}
		if err := d.Feed([]byte(in[:k])); err != nil {
			t.Fatal(err)
		}
		if err := d.Feed([]byte(in[k:])); err != nil {
			t.Fatal(err)
		}
		if got := r.String(); got != want || d.PendingRequests() != 0 {
			t.Fatalf("split at %d:\n%s", k, got)
		}
	}
}

// Heads decoded one after another share allocations, but each owns its
// header fields: adding fields to one (a proxy adding X-Forwarded-For) or
// setting them never shows in another.
func TestDecodedHeadsOwnTheirHeaders(t *testing.T) {
	r := &recorder{}
	d := NewRequestDecoder(r, Limits{})
	var in strings.Builder
	for i := range 40 {
		fmt.Fprintf(&in, "GET /%d HTTP/1.1\r\nHost: h%d\r\nX-N: %d\r\n\r\n", i, i, i)
	}
	if err := d.Feed([]byte(in.String())); err != nil {
		t.Fatal(err)
	}
	if len(r.heads) != 40 {
		t.Fatalf("decoded %d requests, want 40", len(r.heads))
	}
	for i, h := range r.heads {
		head := h.(*RequestHead)
		head.Headers.Add("x-forwarded-for", fmt.Sprint("10.0.0.", i))
		head.Headers.Add("x-extra", "a")
		head.Headers.Add("x-more", "b")
	}
	for i, h := range r.heads {
		head := h.(*RequestHead)
		want := Headers{
			{"host", fmt.Sprint("h", i)}, {"x-n", fmt.Sprint(i)},
			{"x-forwarded-for", fmt.Sprint("10.0.0.", i)}, {"x-extra", "a"}, {"x-more", "b"},
		}
		if head.Path != fmt.Sprint("/", i) || fmt.Sprint(head.Headers) != fmt.Sprint(want) {
			t.Fatalf("request %d: %s %v, want /%d %v", i, head.Path, head.Headers, i, want)
		}
	}
}
