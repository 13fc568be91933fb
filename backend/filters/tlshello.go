package filters

import (
	"bytes"

	"github.com/dop251/goja"

	"sluice/backend/engine"
	"sluice/backend/event"
)

func init() {
	engine.Register(&engine.FilterKind{
		Name: "handleTLSClientHello", Signature: "handleTLSClientHello(callback: (hello: {serverNames?: string[], protocolNames?: string[]}) => void)",
		Help:  "Passes the stream on unchanged and, when the TLS ClientHello at its start has arrived whole, calls back with the SNI server names and the ALPN protocol names the client offers (each present when the client sent that extension).",
		Parse: parseClientHelloFilter,
	})
	engine.Register(&engine.FilterKind{
		Name: "detectProtocol", Signature: "detectProtocol(callback: (protocol: 'HTTP' | 'TLS' | '') => void)",
		Help:  "Passes the stream on unchanged and, once its first bytes tell, calls back with 'HTTP' (an HTTP/1 request line), 'TLS' (a ClientHello record) or '' (neither). The callback runs before the event that decided it goes on.",
		Parse: parseDetectProtocol,
	})
}

// ---- ClientHello ----

// clientHello is what a ClientHello says about the connection.
type clientHello struct {
	serverNames   []string
	protocolNames []string
	hasSNI        bool
	hasALPN       bool
}

// maxHelloSize bounds the bytes collected while waiting for a ClientHello.
const maxHelloSize = 64 << 10

// helloReader collects the first TLS records of a stream until they hold
// the whole first handshake message.
type helloReader struct {
	buf  []byte
	done bool
}

// feed adds bytes. It returns done once the hello is complete (hello
// non-nil) or the stream is not a TLS handshake (hello nil).
func (r *helloReader) feed(b []byte) (hello *clientHello, done bool) {
	if r.done {
		return nil, true
	}
	r.buf = append(r.buf, b...)
	var msg []byte
	rest := r.buf
	for {
		if len(rest) < 5 {
			return r.undecided()
		}
		if rest[0] != 22 || rest[1] != 3 {
			return r.finish(nil)
		}
		n := int(rest[3])<<8 | int(rest[4])
		if len(rest) < 5+n {
			return r.undecided()
		}
		msg = append(msg, rest[5:5+n]...)
		rest = rest[5+n:]
		if len(msg) >= 4 {
			if msg[0] != 1 {
				return r.finish(nil)
			}
			size := int(msg[1])<<16 | int(msg[2])<<8 | int(msg[3])
			if size > maxHelloSize {
				return r.finish(nil)
			}
			if len(msg) >= 4+size {
				return r.finish(parseClientHello(msg[4 : 4+size]))
			}
		}
	}
}

func (r *helloReader) undecided() (*clientHello, bool) {
	if len(r.buf) > maxHelloSize {
		return r.finish(nil)
	}
	return nil, false
}

func (r *helloReader) finish(h *clientHello) (*clientHello, bool) {
	r.done, r.buf = true, nil
	return h, true
}

func (r *helloReader) reset() { r.buf, r.done = r.buf[:0], false }

// parseClientHello reads the SNI and ALPN extensions of a ClientHello body
// (RFC 8446, 4.1.2). It returns nil if the body is malformed.
func parseClientHello(b []byte) *clientHello {
	p := helloParser{b: b}
	p.skip(2 + 32)              // legacy_version, random
	p.skip(int(p.u8()))         // legacy_session_id
	p.skip(int(p.u16()))        // cipher_suites
	p.skip(int(p.u8()))         // legacy_compression_methods
	if p.bad || p.left() == 0 { // no extensions
		if p.bad {
			return nil
		}
		return &clientHello{}
	}
	ext := helloParser{b: p.bytes(int(p.u16()))}
	h := &clientHello{}
	for !p.bad && !ext.bad && ext.left() > 0 {
		typ := ext.u16()
		body := helloParser{b: ext.bytes(int(ext.u16()))}
		switch typ {
		case 0: // server_name
			h.hasSNI = true
			h.serverNames = []string{}
			list := helloParser{b: body.bytes(int(body.u16()))}
			for !list.bad && list.left() > 0 {
				nameType := list.u8()
				name := list.bytes(int(list.u16()))
				if nameType == 0 && !list.bad {
					h.serverNames = append(h.serverNames, string(name))
				}
			}
			if list.bad || body.bad {
				return nil
			}
		case 16: // application_layer_protocol_negotiation
			h.hasALPN = true
			h.protocolNames = []string{}
			list := helloParser{b: body.bytes(int(body.u16()))}
			for !list.bad && list.left() > 0 {
				name := list.bytes(int(list.u8()))
				if !list.bad {
					h.protocolNames = append(h.protocolNames, string(name))
				}
			}
			if list.bad || body.bad {
				return nil
			}
		}
	}
	if p.bad || ext.bad {
		return nil
	}
	return h
}

type helloParser struct {
	b   []byte
	bad bool
}

func (p *helloParser) left() int { return len(p.b) }

func (p *helloParser) bytes(n int) []byte {
	if p.bad || n > len(p.b) {
		p.bad = true
		return nil
	}
	out := p.b[:n]
	p.b = p.b[n:]
	return out
}

func (p *helloParser) skip(n int) { p.bytes(n) }

func (p *helloParser) u8() byte {
	b := p.bytes(1)
	if b == nil {
		return 0
	}
	return b[0]
}

func (p *helloParser) u16() uint16 {
	b := p.bytes(2)
	if b == nil {
		return 0
	}
	return uint16(b[0])<<8 | uint16(b[1])
}

// object is the hello as scripts see it.
func (h *clientHello) object(rt *goja.Runtime) *goja.Object {
	o := rt.NewObject()
	toArray := func(s []string) goja.Value {
		a := make([]any, len(s))
		for i, v := range s {
			a[i] = v
		}
		return rt.ToValue(a)
	}
	if h.hasSNI {
		o.Set("serverNames", toArray(h.serverNames))
	}
	if h.hasALPN {
		o.Set("protocolNames", toArray(h.protocolNames))
	}
	return o
}

type clientHelloConfig struct{ fn goja.Callable }

func parseClientHelloFilter(b *engine.Builder, args []goja.Value) (engine.Config, error) {
	if err := argCount(args, 1, 1, "handleTLSClientHello(callback)"); err != nil {
		return nil, err
	}
	fn, err := engine.Func(args[0], "the callback")
	if err != nil {
		return nil, err
	}
	return &clientHelloConfig{fn: fn}, nil
}

func (c *clientHelloConfig) New(p *engine.Pipeline, next event.Target) engine.Filter {
	return &clientHelloFilter{c: c, p: p, next: next}
}

type clientHelloFilter struct {
	c      *clientHelloConfig
	p      *engine.Pipeline
	next   event.Target
	r      helloReader
	failed bool
}

func (f *clientHelloFilter) OnEvent(e event.Event) {
	if f.failed {
		return
	}
	if d, ok := e.(*event.Data); ok && !f.r.done {
		for _, c := range d.Chunks() {
			hello, done := f.r.feed(c)
			if !done {
				continue
			}
			if hello != nil {
				if _, err := f.p.W.Call(f.p.Context, f.c.fn, hello.object(f.p.W.Runtime())); err != nil {
					f.failed = true
					f.next.OnEvent(event.NewStreamEnd(event.RuntimeError))
					return
				}
			}
			break
		}
	}
	f.next.OnEvent(e)
}

func (f *clientHelloFilter) Reset() { f.r.reset(); f.failed = false }

// ---- detectProtocol ----

type detectConfig struct{ fn goja.Callable }

func parseDetectProtocol(b *engine.Builder, args []goja.Value) (engine.Config, error) {
	if err := argCount(args, 1, 1, "detectProtocol(callback)"); err != nil {
		return nil, err
	}
	fn, err := engine.Func(args[0], "the callback")
	if err != nil {
		return nil, err
	}
	return &detectConfig{fn: fn}, nil
}

func (c *detectConfig) New(p *engine.Pipeline, next event.Target) engine.Filter {
	return &detectProtocol{c: c, p: p, next: next}
}

// detectProtocol looks at the first bytes of a stream (at most a request
// line's method and version, or a record header and handshake header).
type detectProtocol struct {
	c       *detectConfig
	p       *engine.Pipeline
	next    event.Target
	buf     []byte
	decided bool
	failed  bool
}

func (f *detectProtocol) OnEvent(e event.Event) {
	if f.failed {
		return
	}
	if d, ok := e.(*event.Data); ok && !f.decided {
		if len(f.buf) < detectBytes {
			for _, c := range d.Chunks() {
				f.buf = append(f.buf, c[:min(len(c), detectBytes-len(f.buf))]...)
			}
		}
		if name, ok := detect(f.buf); ok {
			f.decided, f.buf = true, nil
			if _, err := f.p.W.Call(f.p.Context, f.c.fn, f.p.W.Runtime().ToValue(name)); err != nil {
				f.failed = true
				f.next.OnEvent(event.NewStreamEnd(event.RuntimeError))
				return
			}
		}
	}
	f.next.OnEvent(e)
}

func (f *detectProtocol) Reset() { f.buf, f.decided, f.failed = f.buf[:0], false, false }

// detectBytes is enough to decide: the longest method, a space, a short
// target is not needed (the version is checked only when it has arrived).
const detectBytes = 64

var httpMethods = []string{"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"}

// detect names the protocol b starts with, or says it cannot tell yet.
func detect(b []byte) (string, bool) {
	isTLS, tlsDone := detectTLS(b)
	isHTTP, httpDone := detectHTTP(b)
	switch {
	case isTLS:
		return "TLS", true
	case isHTTP:
		return "HTTP", true
	case tlsDone && httpDone:
		return "", true
	}
	return "", false
}

// detectTLS: a handshake record (22) of version 3.x (x <= 4) holding a
// ClientHello (1) whose length fits the record.
func detectTLS(b []byte) (yes, done bool) {
	checks := []func() bool{
		func() bool { return b[0] == 22 },
		func() bool { return b[1] == 3 },
		func() bool { return b[2] <= 4 },
		nil, nil,
		func() bool { return b[5] == 1 },
		nil, nil,
		func() bool {
			return int(b[6])<<16|int(b[7])<<8|int(b[8]) <= (int(b[3])<<8|int(b[4]))+4
		},
	}
	for i, check := range checks {
		if i >= len(b) {
			return false, false
		}
		if check != nil && !check() {
			return false, true
		}
	}
	if len(b) < 11 {
		return false, false
	}
	return true, true
}

// detectHTTP: a known method, a space, and — if it has arrived — a
// version that starts with HTTP/1.
func detectHTTP(b []byte) (yes, done bool) {
	sp := bytes.IndexByte(b, ' ')
	if sp < 0 {
		if len(b) > 7 {
			return false, true
		}
		for _, m := range httpMethods {
			if len(b) <= len(m) && m[:len(b)] == string(b) {
				return false, false
			}
		}
		return false, true
	}
	method := string(b[:sp])
	known := false
	for _, m := range httpMethods {
		known = known || m == method
	}
	if !known {
		return false, true
	}
	rest := b[sp+1:]
	sp2 := bytes.IndexByte(rest, ' ')
	if sp2 < 0 {
		return true, true // the target goes on past what arrived
	}
	version := rest[sp2+1:]
	n := min(len(version), 7)
	if string(version[:n]) != "HTTP/1."[:n] {
		return false, true
	}
	return true, true
}
