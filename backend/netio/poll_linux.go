//go:build linux

package netio

import (
	"errors"
	"net"
	"os"
	"runtime"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// pollSupported says whether this platform has the worker-owned epoll loop.
const pollSupported = true

// Poller is one worker's epoll set. Its goroutine collects ready sockets
// with a non-blocking epoll_wait (parking in Go's netpoller on the epoll
// set itself when there are none), enters the worker (Executor.Exec) and
// reads them there, handing each read to its handler at once; the writes those reads
// cause go out at the end of the same turn. So a request costs a read and a
// write, and the epoll_wait is shared by every connection ready at that
// moment. Upstream connections (Options.Upstream) are read first in a turn,
// and what they cause is sent before the other connections are read.
//
// When nothing is ready, a loop that serves clients only first polls a
// little longer while that has been paying (spinThenWait).
//
// Under load the goroutine yields between turns: to other goroutines after
// every turn, and to other processes (an upstream on the same CPU) after
// busySlice of work that sent something upstream.
//
// Sockets are registered edge-triggered for input and output. After a read
// that did not fill its buffer the socket is taken to be drained (as nginx
// does), unless the peer's end of input or an error was signalled with the
// event: then reading goes on until read says so. A read that fills its
// buffer leaves the socket marked readable; it is read again after the
// turn's writes, so one busy connection does not starve the others.
//
// The goroutine exists while connections do: a second after the last one
// closed it closes the epoll set and returns, and the next connection
// starts it again.
//
// Threading: everything but the goroutine's epoll_wait and yields runs on
// the worker.
type Poller struct {
	loop      Executor
	run       *pollRun // nil when no goroutine runs
	conns     []*Conn  // by slot
	gens      []uint32 // by slot: bumped when the slot is freed, so stale events are ignored
	free      []int32
	live      int
	more      []*Conn // read a full buffer, read again next turn
	inProcess bool
	moreSpare []*Conn
	arena     []byte
	processFn func()
	// sentUpstream says an Upstream connection was written to since the
	// loop last slept or yielded. Set on the worker, read by the loop.
	sentUpstream atomic.Bool
	// upstreamConns counts the live Upstream connections. Changed on the
	// worker, read by the loop.
	upstreamConns atomic.Int32
}

// pollRun is one lifetime of the poller's goroutine.
type pollRun struct {
	epfd, wakefd int
	events       [128]syscall.EpollEvent
	n            int
	timeout      int // for the next epoll_wait, in ms
	idleWaits    int // consecutive waits with no connections
	stop         bool
	err          error
	file         *os.File // a duplicate of epfd registered with Go's netpoller, or nil
	rc           syscall.RawConn
	spare        int // a duplicate of epfd for the next register, or -1
	pollFn       func(uintptr) bool
	deadline     bool
	slept        bool          // the last wait parked the goroutine
	awake        int           // turns since the goroutine last parked
	spinning     bool          // poll for a while before parking (see spinThenWait)
	spinFor      time.Duration // spinFor, or wider in tests
}

// busySlice is how long the loop works before it yields its thread's CPU
// to other processes. The proxy's p99 latency, with its upstream on the
// same CPU: 1.8 ms without yielding, 1.3 ms yielding after 300 µs of work,
// at about 3 % less throughput; 100 µs cost 6 %, 1 ms helped less.
const busySlice = 300 * time.Microsecond

// Event slots that are not connections: the wake-up eventfd, and an event
// already handled this turn.
const (
	wakeSlot = -1
	doneSlot = -2
)

const epollET = 1 << 31 // syscall.EPOLLET is a negative int

// NewPoller makes the poller of a worker. The worker keeps it and returns
// it from NetPoller.
func NewPoller(loop Executor) *Poller {
	p := &Poller{loop: loop}
	p.processFn = p.process
	return p
}

func (p *Poller) start() error {
	r, err := newPollRun()
	if err != nil {
		return err
	}
	p.run = r
	go p.loopRun(r)
	return nil
}

// newPollRun makes an epoll set with the wake-up eventfd in it.
func newPollRun() (*pollRun, error) {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("epoll_create1", err)
	}
	wakefd, _, errno := syscall.RawSyscall(syscall.SYS_EVENTFD2, 0, syscall.O_CLOEXEC|syscall.O_NONBLOCK, 0)
	if errno != 0 {
		syscall.Close(epfd)
		return nil, os.NewSyscallError("eventfd2", errno)
	}
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: wakeSlot}
	if err := syscall.EpollCtl(epfd, syscall.EPOLL_CTL_ADD, int(wakefd), &ev); err != nil {
		syscall.Close(epfd)
		syscall.Close(int(wakefd))
		return nil, os.NewSyscallError("epoll_ctl", err)
	}
	// The epoll set is itself pollable: the goroutine parks in Go's
	// netpoller on it like any other goroutine waits for a socket, and no
	// thread of its own blocks in epoll_wait (see register).
	syscall.SetNonblock(epfd, true)
	spare, err := fcntlDup(epfd)
	if err != nil {
		syscall.Close(epfd)
		syscall.Close(int(wakefd))
		return nil, err
	}
	r := &pollRun{epfd: epfd, wakefd: int(wakefd), spare: spare, timeout: -1, spinFor: spinFor}
	r.pollFn = r.poll
	return r, nil
}

// register makes the epoll set known to Go's netpoller, through the
// spare duplicate descriptor, so that wait can park on it; unregister
// closes that descriptor.
//
// While it is registered, every event on any of the loop's sockets also
// runs the netpoller's epoll callback (epoll sets nest), in the context of
// whoever caused the event: a client's write or an upstream's pays for it.
// So a loop that has gone awakeTurns turns without parking leaves the
// netpoller, and a request under load costs the client one epoll callback,
// as nginx's do. Registering again costs a few system calls, paid when such
// a loop parks: a few times per thousand requests under load, while a loop
// that parks every turn or so stays registered.
//
// The duplicate is made before the registration it replaces is dropped
// (unregister), so a process out of descriptors keeps its loop registered
// instead of losing the way to park.
func (r *pollRun) register() error {
	if r.spare < 0 {
		fd, err := fcntlDup(r.epfd)
		if err != nil {
			return err
		}
		r.spare = fd
	}
	f := os.NewFile(uintptr(r.spare), "epoll")
	r.spare = -1
	rc, err := f.SyscallConn()
	if err == nil {
		// A file the netpoller would not take cannot have a deadline.
		err = f.SetReadDeadline(time.Time{})
	}
	if err != nil {
		f.Close()
		return err
	}
	r.file, r.rc, r.deadline = f, rc, false
	return nil
}

// unregister undoes register, once it has a spare descriptor for the next
// one; without one it leaves the loop registered. The epoll set stays open.
func (r *pollRun) unregister() {
	if r.file == nil {
		return
	}
	if r.spare < 0 {
		fd, err := fcntlDup(r.epfd)
		if err != nil {
			return
		}
		r.spare = fd
	}
	r.file.Close()
	r.file, r.rc = nil, nil
}

// close releases the epoll set and the wake-up eventfd.
func (r *pollRun) close() {
	if r.file != nil {
		r.file.Close()
		r.file, r.rc = nil, nil
	}
	if r.spare >= 0 {
		syscall.Close(r.spare)
		r.spare = -1
	}
	syscall.Close(r.epfd)
	syscall.Close(r.wakefd)
}

func fcntlDup(fd int) (int, error) {
	nfd, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_DUPFD_CLOEXEC, 0)
	if errno != 0 {
		return -1, os.NewSyscallError("fcntl", errno)
	}
	return int(nfd), nil
}

// runningLoops counts the pollers' goroutines.
var runningLoops atomic.Int32

func (p *Poller) loopRun(r *pollRun) {
	runningLoops.Add(1)
	defer runningLoops.Add(-1)
	busySince := time.Now()
	for !r.stop {
		if r.next(p.upstreamConns.Load() == 0) {
			busySince = time.Now()
			p.sentUpstream.Store(false)
		}
		if r.err != nil && r.err != syscall.EINTR {
			// Only a broken epoll set fails here; nothing can be polled.
			panic(os.NewSyscallError("epoll_wait", r.err))
		}
		p.loop.Exec(p.processFn)
		// Under load the loop always finds work and would keep its thread
		// until the scheduler preempts it (10 ms): let the goroutines
		// waiting for this thread (another worker's loop, timers, the
		// collector) run between batches.
		runtime.Gosched()
		// The same holds for an upstream on the same CPU (the application
		// of a sidecar, a local backend), which the kernel lets wait for up
		// to a slice and a tick (several ms) while requests sent to it
		// pile up. After every busySlice of work that sent something
		// upstream, give it the CPU, when every CPU the runtime may use
		// has a worker's loop on it. Otherwise the kernel has room to run the
		// upstream elsewhere, and a yield only wakes our own idle threads:
		// with one loop and two CPUs, it cost 15 % of the proxy's
		// throughput in context switches.
		if p.sentUpstream.Load() && time.Since(busySince) > busySlice {
			if int(runningLoops.Load()) >= runtime.GOMAXPROCS(0) {
				syscall.RawSyscall(syscall.SYS_SCHED_YIELD, 0, 0, 0)
			}
			busySince = time.Now()
			p.sentUpstream.Store(false)
		}
	}
	r.close()
}

// next collects the next turn's events: a non-blocking poll, then, when
// nothing is ready, a spin (spin) or a park in Go's netpoller. It reports
// whether the goroutine parked. After awakeTurns turns without parking the
// loop leaves the netpoller (see register).
func (r *pollRun) next(spin bool) (parked bool) {
	r.slept = false
	r.n, r.err = epollPoll(r.epfd, r.events[:])
	if r.n == 0 && r.err == nil && r.timeout != 0 {
		if spin {
			r.spinThenWait()
		} else {
			r.wait()
		}
	}
	if r.slept {
		r.awake = 0
		return true
	}
	if r.awake++; r.awake == awakeTurns {
		r.unregister()
	}
	return false
}

// wait parks the goroutine in Go's netpoller until the epoll set has
// events (or the timeout passes), and collects them.
func (r *pollRun) wait() {
	if r.file == nil {
		if err := r.register(); err != nil {
			// Not registered (the netpoller refused the set): wait a
			// moment without it rather than stop the loop.
			time.Sleep(time.Millisecond)
			r.n, r.err = epollPoll(r.epfd, r.events[:])
			r.slept = true
			return
		}
	}
	if r.timeout > 0 {
		r.file.SetReadDeadline(time.Now().Add(time.Duration(r.timeout) * time.Millisecond))
		r.deadline = true
	} else if r.deadline {
		r.file.SetReadDeadline(time.Time{})
		r.deadline = false
	}
	if err := r.rc.Read(r.pollFn); err != nil {
		r.n = 0
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			r.err = err
		}
	}
}

// awakeTurns is how many turns a loop goes without parking before it
// leaves Go's netpoller (see register). Hello, pinned, wrk's CPU in
// sock_def_readable (the epoll callbacks, run with interrupts off): 4.9 %
// registered, 3.6 % not, 3.3 % with nginx.
const awakeTurns = 8

// spinFor is how long a loop that serves clients only polls before it
// parks (see spinThenWait).
const spinFor = 30 * time.Microsecond

// spinThenWait is wait for a loop with no upstream connections, which
// serves clients only. While such a server is busy, the next request is a
// few microseconds away: rather than park and be woken for it, the loop
// polls its epoll set for up to spinFor first, yielding between polls so
// that a client on the same CPU runs instead of waiting for the spin to
// end. It spins only while spinning pays: an event came during the last
// spin, or the last wait was shorter than spinFor. Under light load waits
// are long and it does not spin at all. A loop with upstream connections
// does not spin: an upstream on the same CPU would lose that time.
//
// Hello against nginx, pinned, 9 alternating rounds: 1.03× nginx's
// requests/s against 0.98× without; wake-ups 3 per 1000 requests against
// 15. With a new connection per request: 17.1k against 14.4k requests/s.
func (r *pollRun) spinThenWait() {
	if r.spinning {
		t0 := time.Now()
		for time.Since(t0) < r.spinFor {
			syscall.RawSyscall(syscall.SYS_SCHED_YIELD, 0, 0, 0)
			if r.n, r.err = epollPoll(r.epfd, r.events[:]); r.n > 0 || r.err != nil {
				return
			}
		}
		r.spinning = false
	}
	t0 := time.Now()
	r.wait()
	// A short wait: spin next time, and leave the netpoller now rather
	// than after awakeTurns. Registering again costs four system calls,
	// and a spinning loop parks only after a spin found nothing, so that
	// comes out of idle time. wrk's CPU in the epoll callbacks (hello):
	// 3.0 % with both rules, 3.8–4.4 % with awakeTurns alone.
	if r.spinning = time.Since(t0) < r.spinFor; r.spinning {
		r.unregister()
	}
}

// poll is wait's RawConn callback: false asks to wait for readiness.
func (r *pollRun) poll(uintptr) bool {
	r.n, r.err = epollPoll(r.epfd, r.events[:])
	if r.n > 0 || r.err != nil {
		return true
	}
	r.slept = true
	return false
}

// process handles one epoll_wait's events. Worker only.
func (p *Poller) process() {
	r := p.run
	p.inProcess = true
	var crash any
	// Upstream connections first, and what their input caused (responses
	// to clients) is sent before the clients' new requests are read: work
	// under way finishes before new work starts, and the clients' replies
	// can arrive while this turn goes on. A loop with no upstream
	// connections skips this pass.
	if p.upstreamConns.Load() > 0 {
		upstreams := 0
		for i := 0; i < r.n; i++ {
			ev := &r.events[i]
			if c := p.eventConn(ev); c != nil && c.opt.Upstream {
				if x := p.dispatch(c, ev.Events); x != nil && crash == nil {
					crash = x
				}
				ev.Fd = doneSlot
				upstreams++
			}
		}
		if upstreams > 0 {
			p.loop.EndTurn()
		}
	}
	for i := 0; i < r.n; i++ {
		ev := &r.events[i]
		switch ev.Fd {
		case doneSlot:
			continue
		case wakeSlot:
			var b [8]byte
			syscall.Read(r.wakefd, b[:])
			continue
		}
		if c := p.eventConn(ev); c != nil {
			if x := p.dispatch(c, ev.Events); x != nil && crash == nil {
				crash = x
			}
		}
	}
	r.n = 0
	// Connections that filled their buffer last turn.
	if len(p.more) > 0 {
		more := p.more
		p.more = p.moreSpare[:0]
		for i, c := range more {
			more[i] = nil
			c.inMore = false
			if x := p.dispatch(c, 0); x != nil && crash == nil {
				crash = x
			}
		}
		p.moreSpare = more[:0]
	}
	p.inProcess = false
	switch {
	case len(p.more) > 0:
		r.timeout = 0
	case p.live > 0:
		r.timeout, r.idleWaits = -1, 0
	default:
		r.timeout = 1000
		if r.idleWaits++; r.idleWaits > 1 {
			r.stop = true
			p.run = nil
		}
	}
	if crash != nil {
		// Every other event was handled (an edge not acted on is never
		// signalled again); now the worker logs the failure.
		panic(crash)
	}
}

// eventConn returns the connection an event is for, or nil when the event
// is not a connection's or is stale.
func (p *Poller) eventConn(ev *syscall.EpollEvent) *Conn {
	slot := ev.Fd
	if slot < 0 {
		return nil
	}
	if c := p.conns[slot]; c != nil && p.gens[slot] == uint32(ev.Pad) {
		return c
	}
	return nil
}

// dispatch acts on one connection's events (none: read on). A panic in
// a handler is caught here, so it costs that event, not the batch.
func (p *Poller) dispatch(c *Conn, e uint32) (crash any) {
	defer func() {
		if crash = recover(); crash != nil {
			c.loop.SetReading(nil)
		}
	}()
	if e&(syscall.EPOLLOUT|syscall.EPOLLERR|syscall.EPOLLHUP) != 0 && c.pendingLen() > 0 {
		c.onWritable()
	}
	if e == 0 || e&(syscall.EPOLLIN|syscall.EPOLLRDHUP|syscall.EPOLLERR|syscall.EPOLLHUP) != 0 {
		if e&(syscall.EPOLLRDHUP|syscall.EPOLLERR|syscall.EPOLLHUP) != 0 {
			c.rdhup = true
		}
		if e != 0 {
			c.readable = true
		}
		c.readPoll()
	}
	return nil
}

// add registers c. Worker only.
func (p *Poller) add(c *Conn) error {
	if p.run == nil {
		if err := p.start(); err != nil {
			return err
		}
	}
	var slot int32
	if n := len(p.free); n > 0 {
		slot = p.free[n-1]
		p.free = p.free[:n-1]
	} else {
		slot = int32(len(p.conns))
		p.conns = append(p.conns, nil)
		p.gens = append(p.gens, 0)
	}
	ev := syscall.EpollEvent{
		Events: syscall.EPOLLIN | syscall.EPOLLOUT | syscall.EPOLLRDHUP | epollET,
		Fd:     slot,
		Pad:    int32(p.gens[slot]),
	}
	if err := syscall.EpollCtl(p.run.epfd, syscall.EPOLL_CTL_ADD, c.fd, &ev); err != nil {
		p.free = append(p.free, slot)
		return os.NewSyscallError("epoll_ctl", err)
	}
	p.conns[slot] = c
	c.slot = slot
	p.live++
	if c.opt.Upstream {
		p.upstreamConns.Add(1)
	}
	return nil
}

// remove forgets c; its events still queued are ignored. Closing the
// descriptor takes it out of the epoll set. Worker only.
func (p *Poller) remove(c *Conn) {
	slot := c.slot
	if slot < 0 || p.conns[slot] != c {
		return
	}
	p.conns[slot] = nil
	p.gens[slot]++
	p.free = append(p.free, slot)
	c.slot = -1
	p.live--
	if c.opt.Upstream {
		p.upstreamConns.Add(-1)
	}
	if p.live == 0 {
		p.wake() // to see that it may stop soon
	}
}

// again reads c again after this turn's writes.
func (p *Poller) again(c *Conn) {
	if c.inMore {
		return
	}
	c.inMore = true
	p.more = append(p.more, c)
	if !p.inProcess {
		p.wake() // outside process, the goroutine may be waiting with no timeout
	}
}

// wake interrupts the goroutine's epoll_wait.
func (p *Poller) wake() {
	if p.run != nil {
		one := [8]byte{1}
		syscall.Write(p.run.wakefd, one[:])
	}
}

// readBuf returns the free tail of the poller's arena, at least minRead long.
func (p *Poller) readBuf() []byte {
	if len(p.arena) < minRead {
		p.arena = make([]byte, pollArenaSize)
	}
	return p.arena
}

const pollArenaSize = 64 << 10

// detach takes the descriptor out of nc: a non-blocking duplicate that
// the poller owns, after which nc is closed (so Go's netpoller forgets it).
func detach(nc syscall.Conn) (int, error) {
	rc, err := nc.SyscallConn()
	if err != nil {
		return -1, err
	}
	fd := -1
	var derr error
	err = rc.Control(func(s uintptr) {
		r, _, errno := syscall.Syscall(syscall.SYS_FCNTL, s, syscall.F_DUPFD_CLOEXEC, 0)
		if errno != 0 {
			derr = os.NewSyscallError("fcntl", errno)
			return
		}
		fd = int(r)
	})
	if err == nil {
		err = derr
	}
	if err != nil {
		return -1, err
	}
	if err := syscall.SetNonblock(fd, true); err != nil {
		syscall.Close(fd)
		return -1, err
	}
	return fd, nil
}

// epollPoll is epoll_wait with a zero timeout: it never blocks.
func epollPoll(epfd int, events []syscall.EpollEvent) (int, error) {
	r, _, e := syscall.RawSyscall6(syscall.SYS_EPOLL_PWAIT, uintptr(epfd), uintptr(unsafe.Pointer(&events[0])), uintptr(len(events)), 0, 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}

// sysRead and sysWrite are read(2) and write(2) on a non-blocking socket:
// they never block, so they skip the scheduler's system-call bookkeeping.
func sysRead(fd int, b []byte) (int, syscall.Errno) {
	r, _, e := syscall.RawSyscall(syscall.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	return int(r), e
}

func sysWrite(fd int, b []byte) (int, syscall.Errno) {
	r, _, e := syscall.RawSyscall(syscall.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	return int(r), e
}

func sysShutdownWrite(fd int) { syscall.Shutdown(fd, syscall.SHUT_WR) }
func sysClose(fd int)         { syscall.Close(fd) }

// RawSocket is an accepted TCP connection as a non-blocking descriptor,
// ready for a Poller (see AcceptRaw).
type RawSocket struct {
	FD            int
	Local, Remote net.Addr
}

// Acceptor accepts TCP connections as raw non-blocking descriptors, for
// the workers' Pollers to take as they are. A net.Conn would cost a
// registration with Go's epoll set, keep-alive options, and then a dup, a
// mode change, a close and a deregistration to take the descriptor back
// out: about six system calls per connection that accept4 does not need.
// It waits on a duplicate of the listener's descriptor opened as an
// os.File, whose RawConn (unlike a listener's) can wait for readiness in
// Go's netpoller: no thread of its own blocks.
type Acceptor struct {
	local  *net.TCPAddr
	f      *os.File
	rc     syscall.RawConn
	fn     func(fd uintptr) bool
	fd     int
	sa     syscall.Sockaddr
	err    error
	closed atomic.Bool
}

// NewAcceptor returns an Acceptor for ln, or nil when ln is not a TCP
// listener or the epoll loop is off: then accept net.Conns.
func NewAcceptor(ln net.Listener) *Acceptor {
	tl, ok := ln.(*net.TCPListener)
	if !ok || pollDisabled {
		return nil
	}
	fd, err := detach(tl) // only a duplicate: the listener stays open
	if err != nil {
		return nil
	}
	a := &Acceptor{local: tl.Addr().(*net.TCPAddr), f: os.NewFile(uintptr(fd), "listener")}
	if a.rc, err = a.f.SyscallConn(); err != nil {
		a.f.Close()
		return nil
	}
	a.fn = a.tryAccept
	return a
}

// tryAccept is the RawConn callback: false asks to wait for readiness.
func (a *Acceptor) tryAccept(lfd uintptr) bool {
	for {
		a.fd, a.sa, a.err = syscall.Accept4(int(lfd), syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC)
		switch a.err {
		case syscall.EINTR, syscall.ECONNABORTED:
			continue
		case syscall.EAGAIN:
			return false
		}
		return true
	}
}

// Accept waits for a connection. After Close it returns an error that
// wraps net.ErrClosed; another error is the listener's (out of
// descriptors, say: the caller decides whether to wait and retry). One
// goroutine calls Accept.
func (a *Acceptor) Accept() (RawSocket, error) {
	if err := a.rc.Read(a.fn); err != nil {
		if a.closed.Load() || errors.Is(err, os.ErrClosed) {
			err = net.ErrClosed
		}
		return RawSocket{}, err
	}
	if a.err != nil {
		return RawSocket{}, os.NewSyscallError("accept4", a.err)
	}
	fd := a.fd
	syscall.SetsockoptInt(fd, syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1)
	s := RawSocket{FD: fd, Remote: sockaddrToTCP(a.sa), Local: a.local}
	if a.local.IP.IsUnspecified() {
		if lsa, err := syscall.Getsockname(fd); err == nil {
			s.Local = sockaddrToTCP(lsa)
		}
	}
	return s, nil
}

// Close stops Accept; the listening socket closes once the listener is
// closed too. Safe from any goroutine.
func (a *Acceptor) Close() {
	a.closed.Store(true)
	a.f.Close()
}

func sockaddrToTCP(sa syscall.Sockaddr) net.Addr {
	switch a := sa.(type) {
	case *syscall.SockaddrInet4:
		return &net.TCPAddr{IP: net.IP(append([]byte(nil), a.Addr[:]...)), Port: a.Port}
	case *syscall.SockaddrInet6:
		ip := net.IP(append([]byte(nil), a.Addr[:]...))
		zone := ""
		if a.ZoneId != 0 {
			if ifi, err := net.InterfaceByIndex(int(a.ZoneId)); err == nil {
				zone = ifi.Name
			}
		}
		return &net.TCPAddr{IP: ip, Port: a.Port, Zone: zone}
	}
	return &net.TCPAddr{}
}

// NewRawConn makes a Conn of an accepted descriptor. On a loop without a
// Poller it falls back to a net.Conn made from the descriptor.
func NewRawConn(s RawSocket, loop Loop, h Handler, opt Options) (*Conn, error) {
	if ex, ok := loop.(Executor); ok {
		return newPollConn(ex, h, opt, s.FD, s.Local, s.Remote), nil
	}
	f := os.NewFile(uintptr(s.FD), "tcp")
	nc, err := net.FileConn(f)
	f.Close()
	if err != nil {
		return nil, err
	}
	return NewConn(nc, loop, h, opt), nil
}

// Close closes a socket that was accepted but will not be used.
func (s RawSocket) Close() { syscall.Close(s.FD) }
