package filters

import (
	"encoding/binary"
	"fmt"
	"strconv"

	"github.com/dop251/goja"

	"sluice/backend/engine"
	"sluice/backend/event"
	"sluice/backend/logging"
)

// decodeDubbo turns Dubbo frames (16-byte header: magic 0xdabb, flags,
// status, 64-bit request id, 32-bit body length) into messages with head
// {id, status, isRequest, isTwoWay, isEvent}; the body streams through
// undecoded (Hessian.decode reads it). encodeDubbo frames messages again.

func init() {
	engine.Register(&engine.FilterKind{
		Name: "decodeDubbo", Signature: "decodeDubbo()",
		Help: "Decodes Dubbo frames from Data into messages with head {id (a string), status, isRequest, isTwoWay, isEvent}; the body is left encoded (see Hessian.decode). " +
			"A frame without the Dubbo magic number ends the stream with a ProtocolError.",
		Parse: func(b *engine.Builder, args []goja.Value) (engine.Config, error) {
			if err := argCount(args, 0, 0, "decodeDubbo()"); err != nil {
				return nil, err
			}
			return configFunc(func(p *engine.Pipeline, next event.Target) engine.Filter {
				return &dubboDecodeFilter{p: p, next: next}
			}), nil
		},
	})
	engine.Register(&engine.FilterKind{
		Name:      "encodeDubbo",
		Signature: "encodeDubbo(head?: {id, status, isRequest, isTwoWay, isEvent} | (msg: MessageStart) => object)",
		Help: "Encodes messages into Dubbo frames. Each header field comes from head (when given), else from the message head, else the default: " +
			"id counts up from 0, isRequest true, isTwoWay true, isEvent false, status 0 for requests and 20 (OK) for responses. The serialization is Hessian 2.",
		Parse: func(b *engine.Builder, args []goja.Value) (engine.Config, error) {
			const sig = "encodeDubbo(head?: object | () => object)"
			if err := argCount(args, 0, 1, sig); err != nil {
				return nil, err
			}
			var head engine.Value
			if len(args) == 1 && !engine.IsNullish(args[0]) {
				head = engine.NewValue(args[0])
				if _, isObj := args[0].(*goja.Object); !isObj {
					return nil, fmt.Errorf("head must be an object or a function; usage: %s", sig)
				}
			}
			return configFunc(func(p *engine.Pipeline, next event.Target) engine.Filter {
				return &dubboEncodeFilter{p: p, next: next, head: head}
			}), nil
		},
	})
}

const (
	dubboHeaderSize = 16
	dubboFlagReq    = 0x80
	dubboFlagTwoWay = 0x40
	dubboFlagEvent  = 0x20
	dubboHessian2   = 2
	dubboStatusOK   = 20
)

type dubboHeader struct {
	id      uint64
	status  byte
	flags   byte
	bodyLen int
}

// dubboDecoder is a push parser of Dubbo frames.
type dubboDecoder struct {
	hdr  [dubboHeaderSize]byte
	hn   int
	left int // body bytes still to come
	err  error
}

func (d *dubboDecoder) feed(b []byte, start func(dubboHeader), data func([]byte), end func()) error {
	if d.err != nil {
		return d.err
	}
	for len(b) > 0 {
		if d.left == 0 {
			n := copy(d.hdr[d.hn:], b)
			d.hn += n
			b = b[n:]
			if d.hn < dubboHeaderSize {
				return nil
			}
			d.hn = 0
			h := d.hdr[:]
			if h[0] != 0xda || h[1] != 0xbb {
				d.err = fmt.Errorf("dubbo: magic number not found")
				return d.err
			}
			l := int32(binary.BigEndian.Uint32(h[12:]))
			if l < 0 {
				d.err = fmt.Errorf("dubbo: negative body length")
				return d.err
			}
			start(dubboHeader{id: binary.BigEndian.Uint64(h[4:]), status: h[3], flags: h[2], bodyLen: int(l)})
			if l == 0 {
				end()
				continue
			}
			d.left = int(l)
			continue
		}
		n := min(len(b), d.left)
		data(b[:n])
		b = b[n:]
		if d.left -= n; d.left == 0 {
			end()
		}
	}
	return nil
}

type dubboDecodeFilter struct {
	p      *engine.Pipeline
	next   event.Target
	dec    dubboDecoder
	failed bool
}

func (f *dubboDecodeFilter) Reset() { f.dec, f.failed = dubboDecoder{}, false }

func (f *dubboDecodeFilter) OnEvent(e event.Event) {
	if f.failed {
		return
	}
	switch e := e.(type) {
	case *event.Data:
		rt := f.p.W.Runtime()
		for _, c := range e.Chunks() {
			err := f.dec.feed(c,
				func(h dubboHeader) {
					o := rt.NewObject()
					o.Set("id", strconv.FormatInt(int64(h.id), 10))
					o.Set("status", int(h.status))
					o.Set("isRequest", h.flags&dubboFlagReq != 0)
					o.Set("isTwoWay", h.flags&dubboFlagTwoWay != 0)
					o.Set("isEvent", h.flags&dubboFlagEvent != 0)
					f.next.OnEvent(&event.MessageStart{Head: o})
				},
				func(b []byte) { f.next.OnEvent(event.NewData(b)) },
				func() { f.next.OnEvent(event.End()) },
			)
			if err != nil {
				logging.Warnf("[decodeDubbo] %v", err)
				f.failed = true
				f.next.OnEvent(event.NewStreamEnd(event.ProtocolError))
				return
			}
		}
	case *event.StreamEnd:
		f.next.OnEvent(e)
	}
}

type dubboEncodeFilter struct {
	p      *engine.Pipeline
	next   event.Target
	head   engine.Value
	autoID int64
	in     bool
	start  *event.MessageStart
	body   event.Data
	failed bool
}

func (f *dubboEncodeFilter) Reset() {
	f.autoID, f.in, f.start, f.failed = 0, false, nil, false
	f.body.Clear()
}

// dubboField reads a header field: from the given head, then the message's.
func dubboField(heads []*goja.Object, name string) goja.Value {
	for _, h := range heads {
		if h == nil {
			continue
		}
		if v := h.Get(name); !engine.IsNullish(v) {
			return v
		}
	}
	return nil
}

func (f *dubboEncodeFilter) OnEvent(e event.Event) {
	if f.failed {
		return
	}
	switch e := e.(type) {
	case *event.MessageStart:
		f.in, f.start = true, e
		f.body.Clear()
	case *event.Data:
		if f.in {
			f.body.PushData(e)
		}
	case *event.MessageEnd:
		if !f.in {
			return
		}
		f.in = false
		var heads []*goja.Object
		if f.head.Const != nil || f.head.Fn != nil {
			v, err := f.head.Eval(f.p, f.p.W.EventObject(f.start))
			if err != nil {
				f.failed = true
				f.next.OnEvent(event.NewStreamEnd(event.RuntimeError))
				return
			}
			if o, ok := v.(*goja.Object); ok {
				heads = append(heads, o)
			}
		}
		if o, ok := f.start.Head.(*goja.Object); ok {
			heads = append(heads, o)
		}
		var id int64
		if v := dubboField(heads, "id"); v != nil {
			if s, ok := v.Export().(string); ok {
				n, err := strconv.ParseInt(s, 10, 64)
				if err != nil {
					logging.Errorf("[encodeDubbo] invalid id %q; the message is dropped", s)
					f.body.Clear()
					return
				}
				id = n
			} else {
				id = v.ToInteger()
			}
		} else {
			id = f.autoID
			f.autoID++
		}
		flag := func(name string, def bool) bool {
			if v := dubboField(heads, name); v != nil {
				return v.ToBoolean()
			}
			return def
		}
		isReq := flag("isRequest", true)
		flags := byte(dubboHessian2)
		if isReq {
			flags |= dubboFlagReq
		}
		if flag("isTwoWay", true) {
			flags |= dubboFlagTwoWay
		}
		if flag("isEvent", false) {
			flags |= dubboFlagEvent
		}
		status := 0
		if !isReq {
			status = dubboStatusOK
		}
		if v := dubboField(heads, "status"); v != nil {
			status = int(v.ToInteger())
		}
		out := make([]byte, dubboHeaderSize, dubboHeaderSize+f.body.Size())
		out[0], out[1], out[2], out[3] = 0xda, 0xbb, flags, byte(status)
		binary.BigEndian.PutUint64(out[4:], uint64(id))
		binary.BigEndian.PutUint32(out[12:], uint32(f.body.Size()))
		out = f.body.AppendTo(out)
		f.body.Clear()
		f.start = nil
		f.next.OnEvent(event.NewData(out))
	case *event.StreamEnd:
		f.in = false
		f.next.OnEvent(e)
	}
}
