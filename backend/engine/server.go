package engine

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"sluice/backend/event"
	"sluice/backend/logging"
	"sluice/backend/metrics"
	"sluice/backend/netio"
)

// Server owns the listening sockets and the current program. Reloading
// swaps the program: new connections go to the new one, connections in
// flight stay on theirs, and sockets on ports both programs use stay open.
//
// Threading: Start, Reload and Shutdown may be called from any goroutine.
type Server struct {
	mu        sync.Mutex
	program   atomic.Pointer[Program]
	listeners map[string]*listener
	conns     atomic.Int64
	ids       atomic.Uint64
	stopTasks chan struct{}
}

type listener struct {
	addr   string
	ln     net.Listener
	acc    *netio.Acceptor // accepts for the epoll loops; nil: accept net.Conns
	spec   atomic.Pointer[ListenSpec]
	active atomic.Int64
	srv    *Server
}

// NewServer returns a server with no program.
func NewServer() *Server { return &Server{listeners: map[string]*listener{}} }

// Program returns the current program.
func (s *Server) Program() *Program { return s.program.Load() }

// Connections is the number of open inbound connections.
func (s *Server) Connections() int64 { return s.conns.Load() }

// Start makes p the current program: it binds p's new ports, keeps the
// ports p shares with the previous program, closes the ports p dropped,
// and starts p's tasks. On a bind error nothing changes.
func (s *Server) Start(p *Program) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	fresh := map[string]net.Listener{}
	want := map[string]*ListenSpec{}
	for _, spec := range p.Listens {
		addr := spec.Addr()
		if _, dup := want[addr]; dup {
			for _, ln := range fresh {
				ln.Close()
			}
			return fmt.Errorf("listen: port %d at %s is declared twice", spec.Port, spec.IP)
		}
		want[addr] = spec
		if _, ok := s.listeners[addr]; ok {
			continue
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			for _, l := range fresh {
				l.Close()
			}
			return fmt.Errorf("cannot listen on port %d at %s: %w", spec.Port, spec.IP, err)
		}
		fresh[addr] = ln
	}
	old := s.program.Swap(p)
	for addr, l := range s.listeners {
		if spec, ok := want[addr]; ok {
			l.spec.Store(spec)
			continue
		}
		l.close()
		delete(s.listeners, addr)
		logging.Infof("[listener] Stopped listening on %s", addr)
	}
	for _, spec := range p.Listens {
		addr := spec.Addr()
		ln, ok := fresh[addr]
		if !ok {
			continue
		}
		l := &listener{addr: addr, ln: ln, srv: s, acc: netio.NewAcceptor(ln)}
		l.spec.Store(spec)
		s.listeners[addr] = l
		logging.Infof("[listener] Listening on port %d at %s", spec.Port, spec.IP)
		go l.accept()
	}
	if s.stopTasks != nil {
		close(s.stopTasks)
	}
	s.stopTasks = make(chan struct{})
	s.startTasks(p, s.stopTasks)
	if old != nil {
		old.Stop()
	}
	return nil
}

// Addr returns the bound address of a listen port (useful with port 0 in tests).
func (s *Server) Addrs() []net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []net.Addr
	for _, l := range s.listeners {
		out = append(out, l.ln.Addr())
	}
	return out
}

// StopListening closes every listening socket; open connections go on.
func (s *Server) StopListening() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for addr, l := range s.listeners {
		l.close()
		delete(s.listeners, addr)
	}
	if s.stopTasks != nil {
		close(s.stopTasks)
		s.stopTasks = nil
	}
}

// Shutdown stops accepting, waits up to timeout for requests in flight to
// finish, and reports how many were left.
func (s *Server) Shutdown(timeout time.Duration) int64 {
	s.StopListening()
	deadline := time.Now().Add(timeout)
	last := time.Time{}
	for {
		p := s.Program()
		n := int64(0)
		if p != nil {
			n = p.Inflight.Load()
		}
		if n <= 0 || time.Now().After(deadline) {
			return n
		}
		if time.Since(last) >= time.Second {
			logging.Infof("[shutdown] Waiting for remaining %d pipelines...", n)
			last = time.Now()
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (l *listener) accept() {
	if l.acc != nil {
		l.acceptRaw()
		return
	}
	for {
		nc, err := l.ln.Accept()
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				continue
			}
			return
		}
		spec, w, id, ok := l.admit()
		if !ok {
			nc.Close()
			continue
		}
		w.Post(func() { w.startInbound(nc, spec, id, l) })
	}
}

// admit counts a new connection in, unless the listener is at its
// maxConnections, and picks the worker that will serve it.
func (l *listener) admit() (spec *ListenSpec, w *Worker, id uint64, ok bool) {
	spec = l.spec.Load()
	if max := spec.Options.MaxConnections; max > 0 && l.active.Load() >= int64(max) {
		return nil, nil, 0, false
	}
	w = l.srv.Program().NextWorker()
	l.active.Add(1)
	l.srv.conns.Add(1)
	return spec, w, l.srv.ids.Add(1), true
}

func (l *listener) close() {
	l.ln.Close()
	if l.acc != nil {
		l.acc.Close()
	}
}

// acceptRaw is accept for sockets the workers' epoll loops take directly.
func (l *listener) acceptRaw() {
	for {
		s, err := l.acc.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of descriptors or memory: wait for some to be freed
			// rather than spin.
			logging.Warnf("[listener] accept on %s: %v", l.addr, err)
			time.Sleep(50 * time.Millisecond)
			continue
		}
		spec, w, id, ok := l.admit()
		if !ok {
			s.Close()
			continue
		}
		w.Post(func() {
			c, err := netio.NewRawConn(s, w, nil, w.inboundOptions(spec))
			if err != nil {
				s.Close()
				l.active.Add(-1)
				l.srv.conns.Add(-1)
				w.Conns.Add(-1)
				return
			}
			w.startInboundConn(c, spec, id, l)
		})
	}
}

// inbound joins an accepted connection and its root pipeline.
type inbound struct {
	c      *netio.Conn
	in     event.Data // reused for each read when the pipeline copies
	m      *metrics.Inbound
	p      *Pipeline
	l      *listener
	w      *Worker
	closed bool
}

func (w *Worker) startInbound(nc net.Conn, spec *ListenSpec, id uint64, l *listener) {
	if tc, ok := nc.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
	}
	w.startInboundConn(netio.NewConn(nc, w, nil, w.inboundOptions(spec)), spec, id, l)
}

func (w *Worker) inboundOptions(spec *ListenSpec) netio.Options {
	return netio.Options{
		ReadTimeout: spec.Options.ReadTimeout, WriteTimeout: spec.Options.WriteTimeout, IdleTimeout: spec.Options.IdleTimeout,
	}
}

func (w *Worker) startInboundConn(c *netio.Conn, spec *ListenSpec, id uint64, l *listener) {
	layout := w.layoutLike(spec.Layout)
	ib := &inbound{l: l, w: w, c: c}
	c.SetHandler(ib)
	in := &Inbound{ID: id}
	in.RemoteAddress, in.RemotePort = ib.c.RemoteAddr()
	ib.m = metrics.OpenInbound(spec.Addr(), in.RemoteAddress)
	ib.c.Meter = ib.m
	in.LocalAddress, in.LocalPort = ib.c.LocalAddr()
	in.DestinationAddress, in.DestinationPort = in.LocalAddress, in.LocalPort
	ib.p = layout.Instantiate(w.NewContext(in), ib)
	ib.c.Start()
}

// layoutLike finds on w the layout matching one of worker 0's layouts.
func (w *Worker) layoutLike(l *Layout) *Layout {
	if l.Module.w == w {
		return l
	}
	m := w.modules[l.Module.Index]
	for i, x := range l.Module.Layouts {
		if x == l {
			return m.Layouts[i]
		}
	}
	panic("engine: layout not found on worker")
}

func (ib *inbound) OnRead(b []byte) {
	if ib.closed {
		return
	}
	if ib.p.CopiesData() {
		ib.in.Clear()
		ib.in.Push(b)
		ib.p.OnEvent(&ib.in)
		ib.in.Clear()
		return
	}
	ib.p.OnEvent(event.NewData(b))
}

// CopiesData: the connection copies what it is given into its output
// buffer (event.Copier).
func (ib *inbound) CopiesData() bool { return true }

func (ib *inbound) OnClosed(code event.ErrorCode) {
	if ib.closed {
		return
	}
	ib.p.OnEvent(event.NewStreamEnd(code))
	if code != event.NoError {
		ib.finish(true)
	}
}

// OnEvent receives the root pipeline's output.
func (ib *inbound) OnEvent(e event.Event) {
	if ib.closed {
		return
	}
	switch e := e.(type) {
	case *event.Data:
		ib.c.WriteData(e)
	case *event.StreamEnd:
		ib.finish(false)
	}
}

func (ib *inbound) finish(abort bool) {
	if ib.closed {
		return
	}
	ib.closed = true
	if abort {
		ib.c.Close()
	} else {
		ib.c.End()
	}
	ib.p.Release()
	ib.m.Close()
	ib.l.active.Add(-1)
	ib.l.srv.conns.Add(-1)
	ib.w.Conns.Add(-1)
}

// ---- tasks ----

func (s *Server) startTasks(p *Program, stop chan struct{}) {
	w := p.Workers[0]
	for _, r := range p.Reads {
		r := r
		w.Post(func() { w.startRead(r) })
	}
	for _, t := range p.Tasks {
		t := t
		switch {
		case t.When == "":
			w.Post(func() { w.startTaskRun(t) })
		case len(t.When) > 3 && t.When[:3] == "SIG":
			// Signal tasks run when the command line forwards the signal.
		default:
			d, _ := ParseDuration(w.rt.ToValue(t.When))
			go func() {
				tick := time.NewTicker(d)
				defer tick.Stop()
				for {
					select {
					case <-stop:
						return
					case <-tick.C:
						w.Post(func() { w.startTaskRun(t) })
					}
				}
			}()
		}
	}
}

// RunSignalTasks starts the tasks declared for a signal, e.g. "SIGINT".
func (s *Server) RunSignalTasks(sig string) int {
	p := s.Program()
	if p == nil {
		return 0
	}
	n := 0
	w := p.Workers[0]
	for _, t := range p.Tasks {
		if t.When == sig {
			t := t
			n++
			w.Post(func() { w.startTaskRun(t) })
		}
	}
	return n
}

type taskRun struct {
	p    *Pipeline
	done bool
}

func (w *Worker) startTaskRun(t *TaskSpec) {
	if w.runningTasks == nil {
		w.runningTasks = map[*TaskSpec]*taskRun{}
	}
	if r := w.runningTasks[t]; r != nil && !r.done {
		return // the previous run has not finished
	}
	r := &taskRun{}
	w.runningTasks[t] = r
	r.p = t.Layout.Instantiate(w.NewContext(nil), event.TargetFunc(func(e event.Event) {
		if _, ok := e.(*event.StreamEnd); ok && !r.done {
			r.done = true
			r.p.Release()
		}
	}))
	r.p.OnEvent(&event.MessageStart{})
	r.p.OnEvent(event.End())
}
