package netio

import (
	"syscall"
	"time"

	"sluice/backend/event"
)

// The poll-mode half of Conn: the socket is a non-blocking descriptor in the
// worker's epoll set, and every method here runs on the worker.

func (c *Conn) startPoll() {
	if c.started || c.fdClosed {
		return
	}
	c.started = true
	if err := c.poller.add(c); err != nil {
		c.closeFD()
		c.loop.Post(func() { c.endInput(ErrorCode(err)) })
		return
	}
	if c.opt.ReadTimeout > 0 || c.opt.WriteTimeout > 0 || c.opt.IdleTimeout > 0 {
		now := time.Now().UnixNano()
		c.lastRead, c.lastWrite = now, now
		c.timeoutFn = c.checkTimeouts
		c.timer = time.AfterFunc(c.timeoutStep(), func() { c.loop.Post(c.timeoutFn) })
	}
}

// readTries bounds the reads of one connection in one turn; a connection
// that still has input then waits for the next turn, behind the others.
const readTries = 4

// readPoll reads what the socket has and hands each read to the handler.
func (c *Conn) readPoll() {
	for tries := 0; ; tries++ {
		if c.readerDone || c.fdClosed || !c.readable || c.holds.Load() > 0 {
			// A held connection stays readable; resumeRead goes on.
			return
		}
		if tries == readTries {
			c.poller.again(c)
			return
		}
		buf := c.poller.readBuf()
		n, errno := sysRead(c.fd, buf)
		if n > 0 {
			b := buf[:n:n]
			c.poller.arena = buf[n:]
			c.BytesIn.Add(int64(n))
			if c.Meter != nil {
				c.Meter.Received(n)
			}
			if c.timer != nil {
				c.lastRead = time.Now().UnixNano()
			}
			if n < len(buf) && !c.rdhup {
				c.readable = false // drained: the next arrival is a new edge
			}
			c.loop.SetReading(c)
			c.h.OnRead(b)
			c.loop.SetReading(nil)
			continue
		}
		switch {
		case n == 0:
			c.readable = false
			c.endInput(event.NoError)
		case errno == syscall.EAGAIN:
			c.readable = false
		case errno == syscall.EINTR:
			continue
		default:
			c.readable = false
			if c.closedBy.Load() {
				c.endInput(event.NoError)
			} else {
				c.endInput(ErrorCode(errno))
			}
		}
		return
	}
}

// resumeRead goes on reading once nothing holds the connection back.
func (c *Conn) resumeRead() {
	if c.holds.Load() <= 0 && c.readable {
		c.readPoll()
	}
}

// endInput tells the handler that input has ended, once.
func (c *Conn) endInput(code event.ErrorCode) {
	if c.readerDone {
		return
	}
	c.readerDone = true
	c.h.OnClosed(code)
	if c.wrDone {
		c.closeFD() // both directions are done
	}
}

func (c *Conn) pendingLen() int { return len(c.pending) - c.pendOff }

func (c *Conn) flushPoll() {
	c.scheduled = false
	out := c.out
	if cap(out) <= 64<<10 {
		c.out = out[:0]
	} else {
		c.out = nil
	}
	if c.closed || c.fdClosed {
		return
	}
	if c.pendingLen() > 0 {
		// Waiting for the socket to be writable: keep the order.
		c.pending = append(c.pending, out...)
		if c.ending {
			c.endAfter = true
		}
		return
	}
	if len(out) > 0 {
		if c.opt.Upstream {
			c.poller.sentUpstream.Store(true)
		}
		n, errno := c.writeFD(out)
		if errno != 0 {
			c.writeFailed(ErrorCode(errno))
			return
		}
		if n < len(out) {
			c.pending = append(c.pending[:0], out[n:]...)
			c.pendOff = 0
			c.endAfter = c.ending
			if c.timer != nil {
				c.lastWrite = time.Now().UnixNano()
			}
			return
		}
	}
	if c.ending {
		c.closed = true
		c.closedBy.Store(true)
		c.shutdownPoll()
	}
}

// onWritable writes what waited for room in the socket.
func (c *Conn) onWritable() {
	if c.closed || c.fdClosed {
		return
	}
	n, errno := c.writeFD(c.pending[c.pendOff:])
	if errno != 0 {
		c.writeFailed(ErrorCode(errno))
		return
	}
	c.pendOff += n
	if c.pendingLen() > 0 {
		return
	}
	if cap(c.pending) <= 64<<10 {
		c.pending = c.pending[:0]
	} else {
		c.pending = nil
	}
	c.pendOff = 0
	if c.endAfter {
		c.closed = true
		c.closedBy.Store(true)
		c.shutdownPoll()
	}
}

// writeFD writes b until the kernel takes no more. A short write means the
// socket buffer is full (and the kernel will signal when it is not), so it
// is not retried.
func (c *Conn) writeFD(b []byte) (int, syscall.Errno) {
	off := 0
	var errno syscall.Errno
	for off < len(b) {
		m, e := sysWrite(c.fd, b[off:])
		if m > 0 {
			off += m
			if off < len(b) {
				break
			}
			continue
		}
		if e == syscall.EINTR {
			continue
		}
		if e != syscall.EAGAIN {
			errno = e
		}
		break
	}
	if off > 0 {
		c.BytesOut.Add(int64(off))
		if c.Meter != nil {
			c.Meter.Sent(off)
		}
		if c.timer != nil {
			c.lastWrite = time.Now().UnixNano()
		}
		if c.queued.Add(-int64(off)) < LowWater && c.hasHeld.Load() {
			c.mu.Lock()
			c.releaseHeld()
			c.mu.Unlock()
		}
	}
	return off, errno
}

// writeFailed ends a connection whose output cannot be delivered.
func (c *Conn) writeFailed(code event.ErrorCode) {
	c.mu.Lock()
	c.closed = true
	c.pending = nil
	c.releaseHeld()
	c.mu.Unlock()
	c.ending = true
	c.out = nil
	c.closeFD()
	if !c.readerDone {
		c.loop.Post(func() { c.endInput(code) })
	}
}

// shutdownPoll ends output after a graceful end. The socket is closed when
// input has ended too, or after a grace period for the peer to read what was
// sent (closing with unread input would send a reset).
func (c *Conn) shutdownPoll() {
	c.wrDone = true
	if c.readerDone {
		c.closeFD()
		return
	}
	sysShutdownWrite(c.fd)
	time.AfterFunc(lingerTime, func() { c.loop.Post(c.closeFD) })
}

const lingerTime = 5 * time.Second

func (c *Conn) closeFD() {
	if c.fdClosed {
		return
	}
	c.fdClosed = true
	c.readable = false
	c.poller.remove(c)
	sysClose(c.fd)
	if c.timer != nil {
		c.timer.Stop()
	}
}

// timeoutStep is how often the timeouts are looked at when nothing moves.
func (c *Conn) timeoutStep() time.Duration {
	d := time.Duration(0)
	for _, t := range []time.Duration{c.opt.ReadTimeout, c.opt.WriteTimeout, c.opt.IdleTimeout} {
		if t > 0 && (d == 0 || t < d) {
			d = t
		}
	}
	return d
}

// checkTimeouts applies the read, idle and write timeouts, and sets the
// timer for the next deadline. One timer per connection, never reset on the
// data path: reads and writes only note the time.
func (c *Conn) checkTimeouts() {
	if c.fdClosed {
		return
	}
	now := time.Now().UnixNano()
	next := c.timeoutStep()
	left := func(limit time.Duration, since int64) time.Duration {
		l := limit - time.Duration(now-since)
		if l > 0 && l < next {
			next = l
		}
		return l
	}
	if t := c.opt.ReadTimeout; t > 0 && !c.readerDone && left(t, c.lastRead) <= 0 {
		c.readable = false
		c.endInput(event.ReadTimeout)
	}
	if t := c.opt.IdleTimeout; t > 0 && !c.readerDone && left(t, max(c.lastRead, c.lastWrite)) <= 0 {
		c.readable = false
		c.endInput(event.IdleTimeout)
	}
	if t := c.opt.WriteTimeout; t > 0 && c.pendingLen() > 0 && !c.closed && left(t, c.lastWrite) <= 0 {
		c.writeFailed(event.WriteTimeout)
	}
	if c.fdClosed || (c.readerDone && c.opt.WriteTimeout == 0) {
		return
	}
	c.timer.Reset(next)
}
