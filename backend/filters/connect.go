package filters

import (
	"fmt"
	"net"
	"time"

	"github.com/dop251/goja"

	"sluice/backend/engine"
	"sluice/backend/event"
	"sluice/backend/logging"
	"sluice/backend/metrics"
	"sluice/backend/netio"
)

func init() {
	engine.Register(&engine.FilterKind{
		Name: "connect", Signature: "connect(target: string | () => string, options?: {bufferLimit, retryCount, retryDelay, connectTimeout, readTimeout, writeTimeout, idleTimeout})",
		Help:  "Opens a TCP connection to target ('host:port') on the first event and pipes Data both ways; the stream ends when the connection closes. Input is buffered (up to bufferLimit) until the connection is up.",
		Parse: parseConnect,
	})
}

type connectConfig struct {
	target         engine.Value
	bufferLimit    int
	retryCount     int
	retryDelay     time.Duration
	connectTimeout time.Duration
	readTimeout    time.Duration
	writeTimeout   time.Duration
	idleTimeout    time.Duration
}

func parseConnect(b *engine.Builder, args []goja.Value) (engine.Config, error) {
	if err := argCount(args, 1, 2, "connect(target, options?)"); err != nil {
		return nil, err
	}
	c := &connectConfig{target: engine.NewValue(args[0]), bufferLimit: -1, connectTimeout: 10 * time.Second}
	if !c.target.IsFunc() {
		if _, err := splitTarget(c.target.Const.String()); err != nil {
			return nil, err
		}
	}
	if len(args) == 2 && !engine.IsNullish(args[1]) {
		o, ok := args[1].(*goja.Object)
		if !ok {
			return nil, fmt.Errorf("options must be an object")
		}
		for _, k := range o.Keys() {
			v := o.Get(k)
			var err error
			switch k {
			case "bufferLimit":
				c.bufferLimit, err = engine.ParseSize(v)
			case "retryCount":
				c.retryCount = int(v.ToInteger())
			case "retryDelay":
				c.retryDelay, err = engine.ParseDuration(v)
			case "connectTimeout":
				c.connectTimeout, err = engine.ParseDuration(v)
			case "readTimeout":
				c.readTimeout, err = engine.ParseDuration(v)
			case "writeTimeout":
				c.writeTimeout, err = engine.ParseDuration(v)
			case "idleTimeout":
				c.idleTimeout, err = engine.ParseDuration(v)
			default:
				return nil, fmt.Errorf("unknown option %q", k)
			}
			if err != nil {
				return nil, fmt.Errorf("option %s: %v", k, err)
			}
		}
	}
	return c, nil
}

func splitTarget(t string) (string, error) {
	host, port, err := net.SplitHostPort(t)
	if err != nil || host == "" || port == "" {
		return "", fmt.Errorf("invalid target %q (want 'host:port')", t)
	}
	return t, nil
}

func (c *connectConfig) New(p *engine.Pipeline, next event.Target) engine.Filter {
	return &connect{c: c, p: p, next: next}
}

// connect is one outbound connection per stream.
type connect struct {
	c        *connectConfig
	p        *engine.Pipeline
	next     event.Target
	started  bool
	conn     *netio.Conn
	meter    *metrics.Outbound
	session  *connSession
	buf      []event.Event
	buffered int
	inEnded  bool
	done     bool
	in       event.Data // reused for each read when the next target copies
}

// CopiesData: once connected, what is written is copied into the
// connection's output buffer (event.Copier).
func (f *connect) CopiesData() bool { return f.conn != nil && !f.done }

// connSession ties callbacks from one dial to the filter state that
// started it, so a late callback after Reset is ignored.
type connSession struct {
	f        *connect
	target   string
	tries    int
	dead     bool
	connTime time.Duration
}

func (f *connect) OnEvent(e event.Event) {
	if f.done {
		return
	}
	if !f.started {
		f.started = true
		v, err := f.c.target.Eval(f.p)
		if err != nil {
			f.end(event.RuntimeError)
			return
		}
		target, err := splitTarget(v.String())
		if err != nil {
			logging.Errorf("[connect] %v", err)
			f.end(event.CannotResolve)
			return
		}
		f.session = &connSession{f: f, target: target}
		f.meter = metrics.OpenOutbound(target)
		f.dial(f.session)
	}
	switch e := e.(type) {
	case *event.Data:
		if f.conn != nil {
			f.conn.WriteData(e)
			return
		}
		if f.c.bufferLimit >= 0 && f.buffered+e.Size() > f.c.bufferLimit {
			logging.Warnf("[connect] buffer limit of %d bytes reached while connecting to %s", f.c.bufferLimit, f.session.target)
			f.end(event.BufferOverflow)
			return
		}
		f.buffered += e.Size()
		f.buf = append(f.buf, e)
	case *event.StreamEnd:
		f.inEnded = true
		if f.conn != nil {
			f.conn.End()
		}
	}
}

func (f *connect) dial(s *connSession) {
	w := f.p.W
	timeout := f.c.connectTimeout
	start := time.Now()
	go func() {
		nc, err := net.DialTimeout("tcp", s.target, timeout)
		if err == nil {
			s.connTime = time.Since(start)
		}
		w.Post(func() {
			if s.dead {
				if nc != nil {
					nc.Close()
				}
				return
			}
			f.connected(s, nc, err)
		})
	}()
}

func (f *connect) connected(s *connSession, nc net.Conn, err error) {
	if err != nil {
		if s.tries < f.c.retryCount || f.c.retryCount < 0 {
			s.tries++
			f.p.W.After(f.c.retryDelay, func() {
				if !s.dead {
					f.dial(s)
				}
			})
			return
		}
		code := netio.ErrorCode(err)
		logging.Debugf("[connect] %s: %v", s.target, err)
		f.end(code)
		return
	}
	if tc, ok := nc.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
	}
	f.conn = netio.NewConn(nc, f.p.W, &connHandler{s}, netio.Options{
		ReadTimeout: f.c.readTimeout, WriteTimeout: f.c.writeTimeout, IdleTimeout: f.c.idleTimeout,
		Upstream: true,
	})
	f.meter.Connected(s.connTime)
	f.conn.Meter = f.meter
	for _, e := range f.buf {
		f.conn.WriteData(e.(*event.Data))
	}
	f.buf, f.buffered = nil, 0
	if f.inEnded {
		f.conn.End()
	}
	f.conn.Start()
}

type connHandler struct{ s *connSession }

func (h *connHandler) OnRead(b []byte) {
	if h.s.dead {
		return
	}
	f := h.s.f
	if event.Copies(f.next) {
		f.in.Push(b)
		f.next.OnEvent(&f.in)
		f.in.Clear()
		return
	}
	f.next.OnEvent(event.NewData(b))
}

func (h *connHandler) OnClosed(code event.ErrorCode) {
	if !h.s.dead {
		h.s.f.end(code)
	}
}

// end closes the connection and ends the stream downstream with code.
func (f *connect) end(code event.ErrorCode) {
	if f.done {
		return
	}
	f.done = true
	if f.session != nil {
		f.session.dead = true
	}
	if f.meter != nil {
		f.meter.Close()
	}
	if f.conn != nil {
		if code == event.NoError {
			f.conn.End()
		} else {
			f.conn.Close()
		}
	}
	f.next.OnEvent(event.NewStreamEnd(code))
}

func (f *connect) Reset() {
	if f.session != nil {
		f.session.dead = true
	}
	if f.meter != nil {
		f.meter.Close()
	}
	if f.conn != nil {
		f.conn.Close()
	}
	f.in.Clear()
	*f = connect{c: f.c, p: f.p, next: f.next}
}
