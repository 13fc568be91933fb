package http1

import (
	"strings"
	"testing"
)

func TestAppendResponseHead(t *testing.T) {
	cases := []struct {
		name      string
		head      ResponseHead
		bodyLen   int
		keepAlive bool
		noBody    bool
		want      string
	}{
		{
			name:      "defaults",
			head:      ResponseHead{},
			bodyLen:   11,
			keepAlive: true,
			want:      "HTTP/1.1 200 OK\r\ncontent-length: 11\r\nconnection: keep-alive\r\n\r\n",
		},
		{
			name: "headers in order, framing fields replaced",
			head: ResponseHead{Status: 404, Headers: Headers{
				{"content-type", "text/html"},
				{"Content-Length", "999"},
				{"connection", "keep-alive"},
				{"Keep-Alive", "timeout=5"},
				{"transfer-encoding", "chunked"},
				{"set-cookie", "a=1"},
				{"set-cookie", "b=2"},
			}},
			bodyLen:   9,
			keepAlive: false,
			want: "HTTP/1.1 404 Not Found\r\ncontent-type: text/html\r\nset-cookie: a=1\r\nset-cookie: b=2\r\n" +
				"content-length: 9\r\nconnection: close\r\n\r\n",
		},
		{
			name:      "chunked",
			head:      ResponseHead{Protocol: "HTTP/1.1", Status: 502, Headers: Headers{{"server", "sluice"}}},
			bodyLen:   -1,
			keepAlive: true,
			want:      "HTTP/1.1 502 Bad Gateway\r\nserver: sluice\r\ntransfer-encoding: chunked\r\nconnection: keep-alive\r\n\r\n",
		},
		{
			name:      "custom reason, HTTP/1.0",
			head:      ResponseHead{Protocol: "HTTP/1.0", Status: 200, StatusText: "Fine"},
			bodyLen:   0,
			keepAlive: false,
			want:      "HTTP/1.0 200 Fine\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
		},
		{
			name:      "code without a standard phrase",
			head:      ResponseHead{Status: 299},
			bodyLen:   0,
			keepAlive: true,
			want:      "HTTP/1.1 299 \r\ncontent-length: 0\r\nconnection: keep-alive\r\n\r\n",
		},
		{
			name:      "unknown protocol written as HTTP/1.1",
			head:      ResponseHead{Protocol: "HTTP/2.0\r\nX: y", Status: 200},
			bodyLen:   0,
			keepAlive: true,
			want:      "HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: keep-alive\r\n\r\n",
		},
		{
			name:      "204 has no framing",
			head:      ResponseHead{Status: 204, Headers: Headers{{"content-length", "0"}, {"x", "y"}}},
			bodyLen:   0,
			keepAlive: true,
			want:      "HTTP/1.1 204 No Content\r\nx: y\r\nconnection: keep-alive\r\n\r\n",
		},
		{
			name:      "304 keeps the head's content-length",
			head:      ResponseHead{Status: 304, Headers: Headers{{"etag", `"abc"`}, {"content-length", "1234"}}},
			bodyLen:   0,
			keepAlive: true,
			want:      "HTTP/1.1 304 Not Modified\r\netag: \"abc\"\r\ncontent-length: 1234\r\nconnection: keep-alive\r\n\r\n",
		},
		{
			name:      "100 continue",
			head:      ResponseHead{Status: 100},
			bodyLen:   0,
			keepAlive: true,
			want:      "HTTP/1.1 100 Continue\r\n\r\n",
		},
		{
			name: "101 switching protocols",
			head: ResponseHead{Status: 101, Headers: Headers{
				{"upgrade", "websocket"}, {"connection", "Upgrade"}, {"sec-websocket-accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="},
			}},
			bodyLen:   0,
			keepAlive: true,
			want: "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n" +
				"sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
		},
		{
			name:      "upgrade advertisement in a 200 is dropped",
			head:      ResponseHead{Status: 200, Headers: Headers{{"upgrade", "h2c"}, {"connection", "Upgrade"}}},
			bodyLen:   2,
			keepAlive: true,
			want:      "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\n",
		},
		{
			name:      "HEAD response keeps content-length",
			head:      ResponseHead{Status: 200, Headers: Headers{{"content-type", "text/plain"}, {"content-length", "42"}, {"transfer-encoding", "chunked"}}},
			noBody:    true,
			keepAlive: true,
			want:      "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 42\r\nconnection: keep-alive\r\n\r\n",
		},
		{
			name:      "HEAD response without content-length",
			head:      ResponseHead{Status: 200},
			noBody:    true,
			keepAlive: false,
			want:      "HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n",
		},
		{
			name: "header injection is neutralised",
			head: ResponseHead{Status: 200, StatusText: "OK\r\nX-Evil: 1", Headers: Headers{
				{"x-a", "v\r\nSet-Cookie: evil=1"},
				{"x-b", "nul\x00lf\n"},
				{"bad name", "dropped"},
				{"x-c\r\nInjected", "dropped"},
				{"", "dropped"},
				{"x-tab", "a\tb"},
			}},
			bodyLen:   0,
			keepAlive: true,
			want: "HTTP/1.1 200 OK  X-Evil: 1\r\nx-a: v  Set-Cookie: evil=1\r\nx-b: nul lf \r\nx-tab: a\tb\r\n" +
				"content-length: 0\r\nconnection: keep-alive\r\n\r\n",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			prefix := []byte("prefix|")
			var got []byte
			if c.noBody {
				got = AppendResponseHeadNoBody(prefix, &c.head, c.keepAlive)
			} else {
				got = AppendResponseHead(prefix, &c.head, c.bodyLen, c.keepAlive)
			}
			if string(got) != "prefix|"+c.want {
				t.Fatalf("got  %q\nwant %q", got, "prefix|"+c.want)
			}
		})
	}
}

func TestAppendRequestHead(t *testing.T) {
	cases := []struct {
		name    string
		head    RequestHead
		bodyLen int
		want    string
	}{
		{
			name: "GET without body",
			head: RequestHead{Method: "GET", Path: "/path?q=1", Protocol: "HTTP/1.1", Headers: Headers{{"host", "example.com"}, {"accept", "*/*"}}},
			want: "GET /path?q=1 HTTP/1.1\r\nhost: example.com\r\naccept: */*\r\nconnection: keep-alive\r\n\r\n",
		},
		{
			name: "defaults",
			head: RequestHead{},
			want: "GET / HTTP/1.1\r\nconnection: keep-alive\r\n\r\n",
		},
		{
			name:    "HEAD with zero length",
			head:    RequestHead{Method: "HEAD", Path: "/", Headers: Headers{{"content-length", "10"}}},
			bodyLen: 0,
			want:    "HEAD / HTTP/1.1\r\nconnection: keep-alive\r\n\r\n",
		},
		{
			name:    "POST with zero length writes content-length",
			head:    RequestHead{Method: "POST", Path: "/"},
			bodyLen: 0,
			want:    "POST / HTTP/1.1\r\ncontent-length: 0\r\nconnection: keep-alive\r\n\r\n",
		},
		{
			name: "POST with body, framing fields replaced, close kept",
			head: RequestHead{Method: "POST", Path: "/up", Protocol: "HTTP/1.1", Headers: Headers{
				{"host", "a"}, {"Transfer-Encoding", "chunked"}, {"Connection", "close"}, {"keep-alive", "x"}, {"content-type", "application/json"},
			}},
			bodyLen: 27,
			want:    "POST /up HTTP/1.1\r\nhost: a\r\ncontent-type: application/json\r\ncontent-length: 27\r\nconnection: close\r\n\r\n",
		},
		{
			name:    "chunked PUT over HTTP/1.0 protocol field",
			head:    RequestHead{Method: "PUT", Path: "/x", Protocol: "HTTP/1.0", Headers: Headers{{"host", "a"}}},
			bodyLen: -1,
			want:    "PUT /x HTTP/1.0\r\nhost: a\r\ntransfer-encoding: chunked\r\nconnection: keep-alive\r\n\r\n",
		},
		{
			name:    "GET with a body still gets a length",
			head:    RequestHead{Method: "GET", Path: "/"},
			bodyLen: 3,
			want:    "GET / HTTP/1.1\r\ncontent-length: 3\r\nconnection: keep-alive\r\n\r\n",
		},
		{
			name: "websocket upgrade",
			head: RequestHead{Method: "GET", Path: "/chat", Headers: Headers{
				{"host", "a"}, {"upgrade", "websocket"}, {"connection", "Upgrade"}, {"sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="},
			}},
			want: "GET /chat HTTP/1.1\r\nhost: a\r\nupgrade: websocket\r\nconnection: upgrade\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
		},
		{
			name: "request line injection is neutralised",
			head: RequestHead{Method: "GET /x HTTP/1.1\r\n", Path: "/a b\r\nX: y", Protocol: "HTTP/1.1\r\nEvil: 1", Headers: Headers{{"host", "a\nb"}}},
			want: "GETxHTTP1.1 /a%20b%0D%0AX:%20y HTTP/1.1\r\nhost: a b\r\ncontent-length: 0\r\nconnection: keep-alive\r\n\r\n",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := AppendRequestHead(nil, &c.head, c.bodyLen)
			if string(got) != c.want {
				t.Fatalf("got  %q\nwant %q", got, c.want)
			}
		})
	}
}

func TestAppendChunk(t *testing.T) {
	var b []byte
	b = AppendChunk(b, []byte("hello"))
	b = AppendChunk(b, nil)
	b = AppendChunk(b, []byte(strings.Repeat("x", 300)))
	b = AppendLastChunk(b)
	want := "5\r\nhello\r\n12c\r\n" + strings.Repeat("x", 300) + "\r\n0\r\n\r\n"
	if string(b) != want {
		t.Fatalf("got %q", b)
	}
}

// What the encoder writes, the decoder reads back.
func TestEncodeDecodeRoundTrip(t *testing.T) {
	req := &RequestHead{Method: "POST", Path: "/a?b", Protocol: "HTTP/1.1", Headers: Headers{{"host", "h"}, {"x-y", "z"}}}
	var wire []byte
	wire = AppendRequestHead(wire, req, -1)
	wire = AppendChunk(wire, []byte("abc"))
	wire = AppendChunk(wire, []byte("defgh"))
	wire = AppendLastChunk(wire)
	wire = AppendRequestHead(wire, &RequestHead{Method: "GET", Path: "/", Headers: Headers{{"host", "h"}}}, 0)
	got, _ := decode(false, Limits{}, nil, wire, nil, true)
	want := lines("req POST /a?b HTTP/1.1 | host=h | x-y=z | transfer-encoding=chunked | connection=keep-alive", `data "abcdefgh"`, "end",
		"req GET / HTTP/1.1 | host=h | connection=keep-alive", "end")
	if got != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}

	res := &ResponseHead{Status: 200, Headers: Headers{{"content-type", "text/plain"}}}
	wire = AppendResponseHead(nil, res, 5, true)
	wire = append(wire, "hello"...)
	wire = AppendResponseHeadNoBody(wire, &ResponseHead{Status: 200, Headers: Headers{{"content-length", "5"}}}, false)
	got, _ = decode(true, Limits{}, []string{"GET", "HEAD"}, wire, nil, true)
	want = lines("res HTTP/1.1 200 OK | content-type=text/plain | content-length=5 | connection=keep-alive", `data "hello"`, "end",
		"res HTTP/1.1 200 OK | content-length=5 | connection=close", "end")
	if got != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestEncoderAllocations(t *testing.T) {
	res := &ResponseHead{Status: 200, Headers: Headers{{"content-type", "text/plain"}, {"server", "sluice"}}}
	req := &RequestHead{Method: "GET", Path: "/", Headers: Headers{{"host", "a"}}}
	buf := make([]byte, 0, 1024)
	data := []byte("hello")
	n := testing.AllocsPerRun(100, func() {
		b := AppendResponseHead(buf[:0], res, 1234, true)
		b = AppendResponseHeadNoBody(b, res, true)
		b = AppendRequestHead(b, req, -1)
		b = AppendChunk(b, data)
		_ = AppendLastChunk(b)
	})
	if n != 0 {
		t.Fatalf("encoder allocates %v times", n)
	}
}
