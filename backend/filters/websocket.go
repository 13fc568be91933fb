package filters

import (
	"encoding/binary"
	"errors"
	"math/rand/v2"

	"github.com/dop251/goja"

	"sluice/backend/engine"
	"sluice/backend/event"
	"sluice/backend/logging"
)

// decodeWebSocket turns WebSocket frames (RFC 6455) into messages: the
// frames of one message (up to the one with FIN) become one Message whose
// head is {opcode, masked, fin: true} (plus compressed: true when RSV1 is
// set, as permessage-deflate does), with the payload unmasked and streamed
// as it arrives. A control frame that arrives between the fragments of a
// message becomes its own message right after that one. encodeWebSocket does
// the reverse: each message becomes one frame, or several of at most 16 KiB;
// head.masked masks them (clients must), head.fin === false leaves the
// message open so that the next one continues it.

func init() {
	engine.Register(&engine.FilterKind{
		Name: "decodeWebSocket", Signature: "decodeWebSocket()",
		Help: "Decodes WebSocket frames from Data into messages with head {opcode, masked, fin} (opcode 1 text, 2 binary, 8 close, 9 ping, 10 pong) and the unmasked payload as body. " +
			"Fragments are joined into one message. A malformed frame ends the stream with a ProtocolError.",
		Parse: func(b *engine.Builder, args []goja.Value) (engine.Config, error) {
			if err := argCount(args, 0, 0, "decodeWebSocket()"); err != nil {
				return nil, err
			}
			return configFunc(func(p *engine.Pipeline, next event.Target) engine.Filter {
				f := &wsDecodeFilter{p: p, next: next}
				f.dec.h = f
				return f
			}), nil
		},
	})
	engine.Register(&engine.FilterKind{
		Name: "encodeWebSocket", Signature: "encodeWebSocket()",
		Help: "Encodes messages into WebSocket frames. The head gives opcode (default 1), masked (mask the payload, as clients must; default false), " +
			"fin (false: the next message continues this one; default true) and compressed (set RSV1). Bodies over 16 KiB are sent as several frames.",
		Parse: func(b *engine.Builder, args []goja.Value) (engine.Config, error) {
			if err := argCount(args, 0, 0, "encodeWebSocket()"); err != nil {
				return nil, err
			}
			return configFunc(func(p *engine.Pipeline, next event.Target) engine.Filter {
				return &wsEncodeFilter{p: p, next: next}
			}), nil
		},
	})
}

const (
	wsContinuation = 0
	wsText         = 1
	wsBinary       = 2
	wsClose        = 8
	wsPing         = 9
	wsPong         = 10

	wsMaxControl = 125
	wsFrameChunk = 16 << 10
)

func wsIsControl(op byte) bool { return op&0x08 != 0 }

func wsValidOpcode(op byte) bool {
	return op <= wsBinary || (op >= wsClose && op <= wsPong)
}

// wsHandler receives what a wsDecoder finds.
type wsHandler interface {
	wsStart(opcode byte, masked, compressed bool)
	wsData(b []byte)
	wsEnd()
}

// wsDecoder is a push parser of WebSocket frames. It holds at most one
// frame header and one control frame payload; data payloads pass through.
type wsDecoder struct {
	h wsHandler

	hdr    [14]byte
	hn     int // header bytes held
	inHdr  bool
	fin    bool
	rsv1   bool
	opcode byte
	masked bool
	mask   [4]byte
	left   uint64 // payload bytes still to come in this frame
	mpos   int    // position in the mask

	inMsg  bool   // a data message has started and not yet ended
	ctrl   []byte // payload of the control frame being read
	queued []wsQueued
	err    error
}

type wsQueued struct {
	opcode  byte
	masked  bool
	payload []byte
}

func (d *wsDecoder) reset() {
	h := d.h
	*d = wsDecoder{h: h}
}

var (
	errWSReserved      = errors.New("websocket: reserved bits set")
	errWSOpcode        = errors.New("websocket: reserved opcode")
	errWSControl       = errors.New("websocket: fragmented or oversized control frame")
	errWSContinuation  = errors.New("websocket: continuation frame without a message to continue")
	errWSInterleaved   = errors.New("websocket: new data frame before the previous message ended")
	errWSLength        = errors.New("websocket: frame length out of range")
	errWSCompressedBit = errors.New("websocket: RSV1 set on a continuation or control frame")
)

// feed parses b. After an error the decoder stays failed.
func (d *wsDecoder) feed(b []byte) error {
	if d.err != nil {
		return d.err
	}
	for len(b) > 0 {
		if d.left == 0 && !d.inHdr {
			d.inHdr, d.hn = true, 0
		}
		if d.inHdr {
			n, done, err := d.header(b)
			if err != nil {
				d.err = err
				return err
			}
			b = b[n:]
			if !done {
				return nil
			}
			d.inHdr = false
			if d.left == 0 {
				d.frameEnd()
			}
			continue
		}
		n := len(b)
		if uint64(n) > d.left {
			n = int(d.left)
		}
		d.payload(b[:n])
		b = b[n:]
		d.left -= uint64(n)
		if d.left == 0 {
			d.frameEnd()
		}
	}
	return nil
}

// header takes header bytes from b; done when the header is complete.
func (d *wsDecoder) header(b []byte) (used int, done bool, err error) {
	need := 2
	for {
		if d.hn >= 2 {
			need = 2
			switch d.hdr[1] & 0x7f {
			case 126:
				need += 2
			case 127:
				need += 8
			}
			if d.hdr[1]&0x80 != 0 {
				need += 4
			}
		}
		if d.hn == need {
			break
		}
		if used == len(b) {
			return used, false, nil
		}
		d.hdr[d.hn] = b[used]
		d.hn++
		used++
		if d.hn == 2 {
			if err := d.checkFirst(); err != nil {
				return used, false, err
			}
		}
	}
	h := d.hdr[:d.hn]
	d.fin = h[0]&0x80 != 0
	d.rsv1 = h[0]&0x40 != 0
	d.opcode = h[0] & 0x0f
	d.masked = h[1]&0x80 != 0
	p := 2
	switch l := h[1] & 0x7f; l {
	case 126:
		d.left = uint64(binary.BigEndian.Uint16(h[2:]))
		p = 4
	case 127:
		d.left = binary.BigEndian.Uint64(h[2:])
		if d.left>>63 != 0 {
			return used, false, errWSLength
		}
		p = 10
	default:
		d.left = uint64(l)
	}
	if d.masked {
		copy(d.mask[:], h[p:p+4])
	}
	d.mpos = 0
	if wsIsControl(d.opcode) {
		d.ctrl = d.ctrl[:0]
		return used, true, nil
	}
	if d.opcode != wsContinuation {
		d.inMsg = true
		d.h.wsStart(d.opcode, d.masked, d.rsv1)
	}
	return used, true, nil
}

// checkFirst validates the first two header bytes.
func (d *wsDecoder) checkFirst() error {
	b0, b1 := d.hdr[0], d.hdr[1]
	op := b0 & 0x0f
	if b0&0x30 != 0 {
		return errWSReserved
	}
	if !wsValidOpcode(op) {
		return errWSOpcode
	}
	if wsIsControl(op) {
		if b0&0x80 == 0 || b1&0x7f > wsMaxControl {
			return errWSControl
		}
		if b0&0x40 != 0 {
			return errWSCompressedBit
		}
		return nil
	}
	if op == wsContinuation {
		if !d.inMsg {
			return errWSContinuation
		}
		if b0&0x40 != 0 {
			return errWSCompressedBit
		}
	} else if d.inMsg {
		return errWSInterleaved
	}
	return nil
}

func (d *wsDecoder) payload(b []byte) {
	if d.masked {
		out := make([]byte, len(b))
		for i, c := range b {
			out[i] = c ^ d.mask[d.mpos&3]
			d.mpos++
		}
		b = out
	}
	if wsIsControl(d.opcode) {
		d.ctrl = append(d.ctrl, b...)
		return
	}
	d.h.wsData(b)
}

func (d *wsDecoder) frameEnd() {
	if wsIsControl(d.opcode) {
		p := append([]byte(nil), d.ctrl...)
		if d.inMsg {
			d.queued = append(d.queued, wsQueued{d.opcode, d.masked, p})
			return
		}
		d.emitControl(wsQueued{d.opcode, d.masked, p})
		return
	}
	if !d.fin {
		return
	}
	d.inMsg = false
	d.h.wsEnd()
	for len(d.queued) > 0 {
		q := d.queued[0]
		d.queued = d.queued[1:]
		d.emitControl(q)
	}
}

func (d *wsDecoder) emitControl(q wsQueued) {
	d.h.wsStart(q.opcode, q.masked, false)
	if len(q.payload) > 0 {
		d.h.wsData(q.payload)
	}
	d.h.wsEnd()
}

// wsAppendFrame appends one frame; mask is used when masked.
func wsAppendFrame(dst []byte, opcode byte, fin, rsv1, masked bool, mask [4]byte, payload []byte) []byte {
	b0 := opcode & 0x0f
	if fin {
		b0 |= 0x80
	}
	if rsv1 {
		b0 |= 0x40
	}
	var m byte
	if masked {
		m = 0x80
	}
	n := len(payload)
	switch {
	case n < 126:
		dst = append(dst, b0, m|byte(n))
	case n <= 0xffff:
		dst = append(dst, b0, m|126, byte(n>>8), byte(n))
	default:
		dst = append(dst, b0, m|127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	if !masked {
		return append(dst, payload...)
	}
	dst = append(dst, mask[:]...)
	for i, c := range payload {
		dst = append(dst, c^mask[i&3])
	}
	return dst
}

// ---- filters ----

type wsDecodeFilter struct {
	p      *engine.Pipeline
	next   event.Target
	dec    wsDecoder
	failed bool
}

func (f *wsDecodeFilter) Reset() {
	f.dec.reset()
	f.failed = false
}

func (f *wsDecodeFilter) OnEvent(e event.Event) {
	if f.failed {
		return
	}
	switch e := e.(type) {
	case *event.Data:
		for _, c := range e.Chunks() {
			if err := f.dec.feed(c); err != nil {
				logging.Warnf("[decodeWebSocket] %v", err)
				f.failed = true
				f.next.OnEvent(event.NewStreamEnd(event.ProtocolError))
				return
			}
		}
	case *event.StreamEnd:
		f.next.OnEvent(e)
	}
}

func (f *wsDecodeFilter) wsStart(opcode byte, masked, compressed bool) {
	rt := f.p.W.Runtime()
	h := rt.NewObject()
	h.Set("opcode", int(opcode))
	h.Set("masked", masked)
	h.Set("fin", true)
	if compressed {
		h.Set("compressed", true)
	}
	f.next.OnEvent(&event.MessageStart{Head: h})
}

func (f *wsDecodeFilter) wsData(b []byte) { f.next.OnEvent(event.NewData(b)) }
func (f *wsDecodeFilter) wsEnd()          { f.next.OnEvent(event.End()) }

type wsEncodeFilter struct {
	p          *engine.Pipeline
	next       event.Target
	in         bool
	opcode     byte
	masked     bool
	fin        bool
	compressed bool
	sent       bool // a frame of this message went out already
	continuing bool // the previous data message ended with fin: false
	buf        []byte
	failed     bool
}

func (f *wsEncodeFilter) Reset() {
	f.in, f.sent, f.continuing, f.failed = false, false, false, false
	f.buf = f.buf[:0]
}

func (f *wsEncodeFilter) fail(format string, a ...any) {
	logging.Errorf("[encodeWebSocket] "+format, a...)
	f.failed = true
	f.next.OnEvent(event.NewStreamEnd(event.ProtocolError))
}

func (f *wsEncodeFilter) OnEvent(e event.Event) {
	if f.failed {
		return
	}
	switch e := e.(type) {
	case *event.MessageStart:
		if f.in {
			return
		}
		f.in, f.sent = true, false
		f.buf = f.buf[:0]
		f.opcode, f.masked, f.fin, f.compressed = wsText, false, true, false
		if v := headProp(e.Head, "opcode"); v != nil {
			n := v.ToInteger()
			if n < 0 || n > 15 || !wsValidOpcode(byte(n)) || n == wsContinuation {
				f.fail("invalid opcode %s (1 text, 2 binary, 8 close, 9 ping, 10 pong)", v.String())
				return
			}
			f.opcode = byte(n)
		}
		if v := headProp(e.Head, "masked"); v != nil {
			f.masked = v.ToBoolean()
		}
		if v := headProp(e.Head, "fin"); v != nil {
			f.fin = v.ToBoolean()
		}
		if v := headProp(e.Head, "compressed"); v != nil {
			f.compressed = v.ToBoolean()
		}
		if wsIsControl(f.opcode) && !f.fin {
			f.fail("a control frame (opcode %d) cannot be fragmented", f.opcode)
		}
	case *event.Data:
		if !f.in {
			return
		}
		for _, c := range e.Chunks() {
			f.buf = append(f.buf, c...)
		}
		if wsIsControl(f.opcode) {
			if len(f.buf) > wsMaxControl {
				f.fail("a control frame (opcode %d) carries at most %d bytes", f.opcode, wsMaxControl)
			}
			return
		}
		for len(f.buf) >= wsFrameChunk {
			f.frame(f.buf[:wsFrameChunk], false)
			f.buf = append(f.buf[:0], f.buf[wsFrameChunk:]...)
		}
	case *event.MessageEnd:
		if !f.in {
			return
		}
		f.in = false
		if wsIsControl(f.opcode) {
			f.frame(f.buf, true)
			return
		}
		f.frame(f.buf, f.fin)
		f.continuing = !f.fin
	case *event.StreamEnd:
		f.in = false
		f.next.OnEvent(e)
	}
}

func (f *wsEncodeFilter) frame(payload []byte, fin bool) {
	op, rsv1 := f.opcode, f.compressed
	if !wsIsControl(op) && (f.sent || f.continuing) {
		op, rsv1 = wsContinuation, false
	}
	f.sent = true
	var mask [4]byte
	if f.masked {
		binary.LittleEndian.PutUint32(mask[:], rand.Uint32())
	}
	out := wsAppendFrame(make([]byte, 0, len(payload)+14), op, fin, rsv1, f.masked, mask, payload)
	f.next.OnEvent(event.NewData(out))
}
