package filters

import (
	"bytes"
	"errors"
	"strconv"
	"strings"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"sluice/backend/event"
	"sluice/backend/http1"
	"sluice/backend/logging"
)

// h2Client is muxHTTP's session with {version: 2}: one HTTP/2 connection
// (h2c with prior knowledge, through the session's sub-pipeline) carrying
// every request as its own stream. Push-style like h2Server: frames are
// read from the buffered input once whole, written to a buffer that goes
// into the sub-pipeline at the end of each turn.
type h2Client struct {
	s    *muxSession
	in   h2Input
	fr   *http2.Framer
	out  bytes.Buffer
	hbuf bytes.Buffer
	enc  *hpack.Encoder

	nextID       uint32
	calls        map[uint32]*h2Call
	sending      []*h2Call // request bodies waiting for windows
	sendWin      int64
	peerInitWin  int64
	peerMaxFrame uint32
	recvUnacked  int64
}

type h2Call struct {
	m         *mux
	id        uint32
	body      event.Data // request body not yet sent
	sendWin   int64
	started   bool // the response head went to m
	recvUnack int64
}

func newH2Client(s *muxSession) *h2Client {
	c := &h2Client{s: s, nextID: 1, calls: map[uint32]*h2Call{},
		sendWin: 65535, peerInitWin: 65535, peerMaxFrame: 16384}
	c.fr = http2.NewFramer(&c.out, &c.in)
	c.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	c.fr.MaxHeaderListSize = h2MaxHeaders
	c.fr.SetMaxReadFrameSize(16384)
	c.enc = hpack.NewEncoder(&c.hbuf)
	c.out.WriteString(h2Preface)
	c.fr.WriteSettings(
		http2.Setting{ID: http2.SettingEnablePush, Val: 0},
		http2.Setting{ID: http2.SettingInitialWindowSize, Val: h2StreamWindow},
	)
	c.fr.WriteWindowUpdate(0, h2ConnWindow-65535)
	return c
}

func (c *h2Client) flushOut() {
	if c.out.Len() == 0 || c.s.closed {
		c.out.Reset()
		return
	}
	b := append([]byte(nil), c.out.Bytes()...)
	c.out.Reset()
	c.s.sub.OnEvent(event.NewData(b))
}

func (c *h2Client) busy() bool { return len(c.calls) > 0 }

// request sends one request as a new stream.
func (c *h2Client) request(m *mux, head *http1.RequestHead, body *event.Data) {
	id := c.nextID
	c.nextID += 2
	call := &h2Call{m: m, id: id, sendWin: c.peerInitWin}
	call.body.PushData(body)
	c.calls[id] = call
	method := head.Method
	if method == "" {
		method = "GET"
	}
	authority, _ := head.Headers.Get("host")
	c.hbuf.Reset()
	c.enc.WriteField(hpack.HeaderField{Name: ":method", Value: method})
	c.enc.WriteField(hpack.HeaderField{Name: ":scheme", Value: "http"})
	c.enc.WriteField(hpack.HeaderField{Name: ":authority", Value: authority})
	path := head.Path
	if path == "" {
		path = "/"
	}
	c.enc.WriteField(hpack.HeaderField{Name: ":path", Value: path})
	for _, f := range head.Headers {
		name := strings.ToLower(f.Name)
		switch name {
		case "host", "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "content-length", "te":
			continue
		}
		c.enc.WriteField(hpack.HeaderField{Name: name, Value: f.Value})
	}
	if call.body.Size() > 0 || !methodWithoutBodyH2(method) {
		c.enc.WriteField(hpack.HeaderField{Name: "content-length", Value: strconv.Itoa(call.body.Size())})
	}
	end := call.body.Size() == 0
	block := c.hbuf.Bytes()
	max := int(c.peerMaxFrame)
	first := block
	if len(first) > max {
		first = first[:max]
	}
	block = block[len(first):]
	c.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: first, EndStream: end, EndHeaders: len(block) == 0})
	for len(block) > 0 {
		n := min(len(block), max)
		c.fr.WriteContinuation(id, n == len(block), block[:n])
		block = block[n:]
	}
	if !end {
		c.sending = append(c.sending, call)
		c.pump()
	}
	c.flushOut()
}

func methodWithoutBodyH2(m string) bool {
	return m == "GET" || m == "HEAD" || m == "DELETE" || m == "OPTIONS" || m == "TRACE" || m == "CONNECT"
}

// pump sends what the windows allow of the request bodies.
func (c *h2Client) pump() {
	j := 0
	for _, call := range c.sending {
		for call.body.Size() > 0 && c.calls[call.id] == call {
			n := min(int64(call.body.Size()), call.sendWin, c.sendWin, int64(c.peerMaxFrame))
			if n <= 0 {
				break
			}
			chunk := call.body.Shift(int(n))
			c.fr.WriteData(call.id, call.body.Size() == 0, chunk.Bytes())
			call.sendWin -= n
			c.sendWin -= n
		}
		if call.body.Size() > 0 && c.calls[call.id] == call {
			c.sending[j] = call
			j++
		}
	}
	clear(c.sending[j:])
	c.sending = c.sending[:j]
}

func (c *h2Client) forget(m *mux) {
	for _, call := range c.calls {
		if call.m == m {
			call.m = nil
		}
	}
}

// input receives the upstream's bytes.
func (c *h2Client) input(e *event.Data) {
	c.in.buf = e.AppendTo(c.in.buf)
	for !c.s.closed && h2Complete(c.in.buf[c.in.pos:]) {
		f, err := c.fr.ReadFrame()
		if err != nil {
			var se http2.StreamError
			if errors.As(err, &se) {
				c.fr.WriteRSTStream(se.StreamID, se.Code)
				c.end(se.StreamID, event.ProtocolError)
				continue
			}
			logging.Debugf("[muxHTTP] bad HTTP/2 frame from upstream: %v", err)
			c.fr.WriteGoAway(0, http2.ErrCodeProtocol, nil)
			c.flushOut()
			c.s.fail(event.ProtocolError)
			return
		}
		c.frame(f)
	}
	if c.in.pos == len(c.in.buf) {
		c.in.buf, c.in.pos = c.in.buf[:0], 0
	} else if c.in.pos > 0 {
		n := copy(c.in.buf, c.in.buf[c.in.pos:])
		c.in.buf, c.in.pos = c.in.buf[:n], 0
	}
	if c.recvUnacked > 0 {
		c.fr.WriteWindowUpdate(0, uint32(c.recvUnacked))
		c.recvUnacked = 0
	}
	for _, call := range c.calls {
		if call.recvUnack > 0 {
			c.fr.WriteWindowUpdate(call.id, uint32(call.recvUnack))
			call.recvUnack = 0
		}
	}
	c.flushOut()
	c.s.maybeIdle()
}

func (c *h2Client) frame(f http2.Frame) {
	switch f := f.(type) {
	case *http2.SettingsFrame:
		if f.IsAck() {
			return
		}
		f.ForeachSetting(func(s http2.Setting) error {
			switch s.ID {
			case http2.SettingInitialWindowSize:
				d := int64(s.Val) - c.peerInitWin
				c.peerInitWin = int64(s.Val)
				for _, call := range c.calls {
					call.sendWin += d
				}
			case http2.SettingMaxFrameSize:
				c.peerMaxFrame = s.Val
			case http2.SettingHeaderTableSize:
				c.enc.SetMaxDynamicTableSizeLimit(s.Val)
			}
			return nil
		})
		c.fr.WriteSettingsAck()
		c.pump()
	case *http2.PingFrame:
		if !f.IsAck() {
			c.fr.WritePing(true, f.Data)
		}
	case *http2.WindowUpdateFrame:
		if f.StreamID == 0 {
			c.sendWin += int64(f.Increment)
		} else if call := c.calls[f.StreamID]; call != nil {
			call.sendWin += int64(f.Increment)
		}
		c.pump()
	case *http2.MetaHeadersFrame:
		call := c.calls[f.StreamID]
		if call == nil {
			return
		}
		if !call.started {
			status, _ := strconv.Atoi(f.PseudoValue("status"))
			if status >= 100 && status < 200 {
				return // interim
			}
			head := &http1.ResponseHead{Protocol: "HTTP/2", Status: status, StatusText: http1.StatusText(status)}
			for _, hf := range f.RegularFields() {
				head.Headers = append(head.Headers, http1.Header{Name: hf.Name, Value: hf.Value})
			}
			call.started = true
			if call.m != nil {
				call.m.next.OnEvent(&event.MessageStart{Head: head})
			}
		}
		if f.StreamEnded() {
			c.end(f.StreamID, event.NoError)
		}
	case *http2.DataFrame:
		n := int64(f.Length)
		c.recvUnacked += n
		call := c.calls[f.StreamID]
		if call == nil {
			return
		}
		if b := f.Data(); len(b) > 0 && call.m != nil && call.started {
			call.m.next.OnEvent(event.NewData(append([]byte(nil), b...)))
		}
		if f.StreamEnded() {
			c.end(f.StreamID, event.NoError)
		} else {
			call.recvUnack += n
		}
	case *http2.RSTStreamFrame:
		c.end(f.StreamID, event.ConnectionReset)
	case *http2.GoAwayFrame:
		c.s.retire()
		for id := range c.calls {
			if id > f.LastStreamID {
				c.end(id, event.ConnectionReset)
			}
		}
	}
}

// end finishes a call: its response is complete, or it failed.
func (c *h2Client) end(id uint32, code event.ErrorCode) {
	call := c.calls[id]
	if call == nil {
		return
	}
	delete(c.calls, id)
	m := call.m
	if m == nil || m.session != c.s {
		return
	}
	m.waiting--
	if code == event.NoError && call.started {
		m.next.OnEvent(event.End())
	} else {
		m.next.OnEvent(event.NewStreamEnd(code))
	}
}

// fail ends every call with code.
func (c *h2Client) fail(code event.ErrorCode) {
	for id := range c.calls {
		c.end(id, code)
	}
}
