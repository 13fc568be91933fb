package netio

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"sluice/backend/event"
)

// execLoop is a testLoop that can be entered synchronously, so its
// connections run on a Poller (where the platform has one).
type execLoop struct {
	*testLoop
	poller *Poller
}

func newExecLoop(t *testing.T) *execLoop {
	l := &execLoop{testLoop: newTestLoop(t)}
	l.poller = NewPoller(l)
	return l
}

func (l *execLoop) Exec(fn func()) {
	done := make(chan struct{})
	l.tasks <- func() { fn(); close(done) }
	<-done
}

func (l *execLoop) NetPoller() *Poller { return l.poller }

func (l *execLoop) EndTurn() { l.runDeferred() }

// forEachMode runs f with a goroutine-per-connection loop and, where the
// platform has it, with an epoll loop.
func forEachMode(t *testing.T, f func(t *testing.T, loop Loop)) {
	t.Run("goroutines", func(t *testing.T) { f(t, newTestLoop(t)) })
	if pollSupported && !pollDisabled {
		t.Run("epoll", func(t *testing.T) { f(t, newExecLoop(t)) })
	}
}

// start starts conns on the loop (Start is worker only).
func start(loop Loop, conns ...*Conn) {
	done := make(chan struct{})
	loop.Post(func() {
		for _, c := range conns {
			c.Start()
		}
		close(done)
	})
	<-done
}

// onLoop runs fn on the loop and waits.
func onLoop(loop Loop, fn func()) {
	done := make(chan struct{})
	loop.Post(func() { fn(); close(done) })
	<-done
}

// recorder keeps what a connection read and how its input ended.
type recorder struct {
	mu     sync.Mutex
	got    bytes.Buffer
	code   event.ErrorCode
	ended  chan struct{}
	onRead func(b []byte)
	onEnd  func(code event.ErrorCode)
}

func newRecorder() *recorder { return &recorder{ended: make(chan struct{})} }

func (r *recorder) OnRead(b []byte) {
	r.mu.Lock()
	r.got.Write(b)
	r.mu.Unlock()
	if r.onRead != nil {
		r.onRead(b)
	}
}

func (r *recorder) OnClosed(code event.ErrorCode) {
	r.code = code
	if r.onEnd != nil {
		r.onEnd(code)
	}
	close(r.ended)
}

func (r *recorder) wait(t *testing.T, d time.Duration) event.ErrorCode {
	t.Helper()
	select {
	case <-r.ended:
		return r.code
	case <-time.After(d):
		t.Fatalf("input did not end within %v", d)
		return 0
	}
}

func (r *recorder) text() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.got.String()
}

// The peer's data and its end arrive together: the data is delivered and
// then the end, and the reply written after the end still reaches the
// peer before the socket closes.
func TestHalfCloseDeliversDataThenEnd(t *testing.T) {
	forEachMode(t, func(t *testing.T, loop Loop) {
		srv, cli := pair(t)
		var c *Conn
		rec := newRecorder()
		rec.onEnd = func(event.ErrorCode) {
			c.Write([]byte("reply to " + rec.text()))
			c.End()
		}
		c = NewConn(srv, loop, rec, Options{})
		start(loop, c)
		cli.Write([]byte("question"))
		cli.(*net.TCPConn).CloseWrite()
		if code := rec.wait(t, 5*time.Second); code != event.NoError {
			t.Fatalf("input ended with %v, want a clean end", code)
		}
		got, err := io.ReadAll(&deadlineReader{cli, 5 * time.Second})
		if err != nil || string(got) != "reply to question" {
			t.Fatalf("peer read %q, %v", got, err)
		}
	})
}

// A connection that receives nothing ends its input with ReadTimeout; one
// that keeps receiving does not.
func TestReadTimeout(t *testing.T) {
	forEachMode(t, func(t *testing.T, loop Loop) {
		srv, cli := pair(t)
		rec := newRecorder()
		c := NewConn(srv, loop, rec, Options{ReadTimeout: 300 * time.Millisecond})
		start(loop, c)
		for range 6 {
			time.Sleep(100 * time.Millisecond)
			cli.Write([]byte("."))
		}
		select {
		case <-rec.ended:
			t.Fatalf("input ended with %v while data kept arriving", rec.code)
		default:
		}
		if code := rec.wait(t, 3*time.Second); code != event.ReadTimeout {
			t.Fatalf("input ended with %v, want ReadTimeout", code)
		}
		if rec.text() != "......" {
			t.Fatalf("read %q", rec.text())
		}
	})
}

// Output counts as activity for the idle timeout.
func TestIdleTimeoutCountsOutput(t *testing.T) {
	forEachMode(t, func(t *testing.T, loop Loop) {
		srv, cli := pair(t)
		go io.Copy(io.Discard, cli)
		rec := newRecorder()
		c := NewConn(srv, loop, rec, Options{IdleTimeout: 300 * time.Millisecond})
		start(loop, c)
		for range 6 {
			time.Sleep(100 * time.Millisecond)
			onLoop(loop, func() { c.Write([]byte("tick\n")) })
		}
		select {
		case <-rec.ended:
			t.Fatalf("input ended with %v while output kept flowing", rec.code)
		default:
		}
		if code := rec.wait(t, 3*time.Second); code != event.IdleTimeout {
			t.Fatalf("input ended with %v, want IdleTimeout", code)
		}
	})
}

// A peer that stops reading for longer than the write timeout loses the
// connection, and the handler hears why.
func TestWriteTimeout(t *testing.T) {
	if !pollSupported || pollDisabled {
		t.Skip("the goroutine mode reports a write timeout as a closed connection")
	}
	loop := newExecLoop(t)
	srv, _ := pair(t)
	rec := newRecorder()
	c := NewConn(srv, loop, rec, Options{WriteTimeout: 300 * time.Millisecond})
	start(loop, c)
	onLoop(loop, func() { c.Write(make([]byte, 32<<20)) })
	if code := rec.wait(t, 5*time.Second); code != event.WriteTimeout {
		t.Fatalf("input ended with %v, want WriteTimeout", code)
	}
}

// Many connections at once on one loop: every byte reaches the right peer,
// through slot reuse as connections come and go.
func TestManyConnectionsEcho(t *testing.T) {
	forEachMode(t, func(t *testing.T, loop Loop) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		go func() {
			for {
				nc, err := ln.Accept()
				if err != nil {
					return
				}
				var c *Conn
				rec := newRecorder()
				rec.onRead = func(b []byte) { c.Write(b) }
				rec.onEnd = func(event.ErrorCode) { c.End() }
				c = NewConn(nc, loop, rec, Options{})
				loop.Post(c.Start)
			}
		}()
		const clients, rounds = 64, 3
		var wg sync.WaitGroup
		errs := make(chan error, clients*rounds)
		for i := range clients * rounds {
			wg.Add(1)
			go func() {
				defer wg.Done()
				nc, err := net.Dial("tcp", ln.Addr().String())
				if err != nil {
					errs <- err
					return
				}
				defer nc.Close()
				msg := bytes.Repeat([]byte(fmt.Sprintf("client %d;", i)), 1+i*37%5000)
				go func() {
					nc.Write(msg)
					nc.(*net.TCPConn).CloseWrite()
				}()
				got, err := io.ReadAll(&deadlineReader{nc, 10 * time.Second})
				if err != nil {
					errs <- err
				} else if !bytes.Equal(got, msg) {
					errs <- fmt.Errorf("client %d got %d bytes back, sent %d", i, len(got), len(msg))
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	})
}

// The epoll goroutine goes away once its worker has no connections, and
// comes back with the next one.
func TestPollerStopsWhenIdle(t *testing.T) {
	if !pollSupported || pollDisabled {
		t.Skip("no epoll loop on this platform")
	}
	loop := newExecLoop(t)
	running := func() bool {
		var r bool
		onLoop(loop, func() { r = loop.poller.run != nil })
		return r
	}
	for round := range 2 {
		srv, cli := pair(t)
		rec := newRecorder()
		c := NewConn(srv, loop, rec, Options{})
		start(loop, c)
		if !running() {
			t.Fatalf("round %d: no epoll goroutine with a connection open", round)
		}
		cli.Close()
		rec.wait(t, 5*time.Second)
		onLoop(loop, c.Close)
		deadline := time.Now().Add(5 * time.Second)
		for running() {
			if time.Now().After(deadline) {
				t.Fatalf("round %d: the epoll goroutine still runs with no connections", round)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	runtime.GC()
}

// An Acceptor hands over accepted sockets with both addresses, they serve
// as Conns on an epoll loop, and Close ends a waiting Accept.
func TestAcceptor(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	acc := NewAcceptor(ln)
	if acc == nil {
		if pollSupported && !pollDisabled {
			t.Fatal("no Acceptor for a TCP listener")
		}
		t.Skip("no epoll loop on this platform")
	}
	loop := newExecLoop(t)
	go func() {
		cli, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			return
		}
		defer cli.Close()
		cli.Write([]byte("ping"))
		buf := make([]byte, 4)
		io.ReadFull(&deadlineReader{cli, 5 * time.Second}, buf)
		cli.Write(buf) // echo what the server said back
	}()
	s, err := acc.Accept()
	if err != nil {
		t.Fatal(err)
	}
	if s.Local.String() != ln.Addr().String() {
		t.Fatalf("local address %v, want %v", s.Local, ln.Addr())
	}
	if ra, ok := s.Remote.(*net.TCPAddr); !ok || !ra.IP.IsLoopback() || ra.Port == 0 {
		t.Fatalf("remote address %v", s.Remote)
	}
	var c *Conn
	rec := newRecorder()
	rec.onRead = func(b []byte) {
		if string(b) == "ping" {
			c.Write([]byte("pong"))
		}
	}
	c, err = NewRawConn(s, loop, rec, Options{})
	if err != nil {
		t.Fatal(err)
	}
	start(loop, c)
	rec.wait(t, 5*time.Second)
	if got := rec.text(); got != "pingpong" {
		t.Fatalf("server read %q, want pingpong", got)
	}
	onLoop(loop, c.Close)

	done := make(chan error, 1)
	go func() {
		_, err := acc.Accept()
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	acc.Close()
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Accept after Close: %v, want net.ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not end a waiting Accept")
	}
}
