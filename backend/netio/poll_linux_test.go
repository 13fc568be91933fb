//go:build linux

package netio

import (
	"fmt"
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
	t.Cleanup(r.close)

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

// wakeablePollRun makes a pollRun with no goroutine, and functions that
// make its wake-up eventfd ready and drain it again.
func wakeablePollRun(t *testing.T) (r *pollRun, wake, drain func()) {
	t.Helper()
	r, err := newPollRun()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.close)
	wake = func() {
		one := [8]byte{1}
		syscall.Write(r.wakefd, one[:])
	}
	drain = func() {
		var b [8]byte
		syscall.Read(r.wakefd, b[:])
	}
	return r, wake, drain
}

// parkUntilWoken runs one turn of r (timeout set long) that must park and
// be woken by an event 20 ms later.
func parkUntilWoken(t *testing.T, r *pollRun, wake, drain func(), step string) {
	t.Helper()
	time.AfterFunc(20*time.Millisecond, wake)
	start := time.Now()
	parked := r.next(false)
	drain()
	if waited := time.Since(start); !parked || r.n != 1 || r.err != nil || waited > 4*time.Second {
		t.Fatalf("%s: parked %v, n=%d, err %v, after %v", step, parked, r.n, r.err, waited)
	}
}

// A loop that serves clients only polls for a while before it parks, but
// only while that pays: after a short wait or a spin that found work. A
// spin that finds nothing turns spinning off, and a long wait keeps it off.
func TestSpinOnlyWhileItPays(t *testing.T) {
	if pollDisabled {
		t.Skip("SLUICE_NETPOLL=go: no epoll loop")
	}
	r, wake, drain := wakeablePollRun(t)
	r.timeout = 50
	// 30 µs is within a loaded machine's scheduling noise: judge short and
	// long waits against 20 ms instead (this pollRun only).
	r.spinFor = 20 * time.Millisecond

	// Not spinning, nothing ready: it parks until the timeout, and a long
	// wait leaves spinning off.
	start := time.Now()
	r.spinThenWait()
	if waited := time.Since(start); r.n != 0 || waited < 40*time.Millisecond || r.spinning {
		t.Fatalf("idle wait: n=%d after %v, spinning %v", r.n, waited, r.spinning)
	}

	// An event that comes while it is parked, at once: the wait was short,
	// so the next wait spins first.
	wake()
	r.spinThenWait()
	drain()
	if r.n != 1 || !r.spinning {
		t.Fatalf("short wait: n=%d, spinning %v", r.n, r.spinning)
	}

	// Spinning and an event is there by the spin's first poll: it is found
	// without parking, and spinning stays on.
	r.slept = false
	wake()
	r.spinThenWait()
	drain()
	if r.n != 1 || !r.spinning || r.slept {
		t.Fatalf("spin with work: n=%d, spinning %v, slept %v", r.n, r.spinning, r.slept)
	}

	// Spinning and nothing comes: the spin ends, it parks until the
	// timeout and spinning is off.
	start = time.Now()
	r.spinThenWait()
	if waited := time.Since(start); r.n != 0 || waited < 40*time.Millisecond || r.spinning {
		t.Fatalf("spin without work: n=%d after %v, spinning %v", r.n, waited, r.spinning)
	}
}

// A loop that goes awakeTurns turns without parking leaves Go's netpoller,
// so its sockets' events stop running the netpoller's epoll callback; one
// that parks stays registered, and a parked loop wakes for an event after
// it registered again.
func TestBusyLoopLeavesNetpoller(t *testing.T) {
	if pollDisabled {
		t.Skip("SLUICE_NETPOLL=go: no epoll loop")
	}
	r, wake, drain := wakeablePollRun(t)
	r.timeout = 5000
	parkedTurn := func(step string) {
		t.Helper()
		parkUntilWoken(t, r, wake, drain, step)
		if r.file == nil {
			t.Fatalf("%s: a loop that parks is not registered with Go's netpoller", step)
		}
	}
	parkedTurn("first park")
	for i := range 3 * awakeTurns {
		wake()
		parked := r.next(false)
		drain()
		if parked || r.n != 1 {
			t.Fatalf("busy turn %d: parked %v, n=%d", i, parked, r.n)
		}
		if registered := r.file != nil; registered != (i < awakeTurns-1) {
			t.Fatalf("busy turn %d: registered %v", i, registered)
		}
	}
	for i := range 3 {
		parkedTurn(fmt.Sprintf("park %d after busy turns", i))
	}
}

// A process out of descriptors: a loop that left the netpoller still parks
// (its next registration's descriptor was made beforehand), and a
// registered loop stays registered rather than give up its way to park.
func TestLoopParksWithNoDescriptorsLeft(t *testing.T) {
	if pollDisabled {
		t.Skip("SLUICE_NETPOLL=go: no epoll loop")
	}
	r, wake, drain := wakeablePollRun(t)
	r.timeout = 5000
	parkedTurn := func(step string) {
		t.Helper()
		parkUntilWoken(t, r, wake, drain, step)
	}
	busyTurns := func() {
		for range awakeTurns {
			wake()
			r.next(false)
			drain()
		}
	}
	parkedTurn("registered")
	busyTurns()
	if r.file != nil {
		t.Fatal("a busy loop is still registered")
	}

	// No descriptor can be opened from here on: the limit is the lowest
	// free descriptor number.
	lowest, err := syscall.Dup(0)
	if err != nil {
		t.Fatal(err)
	}
	syscall.Close(lowest)
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	low := lim
	low.Cur = uint64(lowest)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low); err != nil {
		t.Fatal(err)
	}
	defer syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	if fd, err := syscall.Dup(0); err == nil {
		syscall.Close(fd)
		t.Fatal("descriptors can still be opened")
	}

	parkedTurn("registering with the spare descriptor")
	busyTurns()
	if r.file == nil {
		t.Fatal("a loop with no spare descriptor left the netpoller")
	}
	parkedTurn("still registered")
}

// Loops count their upstream connections, which decide whether they spin.
func TestPollerCountsUpstreams(t *testing.T) {
	if pollDisabled {
		t.Skip("SLUICE_NETPOLL=go: no epoll loop")
	}
	loop := newExecLoop(t)
	cliSide, _ := pair(t)
	upSide, _ := pair(t)
	c := NewConn(cliSide, loop, funcHandler(func([]byte) {}), Options{})
	up := NewConn(upSide, loop, funcHandler(func([]byte) {}), Options{Upstream: true})
	start(loop, c, up)
	if n := loop.poller.upstreamConns.Load(); n != 1 {
		t.Fatalf("%d upstream connections counted, want 1", n)
	}
	onLoop(loop, up.Close)
	onLoop(loop, c.Close)
	if n := loop.poller.upstreamConns.Load(); n != 0 {
		t.Fatalf("%d upstream connections counted after both closed", n)
	}
}
