//go:build linux

package netio

import (
	"os"
	"syscall"
	"unsafe"
)

// pollSupported says whether this platform has the worker-owned epoll loop.
const pollSupported = true

// Poller is one worker's epoll set. Its goroutine waits in epoll_wait and,
// when sockets are ready, enters the worker (Executor.Exec) and reads them
// there, handing each read to its handler at once; the writes those reads
// cause go out at the end of the same turn. So a request costs a read and a
// write, and the epoll_wait is shared by every connection ready at that
// moment.
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
// Threading: everything but the goroutine's epoll_wait runs on the worker.
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
}

// pollRun is one lifetime of the poller's goroutine.
type pollRun struct {
	epfd, wakefd int
	events       [128]syscall.EpollEvent
	n            int
	timeout      int // for the next epoll_wait, in ms
	idleWaits    int // consecutive waits with no connections
	stop         bool
}

const wakeSlot = -1

const epollET = 1 << 31 // syscall.EPOLLET is a negative int

// NewPoller makes the poller of a worker. The worker keeps it and returns
// it from NetPoller.
func NewPoller(loop Executor) *Poller {
	p := &Poller{loop: loop}
	p.processFn = p.process
	return p
}

func (p *Poller) start() error {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return os.NewSyscallError("epoll_create1", err)
	}
	wakefd, _, errno := syscall.RawSyscall(syscall.SYS_EVENTFD2, 0, syscall.O_CLOEXEC|syscall.O_NONBLOCK, 0)
	if errno != 0 {
		syscall.Close(epfd)
		return os.NewSyscallError("eventfd2", errno)
	}
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: wakeSlot}
	if err := syscall.EpollCtl(epfd, syscall.EPOLL_CTL_ADD, int(wakefd), &ev); err != nil {
		syscall.Close(epfd)
		syscall.Close(int(wakefd))
		return os.NewSyscallError("epoll_ctl", err)
	}
	r := &pollRun{epfd: epfd, wakefd: int(wakefd), timeout: -1}
	p.run = r
	go p.loopRun(r)
	return nil
}

func (p *Poller) loopRun(r *pollRun) {
	for !r.stop {
		n, err := syscall.EpollWait(r.epfd, r.events[:], r.timeout)
		if err != nil && err != syscall.EINTR {
			// Only a broken epoll set fails here; nothing can be polled.
			panic(os.NewSyscallError("epoll_wait", err))
		}
		r.n = max(n, 0)
		p.loop.Exec(p.processFn)
	}
	syscall.Close(r.epfd)
	syscall.Close(r.wakefd)
}

// process handles one epoll_wait's events. Worker only.
func (p *Poller) process() {
	r := p.run
	p.inProcess = true
	var crash any
	for i := 0; i < r.n; i++ {
		ev := &r.events[i]
		if ev.Fd == wakeSlot {
			var b [8]byte
			syscall.Read(r.wakefd, b[:])
			continue
		}
		slot := ev.Fd
		c := p.conns[slot]
		if c == nil || p.gens[slot] != uint32(ev.Pad) {
			continue
		}
		if x := p.dispatch(c, ev.Events); x != nil && crash == nil {
			crash = x
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
