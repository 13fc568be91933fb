package main

import (
	"bytes"
	"errors"
	"net"
	"strconv"
)

// The upstream of the proxy scenario: a minimal HTTP/1.1 keep-alive server
// that answers every request with upstreamBody. It is hand-written on raw
// net so that it costs as little CPU as possible next to the proxy under
// test: it finds request boundaries (headers, Content-Length or chunked
// bodies), answers each complete request (pipelined ones in one write) and
// honours Connection: close and HTTP/1.0.

const upstreamBody = "Hi, there!\n"

var upstreamResponse = []byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
	strconv.Itoa(len(upstreamBody)) + "\r\n\r\n" + upstreamBody)

// maxUpstreamRequest bounds one buffered request (head plus body).
const maxUpstreamRequest = 1 << 20

// serveUpstream accepts connections on ln until it is closed.
func serveUpstream(ln net.Listener) error {
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		go serveUpstreamConn(c)
	}
}

func serveUpstreamConn(c net.Conn) {
	defer c.Close()
	buf := make([]byte, 16<<10) // buf[start:end] holds unanswered bytes
	start, end := 0, 0
	out := make([]byte, 0, 4<<10)
	for {
		if end == len(buf) {
			if start > 0 {
				end = copy(buf, buf[start:end])
				start = 0
			} else if len(buf) < maxUpstreamRequest {
				buf = append(buf, make([]byte, len(buf))...)
			} else {
				return // request too large
			}
		}
		n, err := c.Read(buf[end:])
		end += n
		closing := false
		for start < end {
			size, keepAlive, ok := nextRequest(buf[start:end])
			if size < 0 {
				return // malformed
			}
			if !ok {
				break
			}
			out = append(out, upstreamResponse...)
			start += size
			if !keepAlive {
				closing = true
				break
			}
		}
		if start == end {
			start, end = 0, 0
		}
		if len(out) > 0 {
			if _, werr := c.Write(out); werr != nil {
				return
			}
			out = out[:0]
		}
		if closing || err != nil {
			return
		}
	}
}

// nextRequest finds the first complete request in b. It returns its length
// and whether the connection stays open after it; ok is false when more
// bytes are needed, and size is -1 when the request is malformed.
func nextRequest(b []byte) (size int, keepAlive, ok bool) {
	end := bytes.Index(b, []byte("\r\n\r\n"))
	if end < 0 {
		return 0, false, false
	}
	head := b[:end]
	size = end + 4
	line, rest, _ := bytes.Cut(head, []byte("\r\n"))
	keepAlive = !bytes.HasSuffix(line, []byte("HTTP/1.0"))
	contentLength, chunked := 0, false
	for len(rest) > 0 {
		var h []byte
		h, rest, _ = bytes.Cut(rest, []byte("\r\n"))
		name, value, found := bytes.Cut(h, []byte(":"))
		if !found {
			continue
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			n, err := strconv.Atoi(string(value))
			if err != nil || n < 0 {
				return -1, false, false
			}
			contentLength = n
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			chunked = bytes.Contains(bytes.ToLower(value), []byte("chunked"))
		case bytes.EqualFold(name, []byte("Connection")):
			v := bytes.ToLower(value)
			if bytes.Contains(v, []byte("close")) {
				keepAlive = false
			} else if bytes.Contains(v, []byte("keep-alive")) {
				keepAlive = true
			}
		}
	}
	if chunked {
		n, ok := chunkedLength(b[size:])
		if n < 0 || !ok {
			return n, false, false
		}
		return size + n, keepAlive, true
	}
	if len(b) < size+contentLength {
		return 0, false, false
	}
	return size + contentLength, keepAlive, true
}

// chunkedLength returns the length of the chunked body at the start of b,
// trailers included; ok is false when more bytes are needed, and n is -1
// when the body is malformed.
func chunkedLength(b []byte) (n int, ok bool) {
	pos := 0
	for {
		eol := bytes.Index(b[pos:], []byte("\r\n"))
		if eol < 0 {
			return 0, false
		}
		sizeField, _, _ := bytes.Cut(b[pos:pos+eol], []byte(";"))
		size, err := strconv.ParseInt(string(bytes.TrimSpace(sizeField)), 16, 32)
		if err != nil || size < 0 {
			return -1, false
		}
		pos += eol + 2
		if size == 0 {
			// Trailers, then an empty line.
			for {
				eol := bytes.Index(b[pos:], []byte("\r\n"))
				if eol < 0 {
					return 0, false
				}
				pos += eol + 2
				if eol == 0 {
					return pos, true
				}
			}
		}
		if len(b) < pos+int(size)+2 {
			return 0, false
		}
		pos += int(size)
		if b[pos] != '\r' || b[pos+1] != '\n' {
			return -1, false
		}
		pos += 2
	}
}
