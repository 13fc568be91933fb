package filters

import (
	"reflect"
	"strings"
	"time"

	"github.com/dop251/goja"

	"sluice/backend/engine"
	"sluice/backend/event"
	"sluice/backend/http1"
)

func init() {
	engine.Register(&engine.FilterKind{
		Name: "muxHTTP", Joint: true, Signature: "muxHTTP(pipeline: string, key?: any | () => any, options?: {maxIdle, bufferSize})",
		Help:  "Sends each request message over a shared HTTP/1.1 session (a sub-pipeline, usually with connect) chosen by key, pipelining requests and routing the responses back in order; with {version: 2} the session speaks HTTP/2 (h2c with prior knowledge) and each request is a stream of its own. A session gets a clone of the context of the stream that opened it and closes after maxIdle (default 10s) without requests.",
		Parse: parseMux,
	})
	engine.Register(&engine.FilterKind{
		Name: "fetchHTTP", Joint: true, Signature: "fetchHTTP(pipeline: string)",
		Help:  "An HTTP/1.1 client of its own: encodes each request message into the sub-pipeline (usually a connect), which it does not share with other streams and which shares the stream's context, and decodes the responses back.",
		Parse: parseFetch,
	})
}

type muxConfig struct {
	ref      *engine.LayoutRef
	key      engine.Value
	maxIdle  time.Duration
	sessions map[sessionKey]*muxSession // per worker: the config belongs to one worker
	// private: fetchHTTP — each stream has its own session, sharing the
	// stream's context, closed as soon as the stream lets go of it.
	private bool
	h2      bool // {version: 2}: sessions speak HTTP/2 (h2c with prior knowledge)
}

func parseMux(b *engine.Builder, args []goja.Value) (engine.Config, error) {
	if err := argCount(args, 1, 3, "muxHTTP(pipeline, key?, options?)"); err != nil {
		return nil, err
	}
	c := &muxConfig{ref: b.Ref(args[0].String()), maxIdle: 10 * time.Second, sessions: map[sessionKey]*muxSession{}}
	if len(args) > 1 {
		c.key = engine.NewValue(args[1])
	} else {
		c.key = engine.Value{Const: goja.Undefined()}
	}
	if len(args) > 2 && !engine.IsNullish(args[2]) {
		o, ok := args[2].(*goja.Object)
		if !ok {
			return nil, errorf("options must be an object")
		}
		for _, k := range o.Keys() {
			switch k {
			case "maxIdle":
				d, err := engine.ParseDuration(o.Get(k))
				if err != nil {
					return nil, errorf("option maxIdle: %v", err)
				}
				c.maxIdle = d
			case "version":
				v := o.Get(k)
				if _, isFn := goja.AssertFunction(v); !isFn && !engine.IsNullish(v) {
					switch v.ToInteger() {
					case 1:
					case 2:
						c.h2 = true
					default:
						return nil, errorf("option version: expected 1 or 2")
					}
				}
			case "bufferSize", "maxQueue", "maxMessages":
			default:
				return nil, errorf("unknown option %q", k)
			}
		}
	}
	return c, nil
}

func parseFetch(b *engine.Builder, args []goja.Value) (engine.Config, error) {
	if err := argCount(args, 1, 1, "fetchHTTP(pipeline)"); err != nil {
		return nil, err
	}
	return &muxConfig{ref: b.Ref(args[0].String()), key: engine.Value{Const: goja.Undefined()},
		sessions: map[sessionKey]*muxSession{}, private: true}, nil
}

func (c *muxConfig) Links() []string { return []string{c.ref.Name} }

func (c *muxConfig) New(p *engine.Pipeline, next event.Target) engine.Filter {
	return &mux{c: c, p: p, next: next}
}

// sessionKey identifies a shared session: a key function's value, or a
// stream of its own (fetchHTTP).
type sessionKey struct {
	kind uint8  // one of the keyOf constants
	s    string // keyString: the text, whichever way goja holds it
	v    any    // keyObject: the object; keyValue: the exported value; keyStream: the stream
}

const (
	keyNullish uint8 = iota // null and undefined: one session
	keyString
	keyObject // by identity
	keyValue  // other primitives, by value
	keyStream
)

// keyOf makes the session key of a script value: strings by their text,
// objects by identity, other primitives by value. A string costs no
// allocation (its Export would box it on every request).
func keyOf(v goja.Value) sessionKey {
	if engine.IsNullish(v) {
		return sessionKey{kind: keyNullish}
	}
	if o, ok := v.(*goja.Object); ok {
		return sessionKey{kind: keyObject, v: o}
	}
	if v.ExportType() == stringType {
		return sessionKey{kind: keyString, s: v.String()}
	}
	return sessionKey{kind: keyValue, v: v.Export()}
}

var stringType = reflect.TypeFor[string]()

// mux is one request stream using a shared session.
type mux struct {
	c       *muxConfig
	p       *engine.Pipeline
	next    event.Target
	session *muxSession
	head    any
	body    event.Data
	inMsg   bool
	waiting int // requests sent whose responses have not ended
	done    bool
}

func (m *mux) OnEvent(e event.Event) {
	if m.done {
		return
	}
	switch e := e.(type) {
	case *event.MessageStart:
		m.inMsg, m.head = true, e.Head
		m.body.Clear()
	case *event.Data:
		if m.inMsg {
			m.body.PushData(e)
		}
	case *event.MessageEnd:
		if !m.inMsg {
			return
		}
		m.inMsg = false
		if s := m.session; s != nil && (s.closed || s.retired) && m.waiting == 0 {
			// The session ended (or is ending) since the last request:
			// this one goes over a fresh one.
			m.detach()
		}
		if m.session == nil {
			k, err := m.c.key.Eval(m.p)
			if err != nil {
				m.done = true
				m.next.OnEvent(event.NewStreamEnd(event.RuntimeError))
				return
			}
			key := keyOf(k)
			if m.c.private {
				key = sessionKey{kind: keyStream, v: m}
			}
			m.session = m.c.open(m.p, key)
			m.session.users++
		}
		m.waiting++
		m.session.send(m, m.p.W.RequestHead(m.head), &m.body)
		m.body = event.Data{}
	case *event.StreamEnd:
		m.detach()
		if e.Error != event.NoError {
			// The request stream failed before muxHTTP (a script error in
			// a filter in front of it): pass the failure on, or the
			// requester would wait for a response that never comes.
			m.done = true
			m.next.OnEvent(e)
		}
	}
}

func (m *mux) detach() {
	if m.session != nil {
		m.session.forget(m)
		m.session = nil
	}
}

func (m *mux) Reset() {
	m.detach()
	*m = mux{c: m.c, p: m.p, next: m.next}
}

func (c *muxConfig) open(p *engine.Pipeline, key sessionKey) *muxSession {
	if s := c.sessions[key]; s != nil && !s.closed {
		return s
	}
	s := &muxSession{c: c, key: key, w: p.W}
	s.dec = http1.NewResponseDecoder(s, http1.Limits{})
	s.sub = p.Sub(c.ref, !c.private, s)
	c.sessions[key] = s
	if c.h2 {
		s.h2 = newH2Client(s)
	}
	return s
}

// muxSession is one upstream HTTP/1.1 connection shared by many request
// streams. Requests are written whole, in order; responses are matched to
// them first in, first out.
type muxSession struct {
	c       *muxConfig
	key     sessionKey
	w       *engine.Worker
	sub     *engine.Pipeline
	dec     *http1.Decoder
	waiting []*mux // in request order; nil when the requester went away
	users   int
	closed  bool
	retired bool // the upstream said it closes the connection: no new requests
	// Idle close: one timer per session, armed when the session first
	// goes idle and re-armed from its own callback, so a session that is
	// busy and idle in turn (one request at a time) costs no timer work
	// per request.
	idling    bool
	idleAt    int64 // UnixNano when the session last went idle
	idleTimer *time.Timer
	idleArmed bool
	idleFn    func()
	buf       []byte
	out       event.Lender // requests, to the connection
	in        event.Lender // a response's bytes, to the stream it answers
	interim   bool         // the response being decoded is a 1xx interim one
	h2        *h2Client
}

func (s *muxSession) send(m *mux, head *http1.RequestHead, body *event.Data) {
	s.idling = false
	if s.h2 != nil {
		s.h2.request(m, head, body)
		return
	}
	s.waiting = append(s.waiting, m)
	s.dec.PushRequestMethod(head.Method)
	head = hopByHopless(head)
	s.buf = http1.AppendRequestHead(s.buf[:0], head, body.Size())
	s.buf = body.AppendTo(s.buf)
	s.out.Send(s.sub, s.buf)
}

// CopiesData: responses are decoded into copies (event.Copier).
func (s *muxSession) CopiesData() bool { return true }

func (s *muxSession) forget(m *mux) {
	if s.h2 != nil {
		s.h2.forget(m)
	}
	for i, x := range s.waiting {
		if x == m {
			s.waiting[i] = nil
		}
	}
	s.users--
	s.maybeIdle()
}

func (s *muxSession) maybeIdle() {
	if s.closed || s.users > 0 || len(s.waiting) > 0 || s.idling || s.h2 != nil && s.h2.busy() {
		return
	}
	if s.c.private {
		s.close()
		return
	}
	s.idling = true
	s.idleAt = time.Now().UnixNano()
	if s.idleArmed {
		return
	}
	s.idleArmed = true
	if s.idleTimer == nil {
		s.idleFn = s.idleCheck
		s.idleTimer = time.AfterFunc(s.c.maxIdle, func() { s.w.Post(s.idleFn) })
	} else {
		s.idleTimer.Reset(s.c.maxIdle)
	}
}

// idleCheck runs when the idle timer fires: it closes a session idle for
// maxIdle, and otherwise waits for the rest of the time it has left.
func (s *muxSession) idleCheck() {
	s.idleArmed = false
	if s.closed || !s.idling {
		return
	}
	if s.users > 0 || len(s.waiting) > 0 || s.h2 != nil && s.h2.busy() {
		s.idling = false
		return
	}
	left := s.c.maxIdle - time.Duration(time.Now().UnixNano()-s.idleAt)
	if left <= 0 {
		s.close()
		return
	}
	s.idleArmed = true
	s.idleTimer.Reset(left)
}

func (s *muxSession) stopIdle() {
	s.idling = false
	if s.idleTimer != nil {
		s.idleTimer.Stop()
		s.idleArmed = false
	}
}

func (s *muxSession) close() {
	if s.closed {
		return
	}
	s.closed = true
	if s.c.sessions[s.key] == s {
		delete(s.c.sessions, s.key)
	}
	s.stopIdle()
	s.sub.OnEvent(event.NewStreamEnd(event.NoError))
	s.sub.Release()
}

// OnEvent receives the session pipeline's output: the upstream's bytes.
func (s *muxSession) OnEvent(e event.Event) {
	switch e := e.(type) {
	case *event.Data:
		if s.h2 != nil {
			if !s.closed || s.h2.busy() {
				s.h2.input(e)
			}
			return
		}
		if s.closed && len(s.waiting) == 0 {
			return
		}
		for _, c := range e.Chunks() {
			if err := s.dec.Feed(c); err != nil {
				s.fail(event.ProtocolError)
				return
			}
		}
	case *event.StreamEnd:
		if e.Error == event.NoError && s.h2 == nil {
			s.dec.EOF()
		}
		code := e.Error
		if code == event.NoError {
			code = event.ConnectionReset
		}
		s.fail(code)
	}
}

// fail ends the session: every request still waiting gets an error.
func (s *muxSession) fail(code event.ErrorCode) {
	waiting := s.waiting
	s.waiting = nil
	wasClosed := s.closed
	s.closed = true
	if s.c.sessions[s.key] == s {
		delete(s.c.sessions, s.key)
	}
	for _, m := range waiting {
		if m != nil && m.session == s {
			m.waiting--
			m.next.OnEvent(event.NewStreamEnd(code))
		}
	}
	if s.h2 != nil {
		s.h2.fail(code)
	}
	if !wasClosed {
		s.stopIdle()
		s.sub.Release()
	}
}

func (s *muxSession) front() *mux {
	if len(s.waiting) == 0 {
		return nil
	}
	return s.waiting[0]
}

// OnMessageStart, OnData and OnMessageEnd receive decoded responses.
func (s *muxSession) OnMessageStart(head any) {
	if h, ok := head.(*http1.ResponseHead); ok && h.Status >= 100 && h.Status < 200 && h.Status != 101 {
		s.interim = true
		return
	}
	if h, ok := head.(*http1.ResponseHead); ok {
		if !h.KeepAlive() {
			s.retire()
		}
		// Connection fields speak of the upstream connection only; the
		// client's connection is the inbound side's business.
		h.Headers.Del("connection")
		h.Headers.Del("keep-alive")
	}
	if m := s.front(); m != nil {
		m.next.OnEvent(&event.MessageStart{Head: head})
	}
}

// retire stops new requests from joining the session: the upstream closes
// the connection after the responses it owes.
func (s *muxSession) retire() {
	s.retired = true
	if s.c.sessions[s.key] == s {
		delete(s.c.sessions, s.key)
	}
}

// hopByHopless returns head without the fields that concern the client's
// connection (connection, keep-alive, proxy-connection): a session is
// shared and stays open whatever one client asked of its own connection.
// head itself is not changed.
func hopByHopless(head *http1.RequestHead) *http1.RequestHead {
	hop := func(name string) bool {
		return strings.EqualFold(name, "connection") || strings.EqualFold(name, "keep-alive") ||
			strings.EqualFold(name, "proxy-connection")
	}
	found := false
	for _, f := range head.Headers {
		if hop(f.Name) {
			found = true
			break
		}
	}
	if !found {
		return head
	}
	h := *head
	h.Headers = make(http1.Headers, 0, len(head.Headers))
	for _, f := range head.Headers {
		if !hop(f.Name) {
			h.Headers = append(h.Headers, f)
		}
	}
	return &h
}

func (s *muxSession) OnData(b []byte) {
	m := s.front()
	if m == nil {
		return
	}
	// b is the decoder's view of the read buffer: lent to a stream that
	// copies what it is given (demuxHTTP's exchange does).
	s.in.Send(m.next, b)
}

func (s *muxSession) OnMessageEnd() {
	if s.interim {
		s.interim = false
		return
	}
	if len(s.waiting) == 0 {
		return
	}
	m := s.waiting[0]
	n := copy(s.waiting, s.waiting[1:])
	s.waiting[n] = nil
	s.waiting = s.waiting[:n]
	if m != nil {
		m.waiting--
		m.next.OnEvent(event.End())
	}
	s.maybeIdle()
}
