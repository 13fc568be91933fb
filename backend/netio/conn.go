// Package netio moves bytes between sockets and workers. Writes happen on
// the worker, are buffered, and are flushed at the end of the worker's turn
// with a non-blocking write, so a slow peer never stalls the worker.
//
// On Linux a TCP connection belongs to its worker's epoll loop (Poller):
// the loop's goroutine reads every ready socket inside the worker and hands
// each read to its handler at once, and output the kernel does not take at
// once waits for the socket to become writable. Elsewhere (and with
// SLUICE_NETPOLL=go, or on a Loop that is not an Executor) a Conn reads on
// its own goroutine and hands what it read to the worker through Loop.Post,
// and a flusher goroutine finishes writes the kernel did not take.
package netio

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"sluice/backend/event"
)

// Loop is the part of a worker a Conn needs.
type Loop interface {
	// Post runs fn on the worker. Safe from any goroutine.
	Post(fn func())
	// Defer runs fn at the end of the worker's current turn. Worker only.
	Defer(fn func())
	// Reading is the connection whose input the worker is processing now,
	// and SetReading sets it. Worker only.
	Reading() *Conn
	SetReading(c *Conn)
}

// Executor is a Loop that can be entered synchronously; connections on such
// a loop are driven by its Poller where the platform has one.
type Executor interface {
	Loop
	// Exec runs fn on the worker and waits for it, with the turn's deferred
	// work. Never called from a task on the same worker.
	Exec(fn func())
	// NetPoller returns the worker's Poller (made with NewPoller once).
	// Worker only.
	NetPoller() *Poller
	// EndTurn does the turn's deferred work now (flushing what the turn
	// has written so far), from inside Exec. Worker only.
	EndTurn()
}

// pollDisabled turns the epoll loop off (SLUICE_NETPOLL=go), to compare the
// two or to work around a problem with it.
var pollDisabled = os.Getenv("SLUICE_NETPOLL") == "go"

// Backpressure. A connection whose output backs up (the peer reads slower
// than the data arrives) holds back the connection whose input produced the
// data: while a write leaves more than HighWater bytes queued, the
// connection being read at that moment stops reading until the queue falls
// below LowWater. So a slow client of a proxied download slows the upstream
// down instead of filling memory, and nothing else on the worker waits.
const (
	HighWater = 256 << 10
	LowWater  = 64 << 10
)

// Handler receives a Conn's input on its worker.
type Handler interface {
	OnRead(b []byte)
	// OnClosed is called once when reading stops: code is NoError for a clean
	// end of input, otherwise why it failed.
	OnClosed(code event.ErrorCode)
}

// Options tunes a Conn. Zero values mean no limit.
type Options struct {
	ReadTimeout  time.Duration // no bytes received for this long ends the input with ReadTimeout
	WriteTimeout time.Duration // a write stuck for this long ends the connection with WriteTimeout
	IdleTimeout  time.Duration // neither direction active for this long ends it with IdleTimeout
	ReadLimit    int64         // bytes read but not yet processed before the reader pauses (default 1 MiB)
	// Upstream marks a connection to an upstream server. On the epoll loop
	// its input is handled first in a turn and what that causes is sent at
	// once: responses leave before new requests are read, so work already
	// under way finishes first.
	Upstream bool
}

// Conn is a socket owned by one worker.
//
// Threading: Write, End, Close and Start are called on the owning worker only.
// The reader and flusher goroutines touch only the fields guarded by mu and
// the atomics.
type Conn struct {
	nc      net.Conn
	rc      syscall.RawConn
	loop    Loop
	h       Handler
	opt     Options
	flushFn func()
	writeFn func(fd uintptr) bool
	readFn  func()

	inmu    sync.Mutex
	inq     [][]byte // read, not yet delivered
	inspare [][]byte
	wbuf    []byte // tryWrite's argument and result, for writeFn
	wn      int

	// worker-only
	out        []byte
	scheduled  bool
	ending     bool
	readerDone bool

	mu       sync.Mutex
	pending  []byte // bytes the flusher still has to write
	flushing bool
	closed   bool
	endAfter bool

	unread   atomic.Int64
	queued   atomic.Int64 // bytes written by the worker, not yet taken by the kernel
	holds    atomic.Int32 // congested connections holding this one's reading back
	held     []*Conn      // connections this one holds back; guarded by mu
	resume   chan struct{}
	lastIO   atomic.Int64
	closedBy atomic.Bool

	// Poll mode: the worker's Poller drives the socket. Worker only.
	poller    *Poller
	fd        int
	slot      int32
	started   bool
	readable  bool // input may be waiting: an edge was seen and not drained
	rdhup     bool // the peer's end (or an error) was signalled: read until read says so
	inMore    bool // on the poller's list to read again next turn
	wrDone    bool // output was shut down after a graceful end
	fdClosed  bool
	pendOff   int // bytes of pending already written
	hasHeld   atomic.Bool
	timer     *time.Timer
	timeoutFn func()
	resumeFn  func()
	lastRead  int64
	lastWrite int64
	raddr     net.Addr
	laddr     net.Addr

	BytesIn, BytesOut atomic.Int64

	// Meter, when set before Start, is told of every byte moved.
	Meter Meter
}

// Meter counts a connection's traffic (the metrics package's Inbound and
// Outbound). Its methods are called from the reader and flusher goroutines
// as well as the worker, so they must be safe for concurrent use.
type Meter interface {
	Received(n int)
	Sent(n int)
}

// NewConn wraps nc. Call Start to begin reading.
func NewConn(nc net.Conn, loop Loop, h Handler, opt Options) *Conn {
	if ex, ok := loop.(Executor); ok && pollSupported && !pollDisabled {
		if tc, ok := nc.(*net.TCPConn); ok {
			if fd, err := detach(tc); err == nil {
				c := newPollConn(ex, h, opt, fd, nc.LocalAddr(), nc.RemoteAddr())
				nc.Close()
				return c
			}
		}
	}
	c := newConn(loop, h, opt)
	c.nc = nc
	c.resume = make(chan struct{}, 1)
	if sc, ok := nc.(syscall.Conn); ok {
		if rc, err := sc.SyscallConn(); err == nil {
			c.rc = rc
		}
	}
	c.writeFn = c.rawWrite
	c.readFn = c.deliver
	return c
}

func newConn(loop Loop, h Handler, opt Options) *Conn {
	c := &Conn{loop: loop, h: h, opt: opt, slot: -1, fd: -1}
	if opt.ReadLimit <= 0 {
		c.opt.ReadLimit = 1 << 20
	}
	c.flushFn = c.flush
	c.lastIO.Store(time.Now().UnixNano())
	return c
}

// newPollConn makes a Conn of a non-blocking descriptor the loop's Poller
// will drive.
func newPollConn(ex Executor, h Handler, opt Options, fd int, local, remote net.Addr) *Conn {
	c := newConn(ex, h, opt)
	c.poller, c.fd = ex.NetPoller(), fd
	c.laddr, c.raddr = local, remote
	c.resumeFn = c.resumeRead
	return c
}

// SetHandler replaces the handler; call before Start.
func (c *Conn) SetHandler(h Handler) { c.h = h }

// Start begins reading: on the worker's Poller, or on a new goroutine.
// Worker only.
func (c *Conn) Start() {
	if c.poller != nil {
		c.startPoll()
		return
	}
	go c.readLoop()
}

// Reads go into an arena: each read fills the arena's free tail and hands
// exactly the bytes read to the worker, so reading copies nothing and
// allocates only when an arena is used up. A handed-off slice is never
// written again.
const (
	arenaSize = 16 << 10
	minRead   = 2 << 10
)

func (c *Conn) readLoop() {
	arena := make([]byte, arenaSize)
	for {
		c.waitReadable()
		if d := c.readDeadline(); !d.IsZero() {
			c.nc.SetReadDeadline(d)
		}
		if len(arena) < minRead {
			arena = make([]byte, arenaSize)
		}
		n, err := c.nc.Read(arena)
		if n > 0 {
			b := arena[:n:n]
			arena = arena[n:]
			c.BytesIn.Add(int64(n))
			if c.Meter != nil {
				c.Meter.Received(n)
			}
			c.lastIO.Store(time.Now().UnixNano())
			c.unread.Add(int64(n))
			c.inmu.Lock()
			c.inq = append(c.inq, b)
			first := len(c.inq) == 1
			c.inmu.Unlock()
			if first {
				c.loop.Post(c.readFn)
			}
		}
		if err != nil {
			code := c.classify(err)
			if code == IdleTimeoutRetry {
				continue
			}
			if c.closedBy.Load() {
				c.nc.Close()
			}
			c.loop.Post(func() {
				if !c.readerDone {
					c.readerDone = true
					c.h.OnClosed(code)
				}
			})
			return
		}
	}
}

// deliver hands what the reader queued to the handler, on the worker. It
// is posted once when the queue stops being empty, so reads that pile up
// while the worker is busy are delivered in one task.
func (c *Conn) deliver() {
	c.inmu.Lock()
	q := c.inq
	c.inq = c.inspare[:0]
	c.inmu.Unlock()
	for i, b := range q {
		q[i] = nil
		if c.unread.Add(-int64(len(b))) < c.opt.ReadLimit {
			c.wake()
		}
		if !c.readerDone {
			c.loop.SetReading(c)
			c.h.OnRead(b)
			c.loop.SetReading(nil)
		}
	}
	c.inmu.Lock()
	c.inspare = q[:0]
	c.inmu.Unlock()
}

// waitReadable blocks the reader while the worker has too much of this
// connection's input unprocessed, or a congested connection holds it back.
func (c *Conn) waitReadable() {
	for (c.unread.Load() >= c.opt.ReadLimit || c.holds.Load() > 0) && !c.closedBy.Load() {
		select {
		case <-c.resume:
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (c *Conn) wake() {
	if c.poller != nil {
		if c.holds.Load() <= 0 {
			c.loop.Post(c.resumeFn)
		}
		return
	}
	select {
	case c.resume <- struct{}{}:
	default:
	}
}

// queue accounts n more bytes of output, and holds back the connection
// being read when the output is congested. Worker only.
func (c *Conn) queue(n int) {
	if c.queued.Add(int64(n)) <= HighWater {
		return
	}
	src := c.loop.Reading()
	if src == nil || src == c {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	for _, h := range c.held {
		if h == src {
			return
		}
	}
	c.held = append(c.held, src)
	c.hasHeld.Store(true)
	src.holds.Add(1)
}

// sent accounts n bytes taken by the kernel and lets the held connections
// read again once the queue is short. Called with mu held.
func (c *Conn) sent(n int) {
	if c.queued.Add(-int64(n)) < LowWater || c.closed {
		c.releaseHeld()
	}
}

// releaseHeld lets every held connection read again. Called with mu held.
func (c *Conn) releaseHeld() {
	for _, h := range c.held {
		h.holds.Add(-1)
		if h.poller != nil && c.poller == nil {
			// A flusher goroutine holding c.mu must not run h's reads
			// inline: they may write to c.
			go h.wake()
		} else {
			h.wake()
		}
	}
	c.held = nil
	c.hasHeld.Store(false)
}

// Queued is how many bytes of output wait to be sent.
func (c *Conn) Queued() int64 { return c.queued.Load() }

// IdleTimeoutRetry is returned by classify when a read deadline passed but
// the connection was active in the other direction.
const IdleTimeoutRetry event.ErrorCode = 255

func (c *Conn) readDeadline() time.Time {
	var d time.Duration
	switch {
	case c.opt.ReadTimeout > 0 && c.opt.IdleTimeout > 0:
		d = min(c.opt.ReadTimeout, c.opt.IdleTimeout)
	case c.opt.ReadTimeout > 0:
		d = c.opt.ReadTimeout
	case c.opt.IdleTimeout > 0:
		d = c.opt.IdleTimeout
	default:
		return time.Time{}
	}
	return time.Now().Add(d)
}

func (c *Conn) classify(err error) event.ErrorCode {
	if c.closedBy.Load() {
		return event.NoError
	}
	if errors.Is(err, io.EOF) {
		return event.NoError
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		if c.opt.ReadTimeout > 0 && (c.opt.IdleTimeout == 0 || c.opt.ReadTimeout <= c.opt.IdleTimeout) {
			return event.ReadTimeout
		}
		idle := time.Duration(time.Now().UnixNano() - c.lastIO.Load())
		if idle < c.opt.IdleTimeout {
			return IdleTimeoutRetry
		}
		return event.IdleTimeout
	}
	return ErrorCode(err)
}

// ErrorCode maps a network error to a StreamEnd error code.
func ErrorCode(err error) event.ErrorCode {
	switch {
	case err == nil:
		return event.NoError
	case errors.Is(err, syscall.ECONNREFUSED):
		return event.ConnectionRefused
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return event.ConnectionReset
	case errors.Is(err, os.ErrDeadlineExceeded):
		return event.ConnectionTimeout
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return event.CannotResolve
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		if opErr.Timeout() {
			return event.ConnectionTimeout
		}
		return event.ConnectionRefused
	}
	if errors.Is(err, net.ErrClosed) {
		return event.NoError
	}
	return event.ReadError
}

// Write queues b for sending; it is flushed at the end of the worker's turn.
func (c *Conn) Write(b []byte) {
	if c.ending || len(b) == 0 {
		return
	}
	c.out = append(c.out, b...)
	c.queue(len(b))
	c.schedule()
}

// WriteData queues every chunk of d.
func (c *Conn) WriteData(d *event.Data) {
	if c.ending {
		return
	}
	c.out = d.AppendTo(c.out)
	c.queue(d.Size())
	c.schedule()
}

// Buffer gives direct access to the output buffer for append-style encoders;
// call Commit with the extended slice.
func (c *Conn) Buffer() []byte { return c.out }

// Commit stores buf (an extension of Buffer()) as the output buffer.
func (c *Conn) Commit(buf []byte) {
	if c.ending {
		return
	}
	c.queue(len(buf) - len(c.out))
	c.out = buf
	c.schedule()
}

func (c *Conn) schedule() {
	if !c.scheduled {
		c.scheduled = true
		c.loop.Defer(c.flushFn)
	}
}

// End closes the connection once everything written so far has been sent.
func (c *Conn) End() {
	if c.ending {
		return
	}
	c.ending = true
	if !c.scheduled {
		c.scheduled = true
		c.loop.Defer(c.flushFn)
	}
}

// Close closes the connection at once, dropping unsent output.
func (c *Conn) Close() {
	c.ending = true
	c.out = nil
	c.mu.Lock()
	c.pending = nil
	c.closed = true
	c.releaseHeld()
	c.mu.Unlock()
	c.closedBy.Store(true)
	if c.poller != nil {
		c.closeFD()
		if c.started && !c.readerDone {
			// As in goroutine mode, input ends (cleanly) after a Close.
			c.loop.Post(func() { c.endInput(event.NoError) })
		}
		return
	}
	c.nc.Close()
}

func (c *Conn) flush() {
	if c.poller != nil {
		c.flushPoll()
		return
	}
	c.scheduled = false
	out := c.out
	// Whatever happens to out below, its bytes are written or copied
	// before flush returns, so the buffer is reused for the next turn.
	if cap(out) <= 64<<10 {
		c.out = out[:0]
	} else {
		c.out = nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	if c.flushing {
		c.pending = append(c.pending, out...)
		if c.ending {
			c.endAfter = true
		}
		return
	}
	if len(out) > 0 {
		n := c.tryWrite(out)
		c.BytesOut.Add(int64(n))
		if c.Meter != nil && n > 0 {
			c.Meter.Sent(n)
		}
		c.sent(n)
		if n < len(out) {
			c.pending = append(c.pending[:0], out[n:]...)
			c.flushing = true
			c.endAfter = c.ending
			go c.flushLoop()
			return
		}
		c.lastIO.Store(time.Now().UnixNano())
	}
	if c.ending {
		c.closed = true
		c.closedBy.Store(true)
		c.shutdown()
	}
}

// tryWrite writes without blocking and returns how much the kernel took.
func (c *Conn) tryWrite(b []byte) int {
	if c.rc == nil {
		return 0
	}
	c.wbuf, c.wn = b, 0
	c.rc.Write(c.writeFn)
	n := c.wn
	c.wbuf = nil
	return n
}

// rawWrite is tryWrite's syscall.RawConn callback; it is a method value
// made once, so a write allocates nothing.
func (c *Conn) rawWrite(fd uintptr) bool {
	for c.wn < len(c.wbuf) {
		m, err := syscall.Write(int(fd), c.wbuf[c.wn:])
		if m > 0 {
			c.wn += m
		}
		if err != nil || m <= 0 {
			break
		}
	}
	return true
}

func (c *Conn) flushLoop() {
	for {
		c.mu.Lock()
		b := c.pending
		c.pending = nil
		if len(b) == 0 || c.closed {
			c.flushing = false
			if c.closed {
				c.releaseHeld()
			}
			if c.endAfter && !c.closed {
				c.closed = true
				c.closedBy.Store(true)
				c.shutdown()
			}
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
		if c.opt.WriteTimeout > 0 {
			c.nc.SetWriteDeadline(time.Now().Add(c.opt.WriteTimeout))
		}
		n, err := c.nc.Write(b)
		c.BytesOut.Add(int64(n))
		if c.Meter != nil && n > 0 {
			c.Meter.Sent(n)
		}
		c.lastIO.Store(time.Now().UnixNano())
		c.mu.Lock()
		c.sent(n)
		c.mu.Unlock()
		if err != nil {
			c.mu.Lock()
			c.closed = true
			c.flushing = false
			c.releaseHeld()
			c.mu.Unlock()
			c.nc.Close()
			return
		}
	}
}

// shutdown closes the socket after a graceful end; the peer sees EOF.
func (c *Conn) shutdown() {
	if tc, ok := c.nc.(*net.TCPConn); ok {
		tc.CloseWrite()
		// Give the peer a moment to read what was sent before the full close
		// (a full close with unread input would send a reset).
		go func() {
			tc.SetReadDeadline(time.Now().Add(5 * time.Second))
			time.AfterFunc(5*time.Second, func() { tc.Close() })
		}()
		return
	}
	c.nc.Close()
}

// Addr strings for scripts.
func (c *Conn) RemoteAddr() (string, int) {
	if c.raddr != nil {
		return splitAddr(c.raddr)
	}
	return splitAddr(c.nc.RemoteAddr())
}

func (c *Conn) LocalAddr() (string, int) {
	if c.laddr != nil {
		return splitAddr(c.laddr)
	}
	return splitAddr(c.nc.LocalAddr())
}

func splitAddr(a net.Addr) (string, int) {
	if ta, ok := a.(*net.TCPAddr); ok {
		ip := ta.IP
		if v4 := ip.To4(); v4 != nil {
			ip = v4
		}
		return ip.String(), ta.Port
	}
	return a.String(), 0
}
