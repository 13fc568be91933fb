package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

func TestNextRequest(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		size      int
		keepAlive bool
		ok        bool
	}{
		{"partial head", "GET / HTTP/1.1\r\nHost: a\r\n", 0, false, false},
		{"get", "GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /next", 27, true, true},
		{"close", "GET / HTTP/1.1\r\nConnection: Close\r\n\r\n", 37, false, true},
		{"http/1.0", "GET / HTTP/1.0\r\n\r\n", 18, false, true},
		{"http/1.0 keep-alive", "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 42, true, true},
		{"content-length", "POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcGET", 41, true, true},
		{"partial body", "POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nab", 0, false, false},
		{"bad length", "POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n", -1, false, false},
		{"chunked", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n0\r\n\r\nGET", 64, true, true},
		{"chunked trailer", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT: v\r\n\r\n", 58, true, true},
		{"chunked partial", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nab", 0, false, false},
		{"chunked bad", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", -1, false, false},
	}
	for _, tt := range tests {
		size, keepAlive, ok := nextRequest([]byte(tt.in))
		if size != tt.size || ok != tt.ok || (ok && keepAlive != tt.keepAlive) {
			t.Errorf("%s: nextRequest = %d, %v, %v; want %d, %v, %v", tt.name, size, keepAlive, ok, tt.size, tt.keepAlive, tt.ok)
		}
	}
}

func TestUpstreamServes(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go serveUpstream(ln)

	// net/http as a client, over one kept-alive connection.
	client := &http.Client{}
	for i := range 3 {
		resp, err := client.Post("http://"+ln.Addr().String()+"/", "text/plain", strings.NewReader(strings.Repeat("x", 40000)))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(body) != upstreamBody {
			t.Fatalf("request %d: %d %q", i, resp.StatusCode, body)
		}
	}

	// Pipelined requests in one write, the last one closing.
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	req := "GET / HTTP/1.1\r\nHost: a\r\n\r\n"
	if _, err := io.WriteString(c, req+req+"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	for i := range 3 {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("pipelined response %d: %v", i, err)
		}
		body, _ := io.ReadAll(resp.Body)
		if string(body) != upstreamBody {
			t.Fatalf("pipelined response %d: %q", i, body)
		}
	}
	if _, err := br.ReadByte(); err != io.EOF {
		t.Fatalf("connection not closed after Connection: close: %v", err)
	}
}
