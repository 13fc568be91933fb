package netio

import (
	"bytes"
	"crypto/sha256"
	"io"
	"net"
	"testing"
	"time"

	"sluice/backend/event"
)

// testLoop is a minimal worker: one goroutine runs the tasks in order, and
// deferred work runs right after the task that deferred it.
type testLoop struct {
	tasks    chan func()
	deferred []func()
	reading  *Conn
}

func newTestLoop(t *testing.T) *testLoop {
	l := &testLoop{tasks: make(chan func(), 1024)}
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	go func() {
		for {
			select {
			case <-stop:
				return
			case fn := <-l.tasks:
				fn()
				l.runDeferred()
			}
		}
	}()
	return l
}

// runDeferred runs the deferred work now. Loop goroutine only.
func (l *testLoop) runDeferred() {
	for len(l.deferred) > 0 {
		d := l.deferred
		l.deferred = nil
		for _, f := range d {
			f()
		}
	}
}

func (l *testLoop) Post(fn func())     { l.tasks <- fn }
func (l *testLoop) Defer(fn func())    { l.deferred = append(l.deferred, fn) }
func (l *testLoop) Reading() *Conn     { return l.reading }
func (l *testLoop) SetReading(c *Conn) { l.reading = c }

// relay writes what one connection reads to another.
type relay struct {
	to   **Conn
	done chan struct{}
}

func (r *relay) OnRead(b []byte) { (*r.to).Write(b) }
func (r *relay) OnClosed(code event.ErrorCode) {
	(*r.to).End()
	close(r.done)
}

type sink struct{}

func (sink) OnRead([]byte)            {}
func (sink) OnClosed(event.ErrorCode) {}

func pair(t *testing.T) (server, client net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ch := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		ch <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-ch
	t.Cleanup(func() { server.Close(); client.Close() })
	return server, client
}

// A receiver that does not read holds the sender back: the relay stops
// reading instead of buffering everything, and once the receiver reads,
// every byte arrives intact. Both ways of driving a socket are checked.
func TestBackpressureHoldsTheSourceBack(t *testing.T) {
	forEachMode(t, func(t *testing.T, loop Loop) {
		inSrv, inCli := pair(t)   // producer -> relay
		outSrv, outCli := pair(t) // relay -> slow consumer
		var out *Conn
		r := &relay{to: &out, done: make(chan struct{})}
		in := NewConn(inSrv, loop, r, Options{})
		out = NewConn(outSrv, loop, sink{}, Options{})
		start(loop, in, out)

		const total = 64 << 20
		payload := make([]byte, total)
		for i := range payload {
			payload[i] = byte(i * 7)
		}
		want := sha256.Sum256(payload)
		go func() {
			inCli.Write(payload)
			inCli.(*net.TCPConn).CloseWrite()
		}()

		// Nobody reads outCli for a while: the relay must stop reading.
		time.Sleep(700 * time.Millisecond)
		read := in.BytesIn.Load()
		if read >= total/2 {
			t.Fatalf("the relay read %d of %d bytes while its output was stuck: no backpressure", read, total)
		}
		if q := out.Queued(); q > 8<<20 {
			t.Fatalf("%d bytes queued in memory for a stuck receiver", q)
		}

		got, err := io.ReadAll(&deadlineReader{outCli, 10 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != total || sha256.Sum256(got) != want {
			t.Fatalf("received %d bytes (want %d), intact=%v", len(got), total, bytes.Equal(got, payload))
		}
	})
}

type deadlineReader struct {
	c net.Conn
	d time.Duration
}

func (r *deadlineReader) Read(b []byte) (int, error) {
	r.c.SetReadDeadline(time.Now().Add(r.d))
	return r.c.Read(b)
}
