package filters

import (
	"bytes"
	"errors"
	"strconv"
	"strings"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"sluice/backend/engine"
	"sluice/backend/event"
	"sluice/backend/http1"
	"sluice/backend/logging"
)

// HTTP/2 on the server side of serveHTTP and demuxHTTP. A connection whose
// first bytes are the HTTP/2 client preface (h2c with prior knowledge, or h2
// after TLS with ALPN) is handed to an h2Server; every other connection stays
// on the HTTP/1 path, which pays only for looking at its first byte.
//
// Everything is push-style: input bytes are buffered until a whole frame (a
// whole header block, for HEADERS+CONTINUATION) is in, then read with an
// http2.Framer over that buffer; frames written by the Framer collect in a
// buffer that goes out as one Data event at the end of each turn. Each
// stream is one exchange: demuxHTTP gives it its own sub-pipeline (with a
// clone of the context), serveHTTP runs the handler once the request has
// ended. Responses go out as soon as they are ready, in any order, their
// DATA frames interleaved within the peer's flow-control windows.

const h2Preface = http2.ClientPreface

const (
	h2MaxStreams   = 256
	h2StreamWindow = 1 << 20 // what we let a client send on a stream before it hears from us
	h2ConnWindow   = 1 << 20
	h2MaxHeaders   = 1 << 20
	h2MaxBuffered  = 4 << 20 // input held while waiting for the end of a header block
)

// sniffH2 looks at the first bytes of a connection. It returns true when it
// took e (held while it may be the preface, or handed to HTTP/2).
func (s *httpServer) sniffH2(e *event.Data) bool {
	if len(s.pre) == 0 {
		c := e.Chunks()
		if len(c) == 0 {
			return true
		}
		if c[0][0] != 'P' {
			s.sniffed = true
			return false
		}
	}
	s.pre = e.AppendTo(s.pre)
	n := min(len(s.pre), len(h2Preface))
	if string(s.pre[:n]) != h2Preface[:n] {
		s.sniffed = true
		held := s.pre
		s.pre = nil
		s.OnEvent(event.NewData(held))
		return true
	}
	if len(s.pre) < len(h2Preface) {
		return true
	}
	s.sniffed = true
	rest := s.pre[len(h2Preface):]
	s.pre = nil
	s.h2 = newH2Server(s)
	s.h2.start(rest)
	return true
}

// h2Input is the Framer's reader: the bytes buffered so far.
type h2Input struct {
	buf []byte
	pos int
}

func (r *h2Input) Read(p []byte) (int, error) {
	if r.pos >= len(r.buf) {
		return 0, errH2Short
	}
	n := copy(p, r.buf[r.pos:])
	r.pos += n
	return n, nil
}

var errH2Short = errors.New("h2: frame read past the buffered input")

type h2Server struct {
	s  *httpServer
	p  *engine.Pipeline
	in h2Input
	fr *http2.Framer

	out  bytes.Buffer
	hbuf bytes.Buffer
	enc  *hpack.Encoder

	streams map[uint32]*h2Stream
	lastID  uint32
	ready   []*h2Stream // streams with output waiting for their windows

	sendWin      int64  // the peer's connection window
	peerInitWin  int64  // the peer's SETTINGS_INITIAL_WINDOW_SIZE
	peerMaxFrame uint32 // the peer's SETTINGS_MAX_FRAME_SIZE
	recvWin      int64  // what the peer may still send on the connection
	recvUnacked  int64  // consumed, not yet given back
	dirty        []*h2Stream

	goingAway bool // the client sent GOAWAY: no new streams
	closed    bool
}

func newH2Server(s *httpServer) *h2Server {
	h := &h2Server{s: s, p: s.p, streams: map[uint32]*h2Stream{},
		sendWin: 65535, peerInitWin: 65535, peerMaxFrame: 16384, recvWin: 65535}
	h.fr = http2.NewFramer(&h.out, &h.in)
	h.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	max := uint32(h2MaxHeaders)
	if s.opts.limits.MaxHeaderSize > 0 {
		max = uint32(s.opts.limits.MaxHeaderSize)
	}
	h.fr.MaxHeaderListSize = max
	h.fr.SetMaxReadFrameSize(16384)
	h.enc = hpack.NewEncoder(&h.hbuf)
	return h
}

func (h *h2Server) start(rest []byte) {
	h.fr.WriteSettings(
		http2.Setting{ID: http2.SettingMaxConcurrentStreams, Val: h2MaxStreams},
		http2.Setting{ID: http2.SettingInitialWindowSize, Val: h2StreamWindow},
		http2.Setting{ID: http2.SettingMaxHeaderListSize, Val: h.fr.MaxHeaderListSize},
	)
	h.fr.WriteWindowUpdate(0, h2ConnWindow-65535)
	h.recvWin = h2ConnWindow
	h.in.buf = append(h.in.buf, rest...)
	h.process()
	h.flushOut()
}

func (h *h2Server) input(e *event.Data) {
	if h.closed {
		return
	}
	h.in.buf = e.AppendTo(h.in.buf)
	h.process()
	h.flushOut()
}

// inputEnd: the client's side of the connection ended. Streams still
// receiving their request are aborted; the connection ends once the others
// have answered.
func (h *h2Server) inputEnd() {
	if h.closed {
		return
	}
	h.goingAway = true
	for _, st := range h.streams {
		if !st.reqEnded {
			st.abort(event.ConnectionReset)
		}
	}
	h.maybeFinish()
	h.flushOut()
}

func (h *h2Server) flushOut() {
	if h.out.Len() == 0 || h.s.done {
		h.out.Reset()
		return
	}
	b := append([]byte(nil), h.out.Bytes()...)
	h.out.Reset()
	h.s.next.OnEvent(event.NewData(b))
}

// complete reports whether the buffered input holds a whole frame to read
// (for a header block, every frame of it).
func (h *h2Server) complete() bool { return h2Complete(h.in.buf[h.in.pos:]) }

func h2Complete(b []byte) bool {
	first := true
	for {
		if len(b) < 9 {
			return false
		}
		n := int(b[0])<<16 | int(b[1])<<8 | int(b[2])
		typ, flags := http2.FrameType(b[3]), http2.Flags(b[4])
		if n > 16384 {
			return true // too large: the Framer says so
		}
		if len(b) < 9+n {
			return false
		}
		if first && typ != http2.FrameHeaders && typ != http2.FramePushPromise {
			return true
		}
		if flags.Has(http2.FlagHeadersEndHeaders) {
			return true
		}
		if !first && typ != http2.FrameContinuation {
			return true // the Framer reports the protocol error
		}
		first = false
		b = b[9+n:]
	}
}

func (h *h2Server) process() {
	for !h.closed && h.complete() {
		f, err := h.fr.ReadFrame()
		if err != nil {
			var se http2.StreamError
			if errors.As(err, &se) {
				h.fr.WriteRSTStream(se.StreamID, se.Code)
				if st := h.streams[se.StreamID]; st != nil {
					st.abort(event.ProtocolError)
				}
				continue
			}
			code := http2.ErrCodeProtocol
			var ce http2.ConnectionError
			if errors.As(err, &ce) {
				code = http2.ErrCode(ce)
			} else if errors.Is(err, http2.ErrFrameTooLarge) {
				code = http2.ErrCodeFrameSize
			}
			logging.Debugf("[http2] bad frame from client: %v", err)
			h.fail(code)
			return
		}
		h.frame(f)
	}
	if h.closed {
		return
	}
	if h.in.pos == len(h.in.buf) {
		h.in.buf, h.in.pos = h.in.buf[:0], 0
	} else if h.in.pos > 0 {
		n := copy(h.in.buf, h.in.buf[h.in.pos:])
		h.in.buf, h.in.pos = h.in.buf[:n], 0
	}
	if len(h.in.buf) > h2MaxBuffered {
		h.fail(http2.ErrCodeEnhanceYourCalm)
		return
	}
	h.giveBack()
}

// giveBack sends WINDOW_UPDATEs for what the streams consumed.
func (h *h2Server) giveBack() {
	if h.recvUnacked > 0 {
		h.fr.WriteWindowUpdate(0, uint32(h.recvUnacked))
		h.recvWin += h.recvUnacked
		h.recvUnacked = 0
	}
	for _, st := range h.dirty {
		if st.recvUnacked > 0 && !st.reqEnded && !st.gone {
			h.fr.WriteWindowUpdate(st.id, uint32(st.recvUnacked))
			st.recvWin += st.recvUnacked
		}
		st.recvUnacked = 0
		st.isDirty = false
	}
	clear(h.dirty)
	h.dirty = h.dirty[:0]
}

func (h *h2Server) frame(f http2.Frame) {
	switch f := f.(type) {
	case *http2.SettingsFrame:
		if f.IsAck() {
			return
		}
		err := f.ForeachSetting(func(s http2.Setting) error {
			if err := s.Valid(); err != nil {
				return err
			}
			switch s.ID {
			case http2.SettingInitialWindowSize:
				d := int64(s.Val) - h.peerInitWin
				h.peerInitWin = int64(s.Val)
				for _, st := range h.streams {
					st.sendWin += d
				}
			case http2.SettingMaxFrameSize:
				h.peerMaxFrame = s.Val
			case http2.SettingHeaderTableSize:
				h.enc.SetMaxDynamicTableSizeLimit(s.Val)
			}
			return nil
		})
		if err != nil {
			var ce http2.ConnectionError
			code := http2.ErrCodeProtocol
			if errors.As(err, &ce) {
				code = http2.ErrCode(ce)
			}
			h.fail(code)
			return
		}
		h.fr.WriteSettingsAck()
		h.pump()
	case *http2.PingFrame:
		if !f.IsAck() {
			h.fr.WritePing(true, f.Data)
		}
	case *http2.WindowUpdateFrame:
		if f.StreamID == 0 {
			h.sendWin += int64(f.Increment)
			if h.sendWin > 1<<31-1 {
				h.fail(http2.ErrCodeFlowControl)
				return
			}
		} else if st := h.streams[f.StreamID]; st != nil {
			st.sendWin += int64(f.Increment)
			if st.sendWin > 1<<31-1 {
				h.fr.WriteRSTStream(st.id, http2.ErrCodeFlowControl)
				st.abort(event.ProtocolError)
				return
			}
		}
		h.pump()
	case *http2.MetaHeadersFrame:
		h.headers(f)
	case *http2.DataFrame:
		h.data(f)
	case *http2.RSTStreamFrame:
		if st := h.streams[f.StreamID]; st != nil {
			st.abort(event.ConnectionReset)
		}
	case *http2.GoAwayFrame:
		h.goingAway = true
		h.maybeFinish()
	case *http2.PushPromiseFrame:
		h.fail(http2.ErrCodeProtocol)
	}
}

func (h *h2Server) headers(f *http2.MetaHeadersFrame) {
	id := f.StreamID
	if st := h.streams[id]; st != nil {
		// Trailers: they end the request (and are dropped).
		if st.reqEnded || !f.StreamEnded() {
			h.fr.WriteRSTStream(id, http2.ErrCodeStreamClosed)
			st.abort(event.ProtocolError)
			return
		}
		st.endRequest()
		return
	}
	if id%2 == 0 || id <= h.lastID {
		if id <= h.lastID && id%2 == 1 {
			h.fr.WriteRSTStream(id, http2.ErrCodeStreamClosed)
			return
		}
		h.fail(http2.ErrCodeProtocol)
		return
	}
	h.lastID = id
	if h.goingAway {
		h.fr.WriteRSTStream(id, http2.ErrCodeRefusedStream)
		return
	}
	if len(h.streams) >= h2MaxStreams {
		h.fr.WriteRSTStream(id, http2.ErrCodeRefusedStream)
		return
	}
	req := &http1.RequestHead{Protocol: "HTTP/2"}
	var authority string
	var cookies []string
	for _, hf := range f.Fields {
		if hf.IsPseudo() {
			switch hf.Name {
			case ":method":
				req.Method = hf.Value
			case ":path":
				req.Path = hf.Value
			case ":authority":
				authority = hf.Value
			}
			continue
		}
		if hf.Name == "cookie" {
			cookies = append(cookies, hf.Value)
			continue
		}
		req.Headers = append(req.Headers, http1.Header{Name: hf.Name, Value: hf.Value})
	}
	if len(cookies) > 0 {
		req.Headers = append(req.Headers, http1.Header{Name: "cookie", Value: strings.Join(cookies, "; ")})
	}
	if authority != "" && !req.Headers.Has("host") {
		req.Headers = append(http1.Headers{{Name: "host", Value: authority}}, req.Headers...)
	}
	if req.Method == "" || (req.Path == "" && req.Method != "CONNECT") {
		h.fr.WriteRSTStream(id, http2.ErrCodeProtocol)
		return
	}
	st := &h2Stream{h: h, id: id, req: req, noBody: req.Method == "HEAD",
		sendWin: h.peerInitWin, recvWin: h2StreamWindow}
	h.streams[id] = st
	st.counted = true
	h.p.W.Program.Inflight.Add(1)
	if d := h.s.demux; d != nil {
		st.sub = h.p.Sub(d.ref, true, st)
		st.sub.OnEvent(&event.MessageStart{Head: req})
	} else {
		st.body = &event.Data{}
	}
	if f.StreamEnded() {
		st.endRequest()
	}
}

func (h *h2Server) data(f *http2.DataFrame) {
	n := int64(f.Length)
	h.recvWin -= n
	if h.recvWin < 0 {
		h.fail(http2.ErrCodeFlowControl)
		return
	}
	h.recvUnacked += n // the connection window is given back whatever becomes of the stream
	st := h.streams[f.StreamID]
	if st == nil || st.reqEnded {
		h.fr.WriteRSTStream(f.StreamID, http2.ErrCodeStreamClosed)
		if st != nil {
			st.abort(event.ProtocolError)
		}
		return
	}
	st.recvWin -= n
	if st.recvWin < 0 {
		h.fr.WriteRSTStream(st.id, http2.ErrCodeFlowControl)
		st.abort(event.ProtocolError)
		return
	}
	if b := f.Data(); len(b) > 0 {
		c := append([]byte(nil), b...)
		if st.sub != nil {
			st.sub.OnEvent(event.NewData(c))
		} else if st.body != nil {
			st.body.Push(c)
		}
	}
	// Consumed: the worker took it (the sub-pipeline or the body buffer).
	if !st.gone {
		st.recvUnacked += n
		if !st.isDirty {
			st.isDirty = true
			h.dirty = append(h.dirty, st)
		}
	}
	if f.StreamEnded() && !st.gone {
		st.endRequest()
	}
}

// fail ends the connection with a GOAWAY.
func (h *h2Server) fail(code http2.ErrCode) {
	if h.closed {
		return
	}
	h.fr.WriteGoAway(h.lastID, code, nil)
	h.closeAll()
}

func (h *h2Server) closeAll() {
	h.closed = true
	for _, st := range h.streams {
		st.abort(event.ConnectionReset)
	}
	h.flushOut()
	h.s.finish()
}

func (h *h2Server) maybeFinish() {
	if h.goingAway && len(h.streams) == 0 && !h.closed {
		h.closed = true
		h.flushOut()
		h.s.finish()
	}
}

// reset drops everything (the filter is being reset).
func (h *h2Server) reset() {
	h.closed = true
	for _, st := range h.streams {
		st.abort(event.ConnectionReset)
	}
}

func (h *h2Server) schedule(st *h2Stream) {
	if !st.queued {
		st.queued = true
		h.ready = append(h.ready, st)
	}
}

// pump sends what the windows allow of every waiting response.
func (h *h2Server) pump() {
	if h.closed {
		return
	}
	j := 0
	for i, st := range h.ready {
		if !st.send() {
			h.ready[j] = st
			j++
		} else {
			st.queued = false
		}
		if h.sendWin <= 0 {
			j += copy(h.ready[j:], h.ready[i+1:])
			break
		}
	}
	clear(h.ready[j:])
	h.ready = h.ready[:j]
}

// h2Stream is one request and its response.
type h2Stream struct {
	h      *h2Server
	id     uint32
	req    *http1.RequestHead
	body   *event.Data // the request body (serveHTTP)
	sub    *engine.Pipeline
	noBody bool

	reqEnded  bool
	head      *http1.ResponseHead
	headSent  bool
	pend      event.Data
	skipped   int
	respEnded bool
	gone      bool // END_STREAM or RST_STREAM went out (or came in): nothing more is sent

	sendWin     int64
	recvWin     int64
	recvUnacked int64
	isDirty     bool
	queued      bool
	counted     bool
}

func (st *h2Stream) endRequest() {
	st.reqEnded = true
	if st.sub != nil {
		st.sub.OnEvent(event.End())
	} else if !st.respEnded {
		st.handle()
	}
	st.maybeDone()
}

// handle runs serveHTTP's handler for the complete request.
func (st *h2Stream) handle() {
	h := st.h
	w := h.p.W
	c := h.s.serve
	if !c.handler.IsFunc() {
		head, body, _ := engine.AsMessage(c.handler.Const)
		st.OnEvent(&event.MessageStart{Head: head})
		if body != nil {
			st.OnEvent(body.Clone())
		}
		st.OnEvent(event.End())
		return
	}
	v, err := c.handler.Eval(h.p, w.MessageObject(st.req, st.body))
	if err == nil {
		err = w.Events(v, st.OnEvent)
	}
	if err != nil {
		if _, ok := err.(*engine.ScriptError); !ok {
			logging.Errorf("[serveHTTP] %v", err)
		}
		st.OnEvent(event.NewStreamEnd(event.RuntimeError))
		return
	}
	if !st.respEnded && !st.gone {
		if st.head == nil {
			st.OnEvent(&event.MessageStart{})
		}
		st.OnEvent(event.End())
	}
}

// OnEvent receives the response.
func (st *h2Stream) OnEvent(e event.Event) {
	h := st.h
	if st.respEnded || st.gone || h.closed {
		return
	}
	switch e := e.(type) {
	case *event.MessageStart:
		if st.head == nil {
			if e.Head == nil {
				st.head = &http1.ResponseHead{Status: 200}
			} else {
				st.head = h.p.W.ResponseHead(e.Head)
			}
		}
		return
	case *event.Data:
		if st.head == nil {
			return
		}
		if st.noBody || noBodyStatus(st.head.Status) {
			st.skipped += e.Size()
			return
		}
		st.pend.PushData(e)
		if st.headSent || st.pend.Size() > h.s.opts.bufferSize {
			h.schedule(st)
			h.pump()
			h.flushOut()
		}
		return
	case *event.MessageEnd:
		if st.head == nil {
			return
		}
		st.respEnded = true
	case *event.StreamEnd:
		if st.head == nil {
			st.head = errorHead(e.Error)
			st.pend.Clear()
			st.respEnded = true
		} else {
			// The response broke off: the client sees the stream reset.
			h.fr.WriteRSTStream(st.id, http2.ErrCodeInternal)
			st.gone = true
			st.pend.Clear()
			st.maybeDone()
			h.flushOut()
			return
		}
	}
	h.schedule(st)
	h.pump()
	st.maybeDone()
	h.flushOut()
}

// send writes what it can of the response; it reports whether nothing is
// left waiting.
func (st *h2Stream) send() bool {
	h := st.h
	if st.gone {
		return true
	}
	if !st.headSent {
		st.writeHeaders()
		if st.gone {
			return true
		}
	}
	for st.pend.Size() > 0 {
		n := int64(st.pend.Size())
		n = min(n, st.sendWin, h.sendWin, int64(h.peerMaxFrame))
		if n <= 0 {
			return false
		}
		chunk := st.pend.Shift(int(n))
		last := st.respEnded && st.pend.Size() == 0
		h.fr.WriteData(st.id, last, chunk.Bytes())
		st.sendWin -= n
		h.sendWin -= n
		if last {
			st.ended()
			return true
		}
	}
	if st.respEnded {
		h.fr.WriteData(st.id, true, nil)
		st.ended()
	}
	return true
}

// ended: END_STREAM went out. A request still coming is not wanted any
// more (RFC 9113, 8.1).
func (st *h2Stream) ended() {
	st.gone = true
	if !st.reqEnded {
		st.h.fr.WriteRSTStream(st.id, http2.ErrCodeNo)
		st.abort(event.ConnectionReset)
	}
}

// writeHeaders sends the response head: :status, then the fields with
// lower-case names and without those that only concern an HTTP/1
// connection. A response that is complete gets its content-length.
func (st *h2Stream) writeHeaders() {
	h := st.h
	head := st.head
	st.headSent = true
	status := head.Status
	if status == 0 {
		status = 200
	}
	bodiless := st.noBody || noBodyStatus(status)
	end := st.respEnded && (bodiless || st.pend.Size() == 0)
	h.hbuf.Reset()
	h.enc.WriteField(hpack.HeaderField{Name: ":status", Value: strconv.Itoa(status)})
	known := st.respEnded && !bodiless
	hasLength := false
	for _, f := range head.Headers {
		name := strings.ToLower(f.Name)
		switch name {
		case "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te":
			continue
		case "content-length":
			if known {
				continue
			}
			hasLength = true
		}
		if name == "" || name[0] == ':' {
			continue
		}
		h.enc.WriteField(hpack.HeaderField{Name: name, Value: f.Value})
	}
	if known {
		h.enc.WriteField(hpack.HeaderField{Name: "content-length", Value: strconv.Itoa(st.pend.Size())})
	} else if st.noBody && !hasLength && st.respEnded && !noBodyStatus(status) {
		h.enc.WriteField(hpack.HeaderField{Name: "content-length", Value: strconv.Itoa(st.skipped)})
	}
	block := h.hbuf.Bytes()
	max := int(h.peerMaxFrame)
	first := block
	if len(first) > max {
		first = first[:max]
	}
	block = block[len(first):]
	h.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: st.id, BlockFragment: first, EndStream: end, EndHeaders: len(block) == 0})
	for len(block) > 0 {
		n := min(len(block), max)
		h.fr.WriteContinuation(st.id, n == len(block), block[:n])
		block = block[n:]
	}
	if bodiless {
		st.pend.Clear()
	}
	if end {
		st.ended()
	}
}

// abort ends the stream at once: its request (if still coming) is reset and
// whatever it would still answer is dropped.
func (st *h2Stream) abort(code event.ErrorCode) {
	if !st.reqEnded {
		st.reqEnded = true
		if st.sub != nil {
			st.sub.OnEvent(event.NewStreamEnd(code))
		}
	}
	st.gone = true
	st.respEnded = true
	st.pend.Clear()
	st.maybeDone()
}

// maybeDone forgets the stream once both of its halves are over.
func (st *h2Stream) maybeDone() {
	h := st.h
	if !st.reqEnded || !st.gone || h.streams[st.id] != st {
		return
	}
	delete(h.streams, st.id)
	if st.sub != nil {
		st.sub.Release()
		st.sub = nil
	}
	if st.counted {
		st.counted = false
		h.p.W.Program.Inflight.Add(-1)
	}
	h.maybeFinish()
}
