package http1

import "testing"

// A typical browser GET: ~300 bytes, 8 header fields.
const benchGET = "GET /api/v1/items?page=2 HTTP/1.1\r\n" +
	"Host: www.example.com\r\n" +
	"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0\r\n" +
	"Accept: text/html,application/xhtml+xml,*/*;q=0.8\r\n" +
	"Accept-Language: en-US,en;q=0.5\r\n" +
	"Accept-Encoding: gzip, deflate, br\r\n" +
	"Connection: keep-alive\r\n" +
	"Cookie: session=abc123def456\r\n" +
	"Cache-Control: max-age=0\r\n" +
	"\r\n"

// A small POST with a body.
const benchPOST = "POST /api/v1/items HTTP/1.1\r\n" +
	"Host: www.example.com\r\n" +
	"User-Agent: curl/8.5.0\r\n" +
	"Accept: */*\r\n" +
	"Content-Type: application/json\r\n" +
	"Content-Length: 27\r\n" +
	"\r\n" +
	`{"name":"widget","qty":100}`

type nopHandler struct{ n int }

func (h *nopHandler) OnMessageStart(head any) {}
func (h *nopHandler) OnData(b []byte)         { h.n += len(b) }
func (h *nopHandler) OnMessageEnd()           {}

func benchmarkDecode(b *testing.B, msg string) {
	in := []byte(msg)
	h := &nopHandler{}
	d := NewRequestDecoder(h, Limits{})
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := d.Feed(in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeRequest(b *testing.B) {
	b.Run("GET", func(b *testing.B) { benchmarkDecode(b, benchGET) })
	b.Run("POST", func(b *testing.B) { benchmarkDecode(b, benchPOST) })
	b.Run("GET-split", func(b *testing.B) {
		// the head arrives in two pieces
		in := []byte(benchGET)
		h := &nopHandler{}
		d := NewRequestDecoder(h, Limits{})
		b.SetBytes(int64(len(in)))
		b.ReportAllocs()
		for b.Loop() {
			if err := d.Feed(in[:100]); err != nil {
				b.Fatal(err)
			}
			if err := d.Feed(in[100:]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("chunked-body", func(b *testing.B) {
		// body throughput: 64 KiB in 4 KiB chunks after one head
		var in []byte
		in = append(in, "POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"...)
		chunk := make([]byte, 4096)
		for i := 0; i < 16; i++ {
			in = AppendChunk(in, chunk)
		}
		in = AppendLastChunk(in)
		h := &nopHandler{}
		d := NewRequestDecoder(h, Limits{})
		b.SetBytes(int64(len(in)))
		b.ReportAllocs()
		for b.Loop() {
			if err := d.Feed(in); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkEncodeResponse(b *testing.B) {
	head := &ResponseHead{Status: 200, Headers: Headers{
		{"content-type", "application/json"},
		{"server", "sluice"},
		{"date", "Mon, 01 Jan 2024 00:00:00 GMT"},
		{"cache-control", "no-cache"},
		{"x-request-id", "0123456789abcdef"},
	}}
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendResponseHead(buf[:0], head, 1234, true)
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkEncodeRequest(b *testing.B) {
	head := &RequestHead{Method: "GET", Path: "/api/v1/items?page=2", Protocol: "HTTP/1.1", Headers: Headers{
		{"host", "www.example.com"},
		{"user-agent", "curl/8.5.0"},
		{"accept", "*/*"},
		{"x-forwarded-for", "10.0.0.1"},
	}}
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendRequestHead(buf[:0], head, 0)
	}
	b.SetBytes(int64(len(buf)))
}
