package filters_test

import (
	"io"
	"net"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"sluice/backend/engine"
)

// Helpers shared by the tests of the stream-shaping, queueing, throttling
// and tunnelling filters.

// lineFraming turns each line a client sends into a message whose body is
// the line (without "\n") and whose head is {delay: Number(line) || 0};
// lineOutput turns each message back into a line. Scripts using them
// declare the context variable _line.
const lineFraming = `
  .deframe({
    line: c => c === 10
      ? [new MessageStart({ delay: Number(_line) || 0 }), new Data(_line), new MessageEnd(), (_line = '', 'line')]
      : (_line += String.fromCharCode(c), 'line'),
  })`

const lineOutput = `
  .replaceMessage(m => new Data(m.body.toString() + '\n'))`

// shapeLoadError loads src as /main.js and returns the load error's text.
func shapeLoadError(t *testing.T, src string) string {
	t.Helper()
	prog, err := engine.Load(engine.Options{FS: fstest.MapFS{"main.js": {Data: []byte(src)}}, Main: "/main.js", Threads: 1})
	if err == nil {
		prog.Stop()
		return ""
	}
	return err.Error()
}

// readTextLine reads one "\n"-terminated line (without the "\n").
func (r *rawConn) readTextLine() string {
	r.t.Helper()
	s, err := r.br.ReadString('\n')
	if err != nil {
		r.t.Fatalf("read line: got %q: %v", s, err)
	}
	return strings.TrimSuffix(s, "\n")
}

// halfClose half-closes the client's side.
func (r *rawConn) halfClose() {
	r.t.Helper()
	if err := r.c.(*net.TCPConn).CloseWrite(); err != nil {
		r.t.Fatalf("close write: %v", err)
	}
}

// readToEnd reads until the server closes.
func (r *rawConn) readToEnd() string {
	r.t.Helper()
	b, err := io.ReadAll(r.br)
	if err != nil && !isReset(err) {
		r.t.Fatalf("read to the end: got %q: %v", b, err)
	}
	return string(b)
}

// tcpEcho is a TCP server that sends back what it receives.
func tcpEcho(t testing.TB) string {
	return rawUpstream(t, func(c net.Conn) {
		defer c.Close()
		io.Copy(c, c)
	})
}

// sink is a TCP server that keeps what every connection sends.
type sink struct {
	addr  string
	conns chan struct{}   // one per accepted connection
	data  chan string     // one per received piece
	ended chan struct{}   // one per connection whose peer closed
	all   strings.Builder // what arrived so far; test goroutine only
}

func newSink(t testing.TB) *sink {
	c := &sink{conns: make(chan struct{}, 64), data: make(chan string, 1024), ended: make(chan struct{}, 64)}
	c.addr = rawUpstream(t, func(nc net.Conn) {
		defer nc.Close()
		c.conns <- struct{}{}
		buf := make([]byte, 64<<10)
		for {
			n, err := nc.Read(buf)
			if n > 0 {
				c.data <- string(buf[:n])
			}
			if err != nil {
				c.ended <- struct{}{}
				return
			}
		}
	})
	return c
}

// waitData collects what arrives until it contains want (or fails).
func (c *sink) waitData(t testing.TB, want string, timeout time.Duration) string {
	t.Helper()
	deadline := time.After(timeout)
	for !strings.Contains(c.all.String(), want) {
		select {
		case s := <-c.data:
			c.all.WriteString(s)
		case <-deadline:
			t.Fatalf("timed out waiting for %q; got %q", want, c.all.String())
		}
	}
	return c.all.String()
}
