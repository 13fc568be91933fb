package http1

import (
	"strconv"
	"strings"
	"testing"
)

var smallLimits = Limits{MaxLineSize: 64, MaxHeaderSize: 256, MaxHeaderCount: 6, MaxChunkLineSize: 24, MaxBodySize: 200}

// fuzzDecode checks the properties every input must have: no panic; the
// same trace whether the input is fed whole, split in two at any point, in
// pieces of a few bytes, or byte by byte; well-nested events; and, for every
// completed message framed by content-length, exactly that many body bytes.
func fuzzDecode(t *testing.T, resp bool, data []byte, cut uint16, step uint8, flags uint8) {
	lim := Limits{}
	if flags&1 != 0 {
		lim = smallLimits
	}
	var methods []string
	if resp {
		for i := 0; i < 3; i++ {
			methods = append(methods, []string{"GET", "HEAD", "CONNECT", "POST"}[(flags>>(1+2*i))&3])
		}
	}
	eof := flags&0x80 == 0

	whole, rec := decode(resp, lim, methods, data, nil, eof)
	if rec.bad {
		t.Fatalf("badly nested events:\n%s", whole)
	}
	k := 0
	if len(data) > 0 {
		k = int(cut) % (len(data) + 1)
	}
	if got, _ := decode(resp, lim, methods, data, []int{k}, eof); got != whole {
		t.Fatalf("split at %d:\n%s\nwhole:\n%s", k, got, whole)
	}
	n := int(step%13) + 1
	var cuts []int
	for c := n; c < len(data); c += n {
		cuts = append(cuts, c)
	}
	if got, _ := decode(resp, lim, methods, data, cuts, eof); got != whole {
		t.Fatalf("pieces of %d:\n%s\nwhole:\n%s", n, got, whole)
	}
	cuts = cuts[:0]
	for c := 1; c < len(data); c++ {
		cuts = append(cuts, c)
	}
	if got, _ := decode(resp, lim, methods, data, cuts, eof); got != whole {
		t.Fatalf("byte by byte:\n%s\nwhole:\n%s", got, whole)
	}

	// content-length bodies
	mi := 0
	for i, head := range rec.heads {
		if i >= len(rec.bodies) {
			break // not completed
		}
		var hs Headers
		expectBody := true
		switch h := head.(type) {
		case *RequestHead:
			hs = h.Headers
		case *ResponseHead:
			hs = h.Headers
			method := "GET"
			if h.Status >= 200 || h.Status == 101 {
				if mi < len(methods) {
					method = methods[mi]
				}
				mi++
			}
			if h.Status < 200 || h.Status == 204 || h.Status == 304 || method == "HEAD" ||
				method == "CONNECT" && h.Status/100 == 2 {
				expectBody = false
			}
		}
		cl, hasCL := hs.Get("content-length")
		if !hasCL || hs.Has("transfer-encoding") {
			continue
		}
		want := 0
		if expectBody {
			v, _, _ := strings.Cut(cl, ",")
			var err error
			if want, err = strconv.Atoi(strings.TrimSpace(v)); err != nil {
				t.Fatalf("accepted content-length %q", cl)
			}
		}
		if len(rec.bodies[i]) != want {
			t.Fatalf("message %d: content-length %q but %d body bytes", i, cl, len(rec.bodies[i]))
		}
	}
}

func FuzzRequestDecoder(f *testing.F) {
	for _, c := range requestCases {
		f.Add([]byte(c.in), uint16(len(c.in)/2), uint8(3), uint8(0))
		f.Add([]byte(c.in), uint16(7), uint8(1), uint8(1))
	}
	for _, s := range []string{
		benchGET,
		benchPOST,
		"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\nabcdeGET / HTTP/1.1\r\nHost: a\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1;a=b\r\nx\r\n0\r\nT: v\r\n\r\n",
		"GET /chat HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\nbytes",
		"\r\n\r\nGET / HTTP/1.0\n\n",
	} {
		f.Add([]byte(s), uint16(10), uint8(5), uint8(0))
	}
	f.Fuzz(func(t *testing.T, data []byte, cut uint16, step uint8, flags uint8) {
		fuzzDecode(t, false, data, cut, step, flags)
	})
}

func FuzzResponseDecoder(f *testing.F) {
	for _, c := range responseCases {
		f.Add([]byte(c.in), uint16(len(c.in)/2), uint8(3), uint8(0))
		f.Add([]byte(c.in), uint16(5), uint8(2), uint8(0x2a)) // all HEAD
	}
	for _, s := range []string{
		"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
		"HTTP/1.0 200 OK\r\n\r\nuntil close",
		"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\nframes",
	} {
		f.Add([]byte(s), uint16(9), uint8(4), uint8(0))
		f.Add([]byte(s), uint16(9), uint8(4), uint8(0x80|0x04)) // CONNECT first, no EOF
	}
	f.Fuzz(func(t *testing.T, data []byte, cut uint16, step uint8, flags uint8) {
		fuzzDecode(t, true, data, cut, step, flags)
	})
}
