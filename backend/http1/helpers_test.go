package http1

import (
	"errors"
	"fmt"
	"strings"
)

// recorder is a Handler that renders the events it receives as text lines:
//
//	req METHOD TARGET PROTO | name=value | ...
//	res PROTO STATUS TEXT | name=value | ...
//	data "..."     (consecutive OnData calls are merged)
//	end
//	err STATUS reason
//	tunnel "..."   (OnData outside a message)
type recorder struct {
	lines  []string
	data   []byte
	inData bool
	inMsg  bool
	tunnel bool // data outside a message

	bad bool // badly nested events seen ("!!" lines)

	heads   []any
	bodies  [][]byte
	body    []byte
	onStart func(head any)
	onEnd   func()
}

func (r *recorder) flush() {
	if r.inData {
		kind := "data"
		if r.tunnel {
			kind = "tunnel"
		}
		r.lines = append(r.lines, fmt.Sprintf("%s %q", kind, r.data))
		r.data = r.data[:0]
		r.inData = false
	}
}

func (r *recorder) OnMessageStart(head any) {
	r.flush()
	if r.inMsg {
		r.lines = append(r.lines, "!! start inside message")
		r.bad = true
	}
	r.inMsg = true
	r.lines = append(r.lines, formatHead(head))
	r.heads = append(r.heads, head)
	r.body = nil
	if r.onStart != nil {
		r.onStart(head)
	}
}

func (r *recorder) OnData(b []byte) {
	if len(b) == 0 {
		r.lines = append(r.lines, "!! empty OnData")
		r.bad = true
	}
	tunnel := !r.inMsg
	if r.inData && tunnel != r.tunnel {
		r.flush()
	}
	r.tunnel = tunnel
	r.inData = true
	r.data = append(r.data, b...)
	if r.inMsg {
		r.body = append(r.body, b...)
	}
}

func (r *recorder) OnMessageEnd() {
	r.flush()
	if !r.inMsg {
		r.lines = append(r.lines, "!! end outside message")
		r.bad = true
	}
	r.inMsg = false
	r.lines = append(r.lines, "end")
	r.bodies = append(r.bodies, r.body)
	if r.onEnd != nil {
		r.onEnd()
	}
}

func (r *recorder) fail(err error) {
	r.flush()
	var e *Error
	if errors.As(err, &e) {
		r.lines = append(r.lines, fmt.Sprintf("err %d %s", e.Status, e.Reason))
	} else {
		r.lines = append(r.lines, "err "+err.Error())
	}
}

func (r *recorder) String() string {
	r.flush()
	return strings.Join(r.lines, "\n")
}

func formatHead(head any) string {
	var b strings.Builder
	var hs Headers
	switch h := head.(type) {
	case *RequestHead:
		fmt.Fprintf(&b, "req %s %s %s", h.Method, h.Path, h.Protocol)
		hs = h.Headers
	case *ResponseHead:
		fmt.Fprintf(&b, "res %s %d %s", h.Protocol, h.Status, h.StatusText)
		hs = h.Headers
	default:
		return fmt.Sprintf("!! head %T", head)
	}
	for _, f := range hs {
		fmt.Fprintf(&b, " | %s=%s", f.Name, f.Value)
	}
	return b.String()
}

// decode runs input through a fresh decoder, feeding it in the pieces given
// by the cut points (offsets into input, increasing), then calls EOF when
// eof is set. It returns the rendered trace.
func decode(resp bool, lim Limits, methods []string, input []byte, cuts []int, eof bool) (string, *recorder) {
	r := &recorder{}
	var d *Decoder
	if resp {
		d = NewResponseDecoder(r, lim)
		for _, m := range methods {
			d.PushRequestMethod(m)
		}
	} else {
		d = NewRequestDecoder(r, lim)
	}
	prev := 0
	var err error
	for _, c := range append(append([]int(nil), cuts...), len(input)) {
		// copy each piece so that aliasing bugs show up
		piece := append([]byte(nil), input[prev:c]...)
		prev = c
		if err = d.Feed(piece); err != nil {
			break
		}
	}
	if err == nil && eof {
		err = d.EOF()
	}
	if err != nil {
		r.fail(err)
	}
	return r.String(), r
}

// lines joins expected trace lines.
func lines(l ...string) string { return strings.Join(l, "\n") }
