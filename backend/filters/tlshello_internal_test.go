package filters

import (
	"crypto/tls"
	"net"
	"reflect"
	"testing"
	"time"
)

// captureClientHello returns the first bytes a Go TLS client sends.
func captureClientHello(t *testing.T, cfg *tls.Config) []byte {
	t.Helper()
	a, b := net.Pipe()
	defer a.Close()
	go tls.Client(b, cfg).Handshake()
	a.SetReadDeadline(time.Now().Add(5 * time.Second))
	var out []byte
	buf := make([]byte, 4096)
	for {
		n, err := a.Read(buf)
		out = append(out, buf[:n]...)
		if err != nil {
			t.Fatal(err)
		}
		if len(out) >= 5 && len(out) >= 5+int(out[3])<<8|int(out[4]) {
			b.Close()
			return out
		}
	}
}

func TestHelloReaderByteByByte(t *testing.T) {
	raw := captureClientHello(t, &tls.Config{ServerName: "a.example", NextProtos: []string{"h2", "http/1.1"}})
	var r helloReader
	for i := range raw {
		h, done := r.feed(raw[i : i+1])
		if done != (i == len(raw)-1) {
			t.Fatalf("done=%v at byte %d of %d", done, i, len(raw))
		}
		if done {
			want := &clientHello{serverNames: []string{"a.example"}, protocolNames: []string{"h2", "http/1.1"}, hasSNI: true, hasALPN: true}
			if !reflect.DeepEqual(h, want) {
				t.Fatalf("got %+v, want %+v", h, want)
			}
		}
	}
}

// A hello split over two records is read whole.
func TestHelloReaderFragmented(t *testing.T) {
	raw := captureClientHello(t, &tls.Config{ServerName: "b.example"})
	body := raw[5:]
	cut := len(body) / 3
	var frag []byte
	for _, part := range [][]byte{body[:cut], body[cut:]} {
		frag = append(frag, 22, 3, 1, byte(len(part)>>8), byte(len(part)))
		frag = append(frag, part...)
	}
	var r helloReader
	h, done := r.feed(frag)
	if !done || h == nil || !reflect.DeepEqual(h.serverNames, []string{"b.example"}) || h.hasALPN {
		t.Fatalf("got %+v %v", h, done)
	}
}

func TestHelloReaderNotTLS(t *testing.T) {
	for _, in := range []string{"GET / HTTP/1.1\r\n", "\x16\x03\x01\x00\x04\x02\x00\x00\x00"} {
		var r helloReader
		if h, done := r.feed([]byte(in)); !done || h != nil {
			t.Errorf("%q: %+v %v", in, h, done)
		}
	}
	// No SNI: Go sends none for an IP address.
	raw := captureClientHello(t, &tls.Config{ServerName: "127.0.0.1", InsecureSkipVerify: true})
	var r helloReader
	if h, done := r.feed(raw); !done || h == nil || h.hasSNI {
		t.Errorf("no SNI: %+v %v", h, done)
	}
}

func TestDetect(t *testing.T) {
	hello := captureClientHello(t, &tls.Config{ServerName: "x"})
	tests := []struct {
		in      string
		name    string
		decided bool
	}{
		{"GET / HTTP/1.1\r\n", "HTTP", true},
		{"OPTIONS * HTTP/1.0\r\n", "HTTP", true},
		{"GET /a/very/long/path", "HTTP", true},
		{"GET / HTTP/2.0\r\n", "", true},
		{"GE", "", false},
		{"PATCH", "", false},
		{"BREW /pot HTTP/1.1", "", true},
		{"SSH-2.0-OpenSSH\r\n", "", true},
		{string(hello[:3]), "", false},
		{string(hello[:10]), "", false},
		{string(hello[:11]), "TLS", true},
		{"\x16\x03\x05", "", true},
		{"\x16\x03\x01\x00\x10\x02", "", true},
	}
	for _, tt := range tests {
		name, decided := detect([]byte(tt.in))
		if name != tt.name || decided != tt.decided {
			t.Errorf("%q: got %q %v, want %q %v", tt.in, name, decided, tt.name, tt.decided)
		}
	}
}
