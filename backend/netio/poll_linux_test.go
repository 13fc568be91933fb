//go:build linux

package netio

import (
	"syscall"
	"testing"
	"time"

	"sluice/backend/event"
)

// funcHandler is a Handler made of a function.
type funcHandler func(b []byte)

func (f funcHandler) OnRead(b []byte)        { f(b) }
func (funcHandler) OnClosed(event.ErrorCode) {}

// In a turn where an upstream's response and a client's new request are
// both ready, the upstream is read first and what it causes (the response
// to its client) is written before the new request is read, whatever
// order epoll reported them in.
func TestUpstreamInputFirstAndFlushedAtOnce(t *testing.T) {
	if pollDisabled {
		t.Skip("SLUICE_NETPOLL=go: no epoll loop")
	}
	loop := newExecLoop(t)
	p := loop.poller
	// A poller with no goroutine: the test collects the events and hands
	// them to process itself, so both land in one turn.
	r, err := newPollRun()
	if err != nil {
		t.Fatal(err)
	}
	p.run = r
	t.Cleanup(func() { r.unregister(); syscall.Close(r.epfd); syscall.Close(r.wakefd) })

	clientSide, clientPeer := pair(t)
	upstreamSide, upstreamPeer := pair(t)
	var order []string
	var client *Conn
	var flushedBeforeRequest bool
	client = NewConn(clientSide, loop, funcHandler(func(b []byte) {
		order = append(order, "client:"+string(b))
		flushedBeforeRequest = len(client.out) == 0 && client.pendingLen() == 0
	}), Options{})
	upstream := NewConn(upstreamSide, loop, funcHandler(func(b []byte) {
		order = append(order, "upstream:"+string(b))
		client.Write([]byte("response 1"))
	}), Options{Upstream: true})
	clientPeer.Write([]byte("request 2"))
	upstreamPeer.Write([]byte("reply 1"))
	time.Sleep(20 * time.Millisecond) // both bytes are in their sockets
	start(loop, client, upstream)

	// Collect both events, the client's first.
	var got []syscall.EpollEvent
	deadline := time.Now().Add(2 * time.Second)
	for len(got) < 2 && time.Now().Before(deadline) {
		n, err := epollPoll(r.epfd, r.events[:])
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range r.events[:n] {
			if ev.Fd >= 0 && ev.Events&syscall.EPOLLIN != 0 {
				got = append(got, ev)
			}
		}
	}
	if len(got) != 2 {
		t.Fatalf("got %d input events, want 2", len(got))
	}
	if p.conns[got[0].Fd] != client {
		got[0], got[1] = got[1], got[0]
	}
	r.n = copy(r.events[:], got)
	loop.Exec(p.process)

	if len(order) != 2 || order[0] != "upstream:reply 1" || order[1] != "client:request 2" {
		t.Fatalf("handled %q, want the upstream's reply before the client's request", order)
	}
	if !flushedBeforeRequest {
		t.Error("the response was still unsent when the client's next request was read")
	}
	buf := make([]byte, 64)
	clientPeer.SetReadDeadline(time.Now().Add(2 * time.Second))
	n, err := clientPeer.Read(buf)
	if err != nil || string(buf[:n]) != "response 1" {
		t.Fatalf("client got %q, %v; want %q", buf[:n], err, "response 1")
	}
}

// A loop that serves clients only sleeps in its own epoll_wait, outside
// Go's netpoller; once it has an upstream connection it parks in the
// netpoller; when the upstream closes it goes back. In every phase a
// client's request, sent while the loop sleeps, wakes it and is answered.
func TestLoopSleepsOutsideNetpollerUntilItHasUpstreams(t *testing.T) {
	if pollDisabled {
		t.Skip("SLUICE_NETPOLL=go: no epoll loop")
	}
	loop := newExecLoop(t)
	srv, cli := pair(t)
	var c *Conn
	c = NewConn(srv, loop, funcHandler(func(b []byte) { c.Write(append([]byte("re:"), b...)) }), Options{})
	start(loop, c)
	registered := func() bool { // whether the loop's epoll set is in Go's netpoller
		var r bool
		onLoop(loop, func() { r = loop.poller.run.inNetpoller.Load() })
		return r
	}
	roundTrip := func(phase string) {
		t.Helper()
		time.Sleep(30 * time.Millisecond) // the loop is asleep by now
		msg := "request " + phase
		if _, err := cli.Write([]byte(msg)); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 64)
		cli.SetReadDeadline(time.Now().Add(2 * time.Second))
		n, err := cli.Read(buf)
		if err != nil || string(buf[:n]) != "re:"+msg {
			t.Fatalf("%s: got %q, %v", phase, buf[:n], err)
		}
	}
	roundTrip("clients only")
	if registered() {
		t.Fatal("a loop with clients only parked in Go's netpoller")
	}

	upSide, upPeer := pair(t)
	up := NewConn(upSide, loop, funcHandler(func([]byte) {}), Options{Upstream: true})
	start(loop, up)
	roundTrip("with an upstream") // the loop may have gone to sleep before the upstream came
	roundTrip("with an upstream, again")
	if !registered() {
		t.Fatal("a loop with an upstream connection did not park in Go's netpoller")
	}

	upPeer.Close()
	onLoop(loop, up.Close)
	roundTrip("after the upstream")
	roundTrip("after the upstream, again")
	if registered() {
		t.Fatal("the loop still parks in Go's netpoller after its upstream closed")
	}
}
