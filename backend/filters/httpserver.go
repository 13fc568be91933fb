package filters

import (
	"strconv"

	"github.com/dop251/goja"

	"sluice/backend/engine"
	"sluice/backend/event"
	"sluice/backend/http1"
	"sluice/backend/logging"
)

func init() {
	engine.Register(&engine.FilterKind{
		Name: "serveHTTP", Signature: "serveHTTP(handler: Message | (request: Message) => Message)",
		Help: "An HTTP server in one filter: decodes requests from the stream, answers each with the handler's Message (built once when it is a constant), and encodes the responses in request order. " +
			"A connection that opens with the HTTP/2 preface (h2c with prior knowledge, or h2 agreed by acceptTLS) is served as HTTP/2: each stream is answered as soon as its response is ready.",
		Parse: func(b *engine.Builder, args []goja.Value) (engine.Config, error) {
			if err := argCount(args, 1, 1, "serveHTTP(handler)"); err != nil {
				return nil, err
			}
			v := engine.NewValue(args[0])
			if !v.IsFunc() {
				if _, _, ok := engine.AsMessage(v.Const); !ok {
					return nil, errorf("the handler must be a Message or a function returning one")
				}
			}
			return &serveConfig{handler: v, opts: defaultHTTPOptions()}, nil
		},
	})
	engine.Register(&engine.FilterKind{
		Name: "demuxHTTP", Joint: true, Signature: "demuxHTTP(pipeline: string, options?: {bufferSize})",
		Help: "Decodes HTTP/1.1 requests from the stream and sends each through its own sub-pipeline (with a clone of the context); the responses are encoded back in request order. " +
			"A connection that opens with the HTTP/2 preface (h2c with prior knowledge, or h2 agreed by acceptTLS) is decoded as HTTP/2: one sub-pipeline per stream, request heads with protocol 'HTTP/2' and host from :authority, responses sent as each is ready, interleaved within the client's flow-control windows.",
		Parse: func(b *engine.Builder, args []goja.Value) (engine.Config, error) {
			if err := argCount(args, 1, 2, "demuxHTTP(pipeline, options?)"); err != nil {
				return nil, err
			}
			opts, err := parseHTTPOptions(args, 1)
			if err != nil {
				return nil, err
			}
			return &demuxConfig{ref: b.Ref(args[0].String()), opts: opts}, nil
		},
	})
}

type httpOptions struct {
	bufferSize int
	limits     http1.Limits
}

func defaultHTTPOptions() httpOptions { return httpOptions{bufferSize: 16 << 10} }

func parseHTTPOptions(args []goja.Value, i int) (httpOptions, error) {
	o := defaultHTTPOptions()
	if len(args) <= i || engine.IsNullish(args[i]) {
		return o, nil
	}
	obj, ok := args[i].(*goja.Object)
	if !ok {
		return o, errorf("options must be an object")
	}
	for _, k := range obj.Keys() {
		switch k {
		case "bufferSize":
			n, err := engine.ParseSize(obj.Get(k))
			if err != nil {
				return o, errorf("option bufferSize: %v", err)
			}
			o.bufferSize = n
		case "maxHeaderSize":
			n, err := engine.ParseSize(obj.Get(k))
			if err != nil {
				return o, errorf("option maxHeaderSize: %v", err)
			}
			o.limits.MaxHeaderSize = n
		case "version", "maxIdle", "maxMessages":
			// accepted for compatibility
		default:
			return o, errorf("unknown option %q", k)
		}
	}
	return o, nil
}

type serveConfig struct {
	handler engine.Value
	opts    httpOptions
	static  [2][]byte // encoded constant response: [close, keep-alive]; worker-owned like the config
}

func (c *serveConfig) New(p *engine.Pipeline, next event.Target) engine.Filter {
	s := newHTTPServer(p, next, c.opts)
	s.serve = c
	return s
}

type demuxConfig struct {
	ref  *engine.LayoutRef
	opts httpOptions
}

func (c *demuxConfig) Links() []string { return []string{c.ref.Name} }

func (c *demuxConfig) New(p *engine.Pipeline, next event.Target) engine.Filter {
	s := newHTTPServer(p, next, c.opts)
	s.demux = c
	return s
}

// httpServer is the server side of HTTP/1.1 for serveHTTP and demuxHTTP:
// requests are decoded as they arrive; each becomes an exchange whose
// response is produced by the handler (serveHTTP) or a sub-pipeline
// (demuxHTTP). Responses go out strictly in request order; the front
// response streams (chunked when it outgrows bufferSize), later ones wait
// buffered.
type httpServer struct {
	p     *engine.Pipeline
	next  event.Target
	opts  httpOptions
	serve *serveConfig
	demux *demuxConfig
	dec   *http1.Decoder

	queue   []*exchange
	cur     *exchange
	inEnded bool
	closing bool // a response said the connection ends after it
	done    bool // StreamEnd went out
	tunnel  *exchange
	buf     []byte
	lastReq bool // a request said the connection ends after it

	sniffed bool      // the first bytes were looked at for the HTTP/2 preface
	pre     []byte    // first bytes held while they may be the preface
	h2      *h2Server // the connection speaks HTTP/2

	// Reuse on the hot path: what is sent on, lent to a next target that
	// copies it, and exchanges whose request and response are both over
	// (put back at the end of the turn, when their sub-pipelines are reset
	// too).
	out       event.Lender
	free      []*exchange
	retired   []*exchange
	recycling bool
	recycleFn func()
}

// CopiesData: requests are decoded into copies, except through a tunnel
// (event.Copier).
func (s *httpServer) CopiesData() bool { return s.tunnel == nil }

// emit sends b on. b is s.buf or another buffer the server reuses: a next
// target that copies gets it as it is, any other a copy.
func (s *httpServer) emit(b []byte) { s.out.Send(s.next, b) }

// emitShared sends bytes that are never modified (a constant response).
func (s *httpServer) emitShared(b []byte) { s.out.SendShared(s.next, b) }

// newExchange returns a cleared exchange, reused when one is free.
func (s *httpServer) newExchange() *exchange {
	if n := len(s.free); n > 0 {
		x := s.free[n-1]
		s.free[n-1] = nil
		s.free = s.free[:n-1]
		x.s = s
		return x
	}
	return &exchange{s: s}
}

// retire hands x back for reuse once the turn is over, if nothing can
// reach it any more: a constant response's exchange, or a demuxed one
// whose sub-pipeline has been released. An exchange whose request went to
// a script function is left to the collector (the script may hold on to
// what it was given).
func (s *httpServer) retire(x *exchange) {
	if !x.reusable || x.sub != nil || x.counted || x == s.cur || x == s.tunnel || !x.reqEnded || !x.respEnded {
		return
	}
	s.retired = append(s.retired, x)
	if !s.recycling {
		s.recycling = true
		if s.recycleFn == nil {
			s.recycleFn = s.recycle
		}
		s.p.W.Defer(s.recycleFn)
	}
}

func (s *httpServer) recycle() {
	s.recycling = false
	for i, x := range s.retired {
		s.retired[i] = nil
		// Nothing refers to the body's bytes once the response is encoded
		// (it is always copied into s.buf): the buffer is reused, by one
		// exchange per connection and if it is small, so that idle
		// connections hold little.
		buf := x.bodyBuf[:0]
		if cap(buf) > maxKeptBodyBuf || s.keptBodyBuf() {
			buf = nil
		}
		*x = exchange{bodyBuf: buf}
		if len(s.free) < 16 {
			s.free = append(s.free, x)
		}
	}
	s.retired = s.retired[:0]
}

// pastLast reports that the request after which the connection ends has
// been received whole: what the client sends after it is not processed
// (RFC 9112, 9.6).
func (s *httpServer) pastLast() bool { return s.lastReq && s.cur == nil }

type exchange struct {
	s         *httpServer
	req       *http1.RequestHead
	body      *event.Data // request body (serveHTTP)
	keepAlive bool
	noBody    bool // response carries no body (HEAD)
	sub       *engine.Pipeline
	reqEnded  bool
	expect100 bool // owes the client a 100 Continue once it is at the front

	head      any
	rbody     event.Data
	bodyBuf   []byte // rbody's bytes, copied (see CopiesData); kept when the exchange is reused
	respEnded bool
	sent      bool // head is on the wire
	chunked   bool
	raw       bool // streamed unframed to an HTTP/1.0 client, ended by closing
	skipped   int  // body bytes of a response to HEAD, counted and dropped
	failed    event.ErrorCode
	counted   bool
	static    bool // answered by serveHTTP's constant Message
	reusable  bool // may be retired for reuse (see retire)
}

// staticHead marks an exchange answered by a constant Message.
var staticHead = &http1.ResponseHead{}

func newHTTPServer(p *engine.Pipeline, next event.Target, opts httpOptions) *httpServer {
	s := &httpServer{p: p, next: next, opts: opts}
	s.dec = http1.NewRequestDecoder(s, opts.limits)
	return s
}

func (s *httpServer) Reset() {
	for _, x := range s.queue {
		x.release()
	}
	if s.cur != nil {
		s.cur.release()
	}
	s.queue, s.cur, s.tunnel = s.queue[:0], nil, nil
	s.inEnded, s.closing, s.done, s.lastReq = false, false, false, false
	s.dec = http1.NewRequestDecoder(s, s.opts.limits)
	if s.h2 != nil {
		s.h2.reset()
		s.h2 = nil
	}
	s.sniffed, s.pre = false, nil
}

func (s *httpServer) OnEvent(e event.Event) {
	if s.done {
		return
	}
	switch e := e.(type) {
	case *event.Data:
		if !s.sniffed && s.sniffH2(e) {
			return
		}
		if s.h2 != nil {
			s.h2.input(e)
			return
		}
		if s.closing {
			return
		}
		if s.tunnel != nil {
			if s.tunnel.sub != nil {
				s.tunnel.sub.OnEvent(e)
			}
			return
		}
		if s.pastLast() {
			return
		}
		for _, c := range e.Chunks() {
			if err := s.dec.Feed(c); err != nil {
				if !s.pastLast() {
					s.badRequest(err)
				}
				return
			}
			if s.pastLast() {
				return
			}
		}
	case *event.StreamEnd:
		if !s.sniffed && len(s.pre) > 0 {
			// A few bytes that might have become the preface: HTTP/1 they are.
			s.sniffed = true
			held := s.pre
			s.pre = nil
			s.OnEvent(event.NewData(held))
			if s.done {
				return
			}
		}
		if s.h2 != nil {
			s.inEnded = true
			s.h2.inputEnd()
			return
		}
		s.inEnded = true
		if s.tunnel != nil && s.tunnel.sub != nil {
			s.tunnel.sub.OnEvent(e)
			return
		}
		if x := s.cur; x != nil && !x.reqEnded {
			// The client went away in the middle of a request.
			x.reqEnded = true
			if x.sub != nil {
				x.sub.OnEvent(event.NewStreamEnd(event.ConnectionReset))
			}
		}
		s.flush()
	}
}

// OnMessageStart, OnData and OnMessageEnd receive decoded requests.
func (s *httpServer) OnMessageStart(head any) {
	if s.lastReq {
		return // see pastLast
	}
	req := head.(*http1.RequestHead)
	x := s.newExchange()
	x.req, x.keepAlive, x.noBody = req, req.KeepAlive(), req.Method == "HEAD"
	s.lastReq = !x.keepAlive
	s.queue = append(s.queue, x)
	s.cur = x
	x.counted = true
	s.p.W.Program.Inflight.Add(1)
	if req.ExpectContinue() {
		if len(s.queue) == 1 {
			s.emitShared(continueBytes)
		} else {
			x.expect100 = true // sent when the responses before it are out
		}
	}
	if s.demux != nil {
		x.reusable = true
		x.sub = s.p.Sub(s.demux.ref, true, x)
		x.sub.OnEvent(&event.MessageStart{Head: req})
	} else if s.serve.handler.IsFunc() {
		x.body = &event.Data{}
	} else {
		x.reusable = true // a constant response: the body is not needed
	}
}

func (s *httpServer) OnData(b []byte) {
	x := s.cur
	if x == nil {
		return
	}
	x.expect100 = false // the client did not wait for it
	c := make([]byte, len(b))
	copy(c, b)
	if x.sub != nil {
		x.sub.OnEvent(event.NewData(c))
	} else if x.body != nil {
		x.body.Push(c)
	}
}

func (s *httpServer) OnMessageEnd() {
	x := s.cur
	if x == nil {
		return
	}
	s.cur = nil
	x.reqEnded = true
	if x.sub != nil {
		x.sub.OnEvent(event.End())
		if x.respEnded {
			x.release()
		}
		return
	}
	s.handle(x)
}

// handle runs serveHTTP's handler for a complete request.
func (s *httpServer) handle(x *exchange) {
	w := s.p.W
	if !s.serve.handler.IsFunc() {
		// A constant response: no script runs; writeResponse encodes it.
		x.static, x.respEnded = true, true
		x.head = staticHead
		s.flush()
		return
	}
	v, err := s.serve.handler.Eval(s.p, w.MessageObject(x.req, x.body))
	if err == nil {
		err = w.Events(v, x.OnEvent)
	}
	if err != nil {
		if _, ok := err.(*engine.ScriptError); !ok {
			logging.Errorf("[serveHTTP] %v", err)
		}
		x.OnEvent(event.NewStreamEnd(event.RuntimeError))
		return
	}
	if !x.respEnded {
		if x.head == nil {
			x.OnEvent(&event.MessageStart{})
		}
		x.OnEvent(event.End())
	}
}

// OnEvent receives the response for x.
func (x *exchange) OnEvent(e event.Event) {
	s := x.s
	if x.respEnded || s.done {
		return
	}
	switch e := e.(type) {
	case *event.MessageStart:
		if x.head == nil {
			x.head = e.Head
			if x.head == nil {
				x.head = &http1.ResponseHead{Protocol: "HTTP/1.1", Status: 200, StatusText: "OK"}
			}
		}
	case *event.Data:
		if x.head == nil {
			return
		}
		if x.sent {
			switch {
			case x.chunked:
				s.buf = http1.AppendChunk(s.buf[:0], e.Bytes())
				s.emit(s.buf)
			case x.raw:
				s.next.OnEvent(event.NewData(e.Bytes()))
			}
			// otherwise the response has no body (HEAD, 204, 304): dropped
			return
		}
		if x.noBody {
			// HEAD: only the length of the body matters (for content-length).
			x.skipped += e.Size()
			return
		}
		// Copied, not kept: a sender may lend e (CopiesData).
		start := len(x.bodyBuf)
		x.bodyBuf = e.AppendTo(x.bodyBuf)
		x.rbody.Push(x.bodyBuf[start:len(x.bodyBuf):len(x.bodyBuf)])
		if x == s.front() && x.rbody.Size() > s.opts.bufferSize {
			s.startStreaming(x)
		}
		return
	case *event.MessageEnd:
		if x.head == nil {
			return
		}
		x.respEnded = true
	case *event.StreamEnd:
		if x.head == nil {
			x.head = errorHead(e.Error)
			x.rbody.Clear()
			x.respEnded = true
		} else {
			x.respEnded = true
			x.failed = event.ConnectionReset
		}
	}
	if x.respEnded && x.reqEnded {
		x.release()
	}
	s.flush()
}

func (s *httpServer) front() *exchange {
	if len(s.queue) == 0 {
		return nil
	}
	return s.queue[0]
}

// startStreaming sends the front response's head with chunked framing (or
// none, for HTTP/1.0) and what it has of the body.
func (s *httpServer) startStreaming(x *exchange) {
	w := s.p.W
	head := w.ResponseHead(x.head)
	ka := x.keepAlive && !s.closing && !headerSaysClose(head.Headers)
	x.keepAlive = ka
	if x.noBody || noBodyStatus(head.Status) {
		s.buf = http1.AppendResponseHeadNoBody(s.buf[:0], head, ka)
		x.rbody.Clear()
	} else if x.req != nil && x.req.Protocol == "HTTP/1.0" {
		// HTTP/1.0 has no chunked coding: the body goes out unframed and
		// the end of the connection ends it.
		h := *head
		h.Headers = append(http1.Headers(nil), head.Headers...)
		h.Headers.Del("content-length")
		x.keepAlive = false
		s.buf = http1.AppendResponseHeadNoBody(s.buf[:0], &h, false)
		s.buf = x.rbody.AppendTo(s.buf)
		x.raw = true
		x.rbody.Clear()
	} else {
		s.buf = http1.AppendResponseHead(s.buf[:0], head, -1, ka)
		x.chunked = true
		if x.rbody.Size() > 0 {
			s.buf = http1.AppendChunk(s.buf, x.rbody.Bytes())
		}
		x.rbody.Clear()
	}
	x.sent = true
	s.emit(s.buf)
}

// flush writes out every finished response at the front of the queue.
func (s *httpServer) flush() {
	for !s.done {
		x := s.front()
		if x == nil {
			if s.inEnded || s.closing {
				s.finish()
			}
			return
		}
		if x.expect100 {
			x.expect100 = false
			if !x.reqEnded && x.head == nil {
				s.emitShared(continueBytes)
			}
		}
		if !x.respEnded {
			if x.head != nil && !x.sent && x.rbody.Size() > s.opts.bufferSize {
				s.startStreaming(x)
			}
			return
		}
		s.writeResponse(x)
		n := copy(s.queue, s.queue[1:])
		s.queue[n] = nil
		s.queue = s.queue[:n]
		if x.counted {
			x.counted = false
			s.p.W.Program.Inflight.Add(-1)
		}
		if x.failed != event.NoError || !x.keepAlive {
			s.closing = true
		}
		if x.tunnelAfter() {
			s.tunnel = x
			s.dec.StartTunnel()
			return
		}
		s.retire(x)
		if s.closing {
			s.finish()
			return
		}
	}
}

func (x *exchange) tunnelAfter() bool {
	if x.sub == nil {
		return false
	}
	if h, ok := x.head.(*http1.ResponseHead); ok && h.Status == 101 {
		return true
	}
	return false
}

func (s *httpServer) writeResponse(x *exchange) {
	w := s.p.W
	if x.sent {
		if x.chunked {
			if x.failed != event.NoError {
				return // leave the chunked body unterminated: the client sees the failure
			}
			if x.rbody.Size() > 0 {
				s.buf = http1.AppendChunk(s.buf[:0], x.rbody.Bytes())
			} else {
				s.buf = s.buf[:0]
			}
			s.buf = http1.AppendLastChunk(s.buf)
			s.emit(s.buf)
		}
		return
	}
	if x.static {
		if b, ok := s.serve.staticResponse(w, x); ok {
			s.emitShared(b)
			return
		}
		head, body, _ := engine.AsMessage(s.serve.handler.Const)
		x.head = head
		if body != nil {
			x.rbody.PushData(body)
		}
	}
	head := w.ResponseHead(x.head)
	if x.failed != event.NoError && !x.noBody && !noBodyStatus(head.Status) {
		// The response broke off after its head (the upstream went away
		// mid-body): send what there is, chunked and never terminated, and
		// close, so the client sees a truncated response rather than a
		// complete one with a wrong body.
		if x.req != nil && x.req.Protocol == "HTTP/1.0" {
			// No chunked coding: the content-length the head carries
			// (if any) tells the client what it missed.
			s.buf = http1.AppendResponseHeadNoBody(s.buf[:0], head, false)
			s.buf = x.rbody.AppendTo(s.buf)
		} else {
			s.buf = http1.AppendResponseHead(s.buf[:0], head, -1, false)
			s.buf = http1.AppendChunk(s.buf, x.rbody.Bytes())
		}
		s.emit(s.buf)
		return
	}
	ka := x.keepAlive && x.failed == event.NoError && !s.closing && !s.inEnded && !headerSaysClose(head.Headers)
	if head.Status == 101 {
		ka = true
	}
	x.keepAlive = ka || head.Status == 101
	if x.noBody || noBodyStatus(head.Status) {
		if x.noBody && !noBodyStatus(head.Status) && !head.Headers.Has("content-length") {
			// HEAD: say how long the body would have been.
			h := *head
			h.Headers = append(append(http1.Headers(nil), head.Headers...), http1.Header{Name: "content-length", Value: strconv.Itoa(x.rbody.Size() + x.skipped)})
			head = &h
		}
		s.buf = http1.AppendResponseHeadNoBody(s.buf[:0], head, ka)
	} else {
		s.buf = http1.AppendResponseHead(s.buf[:0], head, x.rbody.Size(), ka)
		s.buf = x.rbody.AppendTo(s.buf)
	}
	s.emit(s.buf)
}

func (s *httpServer) finish() {
	if !s.done {
		s.done = true
		s.next.OnEvent(event.NewStreamEnd(event.NoError))
	}
}

func (s *httpServer) badRequest(err error) {
	he, ok := err.(*http1.Error)
	status, reason := 400, "Bad Request"
	if ok {
		status, reason = he.Status, he.Reason
	}
	logging.Debugf("[http] bad request from client: %v", err)
	if cur := s.cur; cur != nil && !cur.reqEnded {
		// The request being received is broken: the error response takes
		// its place (its handler may never answer), unless its response is
		// already going out, in which case the connection ends after it.
		s.cur = nil
		cur.reqEnded = true
		streaming := cur.sent && !cur.respEnded
		cur.respEnded = true // what its sub-pipeline still says is ignored
		if streaming {
			cur.failed = event.ProtocolError
		} else {
			for i, q := range s.queue {
				if q == cur {
					s.queue = append(s.queue[:i], s.queue[i+1:]...)
					break
				}
			}
		}
		if cur.sub != nil {
			cur.sub.OnEvent(event.NewStreamEnd(event.ProtocolError))
		}
		cur.release()
		if streaming {
			s.closing = true
			s.flush()
			return
		}
	}
	x := &exchange{s: s, keepAlive: false, reqEnded: true, respEnded: true}
	x.head = &http1.ResponseHead{Protocol: "HTTP/1.1", Status: status, StatusText: http1.StatusText(status)}
	x.rbody.Push([]byte(reason + "\n"))
	s.queue = append(s.queue, x)
	s.closing = true
	s.flush()
}

// CopiesData: a response's body is copied into the exchange's buffer, or
// encoded at once once streaming, except when it streams unframed to an
// HTTP/1.0 client, where it is passed on as it comes (event.Copier).
func (x *exchange) CopiesData() bool { return !(x.sent && x.raw) }

// maxKeptBodyBuf bounds the body buffer an exchange keeps for reuse.
const maxKeptBodyBuf = 4 << 10

// keptBodyBuf reports whether a free exchange keeps a body buffer.
func (s *httpServer) keptBodyBuf() bool {
	for _, f := range s.free {
		if f.bodyBuf != nil {
			return true
		}
	}
	return false
}

func (x *exchange) release() {
	if x.sub != nil {
		x.sub.Release()
		x.sub = nil
	}
	if x.counted {
		x.counted = false
		x.s.p.W.Program.Inflight.Add(-1)
	}
}

// staticResponse serves a constant Message without touching the script
// runtime: its bytes are encoded once (per keep-alive variant) on first use.
func (c *serveConfig) staticResponse(w *engine.Worker, x *exchange) ([]byte, bool) {
	if c.handler.IsFunc() || x.noBody {
		return nil, false
	}
	s := x.s
	ka := x.keepAlive && !s.closing && !s.inEnded
	i := 0
	if ka {
		i = 1
	}
	if c.static[i] == nil {
		head, body, _ := engine.AsMessage(c.handler.Const)
		h := w.ResponseHead(head)
		if noBodyStatus(h.Status) || headerSaysClose(h.Headers) {
			return nil, false
		}
		var b []byte
		size := 0
		if body != nil {
			size = body.Size()
		}
		b = http1.AppendResponseHead(b, h, size, ka)
		if body != nil {
			b = body.AppendTo(b)
		}
		c.static[i] = b
	}
	x.keepAlive = ka
	return c.static[i], true
}

const continueLine = "HTTP/1.1 100 Continue\r\n\r\n"

var continueBytes = []byte(continueLine)

func headerSaysClose(hs http1.Headers) bool { return hs.HasToken("connection", "close") }

func noBodyStatus(code int) bool { return code < 200 || code == 204 || code == 304 }

// errorHead is the response Pipy gives when the upstream side of a request
// failed before answering.
func errorHead(code event.ErrorCode) *http1.ResponseHead {
	h := &http1.ResponseHead{Protocol: "HTTP/1.1"}
	switch code {
	case event.ConnectionRefused:
		h.Status, h.StatusText = 502, "Connection Refused"
	case event.ConnectionTimeout, event.ReadTimeout, event.WriteTimeout, event.IdleTimeout:
		h.Status, h.StatusText = 504, "Gateway Timeout"
	case event.Unauthorized:
		h.Status, h.StatusText = 401, "Unauthorized"
	case event.RuntimeError:
		h.Status, h.StatusText = 500, "Internal Server Error"
	default:
		h.Status, h.StatusText = 502, "Bad Gateway"
	}
	return h
}
