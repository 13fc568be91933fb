package filters

import (
	"time"

	"github.com/dop251/goja"

	"sluice/backend/engine"
	"sluice/backend/event"
)

// Queueing joint filters: demux and demuxQueue fan a message stream out to
// one sub-pipeline per message; merge and muxQueue fan many streams into a
// shared session sub-pipeline.

func init() {
	engine.Register(&engine.FilterKind{
		Name: "demux", Joint: true, Signature: "demux(pipeline: string)",
		Help:  "Sends each input message through a sub-pipeline of its own (with a clone of the context) and outputs the first message each one answers with, whole, in the order they finish.",
		Parse: func(b *engine.Builder, args []goja.Value) (engine.Config, error) { return parseQDemux(b, args, false) },
	})
	engine.Register(&engine.FilterKind{
		Name: "demuxQueue", Joint: true, Signature: "demuxQueue(pipeline: string)",
		Help:  "Like demux, each input message goes through a sub-pipeline of its own (with a clone of the context), but the answers come out in the order of the input messages; the front one streams as it comes.",
		Parse: func(b *engine.Builder, args []goja.Value) (engine.Config, error) { return parseQDemux(b, args, true) },
	})
	engine.Register(&engine.FilterKind{
		Name: "merge", Joint: true, Fork: true, Signature: "merge(pipeline: string, key?: any | () => any, options?: {maxIdle})",
		Help:  "Passes every event on, and queues a copy of each whole message into a session sub-pipeline shared by all streams with the same key (at this place in the script); the session's output is discarded. A session gets a clone of the context of the stream that opened it and ends maxIdle (default 10s) after its last stream.",
		Parse: func(b *engine.Builder, args []goja.Value) (engine.Config, error) { return parseQMux(b, args, true) },
	})
	engine.Register(&engine.FilterKind{
		Name: "muxQueue", Joint: true, Signature: "muxQueue(pipeline: string, key?: any | () => any, options?: {maxIdle})",
		Help:  "Queues each whole input message into a session sub-pipeline shared by all streams with the same key (at this place in the script) and routes the messages the session answers with back to the streams, first in, first out. A session gets a clone of the context of the stream that opened it and ends maxIdle (default 10s) after its last stream.",
		Parse: func(b *engine.Builder, args []goja.Value) (engine.Config, error) { return parseQMux(b, args, false) },
	})
}

// ---- demux, demuxQueue ----

type qdemuxConfig struct {
	ref     *engine.LayoutRef
	ordered bool
	name    string
}

func parseQDemux(b *engine.Builder, args []goja.Value, ordered bool) (engine.Config, error) {
	if err := argCount(args, 1, 1, b.Kind.Name+"(pipeline)"); err != nil {
		return nil, err
	}
	name, err := pipelineName(args, 0)
	if err != nil {
		return nil, err
	}
	return &qdemuxConfig{ref: b.Ref(name), ordered: ordered}, nil
}

func (c *qdemuxConfig) Links() []string { return []string{c.ref.Name} }

func (c *qdemuxConfig) New(p *engine.Pipeline, next event.Target) engine.Filter {
	return &qdemux{c: c, p: p, next: next}
}

// qdemux is demux or demuxQueue on one stream.
type qdemux struct {
	c       *qdemuxConfig
	p       *engine.Pipeline
	next    event.Target
	streams []*qdemuxStream // answers still owed, in input order
	cur     *qdemuxStream   // the one receiving input
	inEnded bool
	done    bool
}

// qdemuxStream is one input message and its sub-pipeline.
type qdemuxStream struct {
	d        *qdemux
	sub      *engine.Pipeline
	inEnded  bool
	outEnded bool
	started  bool
	live     bool // ordered mode: its answer is streaming straight out
	dead     bool // its demux was reset
	head     any
	body     event.Data
}

func (d *qdemux) Reset() {
	for _, s := range d.streams {
		s.dead = true
		s.release()
	}
	if d.cur != nil {
		d.cur.dead = true
		d.cur.release()
	}
	*d = qdemux{c: d.c, p: d.p, next: d.next, streams: d.streams[:0]}
}

func (d *qdemux) OnEvent(e event.Event) {
	if d.done {
		return
	}
	switch e := e.(type) {
	case *event.MessageStart:
		if d.cur != nil && !d.cur.inEnded {
			return
		}
		s := &qdemuxStream{d: d}
		d.cur = s
		d.streams = append(d.streams, s)
		s.sub = d.p.Sub(d.c.ref, true, s)
		s.sub.OnEvent(e)
	case *event.Data:
		if s := d.cur; s != nil && !s.inEnded && s.sub != nil {
			s.sub.OnEvent(e)
		}
	case *event.MessageEnd:
		if s := d.cur; s != nil && !s.inEnded {
			s.endInput(e)
		}
	case *event.StreamEnd:
		if s := d.cur; s != nil && !s.inEnded {
			s.endInput(event.End())
		}
		d.inEnded = true
		d.maybeFinish()
	}
}

func (s *qdemuxStream) endInput(end *event.MessageEnd) {
	s.inEnded = true
	if s.sub != nil {
		s.sub.OnEvent(end)
	}
	if s.outEnded {
		s.release()
	}
}

func (s *qdemuxStream) release() {
	if s.sub != nil {
		s.sub.Release()
		s.sub = nil
	}
}

func (d *qdemux) maybeFinish() {
	if d.inEnded && len(d.streams) == 0 && !d.done {
		d.done = true
		d.next.OnEvent(event.NewStreamEnd(event.NoError))
	}
}

func (d *qdemux) isHead(s *qdemuxStream) bool { return len(d.streams) > 0 && d.streams[0] == s }

// OnEvent receives the sub-pipeline's answer.
func (s *qdemuxStream) OnEvent(e event.Event) {
	d := s.d
	if s.outEnded || s.dead || d.done {
		return
	}
	switch e := e.(type) {
	case *event.MessageStart:
		if s.started {
			return
		}
		s.started, s.head = true, e.Head
		if d.c.ordered && d.isHead(s) {
			s.live = true
			d.next.OnEvent(e)
		}
	case *event.Data:
		if !s.started {
			return
		}
		if s.live {
			d.next.OnEvent(e)
		} else {
			s.body.PushData(e)
		}
	case *event.MessageEnd:
		if s.started {
			s.complete(e)
		}
	case *event.StreamEnd:
		s.complete(event.End())
	}
}

// complete marks the answer as ended and outputs what can go out now.
func (s *qdemuxStream) complete(end *event.MessageEnd) {
	d := s.d
	s.outEnded = true
	if s.inEnded {
		s.release()
	}
	if !d.c.ordered {
		d.remove(s)
		s.emit(end)
		d.maybeFinish()
		return
	}
	if !d.isHead(s) {
		return
	}
	d.streams[0] = nil
	d.streams = d.streams[1:]
	s.emit(end)
	// Answers that finished behind it go out now; the next unfinished one
	// sends what it has and then streams.
	for len(d.streams) > 0 {
		h := d.streams[0]
		if !h.outEnded {
			if h.started {
				h.live = true
				d.next.OnEvent(&event.MessageStart{Head: h.head})
				if h.body.Size() > 0 {
					b := h.body.Clone()
					h.body.Clear()
					d.next.OnEvent(b)
				}
			}
			break
		}
		d.streams[0] = nil
		d.streams = d.streams[1:]
		h.emit(event.End())
	}
	d.maybeFinish()
}

// emit outputs the buffered answer (or the rest of a live one).
func (s *qdemuxStream) emit(end *event.MessageEnd) {
	d := s.d
	if !s.live {
		d.next.OnEvent(&event.MessageStart{Head: s.head})
		if s.body.Size() > 0 {
			b := s.body.Clone()
			s.body.Clear()
			d.next.OnEvent(b)
		}
	}
	d.next.OnEvent(end)
}

func (d *qdemux) remove(s *qdemuxStream) {
	for i, x := range d.streams {
		if x == s {
			copy(d.streams[i:], d.streams[i+1:])
			d.streams[len(d.streams)-1] = nil
			d.streams = d.streams[:len(d.streams)-1]
			return
		}
	}
}

// ---- merge, muxQueue ----

// sessionDrainLimit bounds how long a closed session's pipeline may take to
// finish what it was given (a connect still sending a batch) before it is
// released anyway.
const sessionDrainLimit = 30 * time.Second

type qmuxConfig struct {
	ref      *engine.LayoutRef
	key      engine.Value
	maxIdle  time.Duration
	merge    bool
	sessions map[sessionKey]*qmuxSession // per worker: the config belongs to one worker
}

func parseQMux(b *engine.Builder, args []goja.Value, merge bool) (engine.Config, error) {
	if err := argCount(args, 1, 3, b.Kind.Name+"(pipeline, key?, options?)"); err != nil {
		return nil, err
	}
	name, err := pipelineName(args, 0)
	if err != nil {
		return nil, err
	}
	c := &qmuxConfig{ref: b.Ref(name), maxIdle: 10 * time.Second, merge: merge, sessions: map[sessionKey]*qmuxSession{}}
	c.key = engine.Value{Const: goja.Undefined()}
	if len(args) > 1 {
		c.key = engine.NewValue(args[1])
	}
	o, err := optionsArg(args, 2, "maxIdle")
	if err != nil {
		return nil, err
	}
	if c.maxIdle, err = durationOption(o, "maxIdle", c.maxIdle); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *qmuxConfig) Links() []string { return []string{c.ref.Name} }

// Describe names muxQueue "mux" in diagrams, as Pipy 0.30 does.
func (c *qmuxConfig) Describe() string {
	if c.merge {
		return "merge"
	}
	return "mux"
}

func (c *qmuxConfig) New(p *engine.Pipeline, next event.Target) engine.Filter {
	return &qmux{c: c, p: p, next: next}
}

// qmux is one stream using a shared session.
type qmux struct {
	c       *qmuxConfig
	p       *engine.Pipeline
	next    event.Target
	keyed   bool
	key     sessionKey
	session *qmuxSession
	head    any
	body    event.Data
	inMsg   bool
	waiting int              // muxQueue: messages sent whose answers have not ended
	ended   *event.StreamEnd // muxQueue: the input's end, passed on after the answers
	done    bool
}

func (m *qmux) Reset() {
	m.detach()
	*m = qmux{c: m.c, p: m.p, next: m.next}
}

func (m *qmux) OnEvent(e event.Event) {
	if m.done {
		return
	}
	if !m.keyed {
		// The key is evaluated, and the session joined, on the first event.
		m.keyed = true
		k, err := m.c.key.Eval(m.p)
		if err != nil {
			m.done = true
			m.next.OnEvent(event.NewStreamEnd(event.RuntimeError))
			return
		}
		m.key = keyOf(k)
		m.attach()
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
		if m.inMsg {
			m.send()
		}
	case *event.StreamEnd:
		if m.inMsg {
			m.send() // what there is of it, as Pipy does
		}
		if !m.c.merge {
			// muxQueue ends the stream once the answers owed are out.
			m.ended = e
			if m.waiting == 0 || e.Error != event.NoError {
				m.finish()
			}
			return
		}
		m.detach()
	}
	if m.c.merge {
		m.next.OnEvent(e)
	}
}

// finish ends a muxQueue stream whose input has ended.
func (m *qmux) finish() {
	m.detach()
	m.done = true
	m.next.OnEvent(m.ended)
}

func (m *qmux) attach() {
	m.session = m.c.open(m.p, m.key)
	m.session.users++
	m.session.stopIdle()
}

func (m *qmux) detach() {
	if s := m.session; s != nil {
		m.session = nil
		for i, x := range s.waiting {
			if x == m {
				s.waiting[i] = nil
			}
		}
		s.users--
		s.maybeIdle()
	}
}

func (m *qmux) send() {
	m.inMsg = false
	if s := m.session; s == nil || s.closed {
		// The session ended since this stream joined it: use a new one.
		m.detach()
		m.attach()
	}
	s := m.session
	head := m.head
	body := m.body.Clone()
	m.head = nil
	m.body.Clear()
	if !m.c.merge {
		s.waiting = append(s.waiting, m)
		m.waiting++
	}
	s.sub.OnEvent(&event.MessageStart{Head: head})
	if body.Size() > 0 {
		s.sub.OnEvent(body)
	}
	s.sub.OnEvent(event.End())
}

func (c *qmuxConfig) open(p *engine.Pipeline, key sessionKey) *qmuxSession {
	if s := c.sessions[key]; s != nil && !s.closed {
		return s
	}
	s := &qmuxSession{c: c, key: key, w: p.W}
	c.sessions[key] = s
	s.sub = p.Sub(c.ref, true, s)
	return s
}

// qmuxSession is a sub-pipeline shared by the streams with one key. For
// muxQueue, waiting lists the stream owed each answer, in order (nil when
// that stream has gone).
type qmuxSession struct {
	c        *qmuxConfig
	key      sessionKey
	w        *engine.Worker
	sub      *engine.Pipeline
	waiting  []*qmux
	answer   bool // an answer is being routed to waiting[0]
	users    int
	closed   bool
	ended    bool // the sub-pipeline's output ended
	released bool
	idle     func()
}

func (s *qmuxSession) stopIdle() {
	if s.idle != nil {
		s.idle()
		s.idle = nil
	}
}

func (s *qmuxSession) maybeIdle() {
	if s.closed || s.users > 0 || len(s.waiting) > 0 || s.idle != nil {
		return
	}
	s.idle = s.w.After(s.c.maxIdle, func() {
		s.idle = nil
		if s.users == 0 && len(s.waiting) == 0 {
			s.close()
		}
	})
}

func (s *qmuxSession) forget() {
	if s.c.sessions[s.key] == s {
		delete(s.c.sessions, s.key)
	}
}

// close ends the session's input. Its pipeline is released once its output
// has ended too (a batch on its way out is not cut off), or after
// sessionDrainLimit.
func (s *qmuxSession) close() {
	if s.closed {
		return
	}
	s.closed = true
	s.forget()
	s.stopIdle()
	if s.ended {
		s.release()
		return
	}
	s.sub.OnEvent(event.NewStreamEnd(event.NoError))
	if !s.ended {
		s.idle = s.w.After(sessionDrainLimit, s.release)
	}
}

func (s *qmuxSession) release() {
	s.stopIdle()
	if !s.released {
		s.released = true
		s.sub.Release()
	}
}

// OnEvent receives the session pipeline's output.
func (s *qmuxSession) OnEvent(e event.Event) {
	if s.ended {
		return
	}
	if se, ok := e.(*event.StreamEnd); ok {
		s.end(se.Error)
		return
	}
	if s.c.merge {
		return
	}
	switch e := e.(type) {
	case *event.MessageStart:
		if s.answer || len(s.waiting) == 0 {
			return
		}
		s.answer = true
		if m := s.waiting[0]; m != nil {
			m.next.OnEvent(e)
		}
	case *event.Data:
		if s.answer && s.waiting[0] != nil {
			s.waiting[0].next.OnEvent(e)
		}
	case *event.MessageEnd:
		if !s.answer {
			return
		}
		s.answer = false
		m := s.waiting[0]
		s.waiting[0] = nil
		s.waiting = s.waiting[1:]
		if m != nil {
			m.waiting--
			m.next.OnEvent(e)
			if m.ended != nil && m.waiting == 0 && !m.done {
				m.finish()
			}
		}
		s.maybeIdle()
	}
}

// end: the session's output has ended; the streams still owed an answer
// end with an error, and new messages go to a new session.
func (s *qmuxSession) end(code event.ErrorCode) {
	s.ended = true
	s.closed = true
	s.forget()
	waiting := s.waiting
	s.waiting = nil
	if code == event.NoError {
		code = event.ConnectionReset
	}
	for _, m := range waiting {
		if m != nil && m.session == s {
			m.waiting--
			m.done = true
			m.next.OnEvent(event.NewStreamEnd(code))
		}
	}
	s.release()
}
