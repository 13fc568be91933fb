package filters

import (
	"github.com/dop251/goja"

	"sluice/backend/engine"
	"sluice/backend/event"
	"sluice/backend/http1"
)

func init() {
	engine.Register(&engine.FilterKind{
		Name: "decodeHTTPRequest", Signature: "decodeHTTPRequest()",
		Help: "Decodes HTTP/1.1 requests from Data into messages.",
		Parse: func(b *engine.Builder, args []goja.Value) (engine.Config, error) {
			return codecConfig{kind: decReq}, nil
		},
	})
	engine.Register(&engine.FilterKind{
		Name: "decodeHTTPResponse", Signature: "decodeHTTPResponse()",
		Help: "Decodes HTTP/1.1 responses from Data into messages; when the stream fails before a response, a 502 or 504 response stands in for it.",
		Parse: func(b *engine.Builder, args []goja.Value) (engine.Config, error) {
			return codecConfig{kind: decResp}, nil
		},
	})
	engine.Register(&engine.FilterKind{
		Name: "encodeHTTPRequest", Signature: "encodeHTTPRequest(options?: {bufferSize})",
		Help: "Encodes request messages into HTTP/1.1 bytes (content-length when the body is known, chunked otherwise).",
		Parse: func(b *engine.Builder, args []goja.Value) (engine.Config, error) {
			return codecConfig{kind: encReq}, nil
		},
	})
	engine.Register(&engine.FilterKind{
		Name: "encodeHTTPResponse", Signature: "encodeHTTPResponse(options?: {bufferSize})",
		Help: "Encodes response messages into HTTP/1.1 bytes with content-length and connection: keep-alive.",
		Parse: func(b *engine.Builder, args []goja.Value) (engine.Config, error) {
			return codecConfig{kind: encResp}, nil
		},
	})
}

type codecKind int

const (
	decReq codecKind = iota
	decResp
	encReq
	encResp
)

type codecConfig struct{ kind codecKind }

func (c codecConfig) New(p *engine.Pipeline, next event.Target) engine.Filter {
	switch c.kind {
	case decReq, decResp:
		d := &decoder{p: p, next: next, resp: c.kind == decResp}
		d.Reset()
		return d
	}
	return &encoder{p: p, next: next, resp: c.kind == encResp}
}

type decoder struct {
	p       *engine.Pipeline
	next    event.Target
	resp    bool
	dec     *http1.Decoder
	inMsg   bool
	started bool
	failed  bool
}

func (d *decoder) Reset() {
	if d.resp {
		d.dec = http1.NewResponseDecoder(d, http1.Limits{})
	} else {
		d.dec = http1.NewRequestDecoder(d, http1.Limits{})
	}
	d.inMsg, d.started, d.failed = false, false, false
}

func (d *decoder) OnEvent(e event.Event) {
	if d.failed {
		return
	}
	switch e := e.(type) {
	case *event.Data:
		for _, c := range e.Chunks() {
			if err := d.dec.Feed(c); err != nil {
				d.failed = true
				d.next.OnEvent(event.NewStreamEnd(event.ProtocolError))
				return
			}
		}
	case *event.StreamEnd:
		if e.Error == event.NoError {
			d.dec.EOF()
		}
		if d.resp && !d.started && e.Error != event.NoError {
			d.next.OnEvent(&event.MessageStart{Head: errorHead(e.Error)})
			d.next.OnEvent(event.End())
		}
		d.next.OnEvent(e)
	default:
		d.next.OnEvent(e)
	}
}

func (d *decoder) OnMessageStart(head any) {
	d.started, d.inMsg = true, true
	d.next.OnEvent(&event.MessageStart{Head: head})
}

func (d *decoder) OnData(b []byte) {
	c := make([]byte, len(b))
	copy(c, b)
	d.next.OnEvent(event.NewData(c))
}

func (d *decoder) OnMessageEnd() {
	d.inMsg = false
	d.next.OnEvent(event.End())
}

type encoder struct {
	p    *engine.Pipeline
	next event.Target
	resp bool
	head any
	body event.Data
	in   bool
	buf  []byte
}

func (x *encoder) Reset() { x.head, x.in = nil, false; x.body.Clear() }

func (x *encoder) OnEvent(e event.Event) {
	switch e := e.(type) {
	case *event.MessageStart:
		x.in, x.head = true, e.Head
		x.body.Clear()
	case *event.Data:
		if x.in {
			x.body.PushData(e)
		} else {
			x.next.OnEvent(e)
		}
	case *event.MessageEnd:
		if !x.in {
			return
		}
		x.in = false
		w := x.p.W
		if x.resp {
			h := w.ResponseHead(x.head)
			if noBodyStatus(h.Status) {
				x.buf = http1.AppendResponseHeadNoBody(x.buf[:0], h, true)
			} else {
				x.buf = http1.AppendResponseHead(x.buf[:0], h, x.body.Size(), !headerSaysClose(h.Headers))
				x.buf = x.body.AppendTo(x.buf)
			}
		} else {
			h := w.RequestHead(x.head)
			x.buf = http1.AppendRequestHead(x.buf[:0], h, x.body.Size())
			x.buf = x.body.AppendTo(x.buf)
		}
		x.body.Clear()
		x.next.OnEvent(event.NewData(append([]byte(nil), x.buf...)))
	case *event.StreamEnd:
		x.next.OnEvent(e)
	}
}
