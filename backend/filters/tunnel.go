package filters

import (
	"fmt"

	"github.com/dop251/goja"

	"sluice/backend/engine"
	"sluice/backend/event"
	"sluice/backend/http1"
	"sluice/backend/logging"
)

// HTTP tunnels (CONNECT): acceptHTTPTunnel is the server side,
// connectHTTPTunnel the client side.

func init() {
	engine.Register(&engine.FilterKind{
		Name: "acceptHTTPTunnel", Joint: true, Signature: "acceptHTTPTunnel(pipeline: string, handler: (request: Message) => Message)",
		Help:  "Server side of an HTTP tunnel (CONNECT, or an upgrade). The handler gets the request and returns the response; when its status is 1xx or 2xx (or unset) the bytes that follow go both ways through the sub-pipeline, with a clone of the context. Its input is the request message and then Data (as Pipy); given raw bytes instead, it decodes the requests and encodes the responses itself (HTTP/1.1), answering requests until one opens a tunnel.",
		Parse: parseAcceptTunnel,
	})
	engine.Register(&engine.FilterKind{
		Name: "connectHTTPTunnel", Joint: true, Signature: "connectHTTPTunnel(pipeline: string, target: string | Message | () => string | Message)",
		Help:  "Client side of an HTTP tunnel: on the first event it sends a CONNECT request for target ('host:port', or a whole request Message) into the sub-pipeline (which has a clone of the context and usually encodes it, connects to the proxy and decodes the answer), followed by the input's Data; the output is what comes back after a 2xx response. Any other response ends the stream with ConnectionRefused.",
		Parse: parseConnectTunnel,
	})
}

// ---- acceptHTTPTunnel ----

type acceptTunnelConfig struct {
	ref     *engine.LayoutRef
	handler goja.Callable
}

func parseAcceptTunnel(b *engine.Builder, args []goja.Value) (engine.Config, error) {
	if err := argCount(args, 2, 2, "acceptHTTPTunnel(pipeline, handler)"); err != nil {
		return nil, err
	}
	name, err := pipelineName(args, 0)
	if err != nil {
		return nil, err
	}
	fn, err := engine.Func(args[1], "the handler")
	if err != nil {
		return nil, err
	}
	return &acceptTunnelConfig{ref: b.Ref(name), handler: fn}, nil
}

func (c *acceptTunnelConfig) Links() []string { return []string{c.ref.Name} }

func (c *acceptTunnelConfig) New(p *engine.Pipeline, next event.Target) engine.Filter {
	return &tunnelServer{c: c, p: p, next: next}
}

const (
	modeUndecided = iota
	modeMessages
	modeBytes
)

type tunnelServer struct {
	c    *acceptTunnelConfig
	p    *engine.Pipeline
	next event.Target
	mode int
	sub  *engine.Pipeline
	done bool
	// The request being received.
	head  any
	body  event.Data
	inMsg bool
	// Byte mode.
	dec *http1.Decoder
	buf []byte
}

func (t *tunnelServer) Reset() {
	if t.sub != nil {
		t.sub.Release()
	}
	*t = tunnelServer{c: t.c, p: t.p, next: t.next, buf: t.buf[:0]}
}

func (t *tunnelServer) OnEvent(e event.Event) {
	if t.done {
		return
	}
	if t.mode == modeUndecided {
		switch e.Kind() {
		case event.KindData:
			t.mode = modeBytes
			t.dec = http1.NewRequestDecoder(tunnelDecoded{t}, http1.Limits{})
		case event.KindMessageStart:
			t.mode = modeMessages
		}
	}
	if t.sub != nil && (t.mode == modeMessages || e.Kind() == event.KindStreamEnd) {
		t.sub.OnEvent(e)
		return
	}
	switch e := e.(type) {
	case *event.MessageStart:
		if t.mode == modeMessages {
			t.inMsg, t.head = true, e.Head
			t.body.Clear()
		}
	case *event.Data:
		switch {
		case t.mode == modeBytes:
			for _, c := range e.Chunks() {
				if err := t.dec.Feed(c); err != nil {
					t.badRequest(err)
					return
				}
				if t.done {
					return
				}
			}
		case t.inMsg:
			t.body.PushData(e)
		}
	case *event.MessageEnd:
		if t.mode == modeMessages && t.inMsg {
			t.inMsg = false
			res, ok := t.answer()
			if !ok {
				return
			}
			head, body, _ := engine.AsMessage(res)
			t.next.OnEvent(&event.MessageStart{Head: head})
			if body != nil && body.Size() > 0 {
				t.next.OnEvent(body.Clone())
			}
			t.next.OnEvent(e)
		}
	case *event.StreamEnd:
		t.finish(e.Error)
	}
}

// answer runs the handler for the request received and opens the tunnel
// when the response says so. ok is false when the stream has failed.
func (t *tunnelServer) answer() (res goja.Value, ok bool) {
	w := t.p.W
	body := t.body.Clone()
	t.body.Clear()
	v, err := w.Call(t.p.Context, t.c.handler, w.MessageObject(t.head, body))
	if err != nil {
		t.finish(event.RuntimeError)
		return nil, false
	}
	head, _, isMsg := engine.AsMessage(v)
	if !isMsg {
		logging.Errorf("[acceptHTTPTunnel] the handler did not return a Message: %s", describeValue(v))
		t.finish(event.RuntimeError)
		return nil, false
	}
	if status := tunnelStatus(w, head); status == 0 || status >= 100 && status < 300 {
		t.sub = t.p.Sub(t.c.ref, true, tunnelOut{t})
	}
	return v, true
}

// tunnelStatus is the status a response head gives, 0 when it has none.
func tunnelStatus(w *engine.Worker, head any) int {
	switch h := head.(type) {
	case nil:
		return 0
	case *http1.ResponseHead:
		return h.Status
	case *goja.Object:
		if v := h.Get("status"); !engine.IsNullish(v) {
			return int(v.ToInteger())
		}
		return 0
	}
	return w.ResponseHead(head).Status
}

func (t *tunnelServer) finish(code event.ErrorCode) {
	if t.done {
		return
	}
	t.done = true
	t.next.OnEvent(event.NewStreamEnd(code))
}

func (t *tunnelServer) badRequest(err error) {
	status, reason := 400, "Bad Request"
	if he, ok := err.(*http1.Error); ok {
		status, reason = he.Status, he.Reason
	}
	h := &http1.ResponseHead{Protocol: "HTTP/1.1", Status: status, StatusText: http1.StatusText(status)}
	t.buf = http1.AppendResponseHead(t.buf[:0], h, len(reason)+1, false)
	t.buf = append(t.buf, reason...)
	t.buf = append(t.buf, '\n')
	t.next.OnEvent(event.NewData(append([]byte(nil), t.buf...)))
	t.finish(event.NoError)
}

// tunnelOut receives the tunnel sub-pipeline's output.
type tunnelOut struct{ t *tunnelServer }

func (o tunnelOut) OnEvent(e event.Event) {
	t := o.t
	if t.done {
		return
	}
	if se, ok := e.(*event.StreamEnd); ok {
		t.finish(se.Error)
		return
	}
	t.next.OnEvent(e)
}

// tunnelDecoded receives the requests decoded in byte mode.
type tunnelDecoded struct{ t *tunnelServer }

func (d tunnelDecoded) OnMessageStart(head any) {
	t := d.t
	t.inMsg, t.head = true, head
	t.body.Clear()
}

func (d tunnelDecoded) OnData(b []byte) {
	t := d.t
	c := append([]byte(nil), b...)
	switch {
	case t.dec.Tunneled():
		if t.sub != nil && !t.done {
			t.sub.OnEvent(event.NewData(c))
		}
	case t.inMsg:
		t.body.Push(c)
	}
}

func (d tunnelDecoded) OnMessageEnd() {
	t := d.t
	if !t.inMsg || t.done {
		return
	}
	t.inMsg = false
	req := t.head.(*http1.RequestHead)
	res, ok := t.answer()
	if !ok {
		return
	}
	w := t.p.W
	head, body, _ := engine.AsMessage(res)
	h := w.ResponseHead(head)
	if h.Status == 0 {
		h.Status = 200
	}
	if t.sub != nil {
		t.buf = http1.AppendResponseHeadNoBody(t.buf[:0], h, true)
		t.next.OnEvent(event.NewData(append([]byte(nil), t.buf...)))
		t.dec.StartTunnel()
		return
	}
	size := 0
	if body != nil {
		size = body.Size()
	}
	keepAlive := req.KeepAlive() && !headerSaysClose(h.Headers)
	t.buf = http1.AppendResponseHead(t.buf[:0], h, size, keepAlive)
	if body != nil {
		t.buf = body.AppendTo(t.buf)
	}
	t.next.OnEvent(event.NewData(append([]byte(nil), t.buf...)))
	if !keepAlive {
		t.finish(event.NoError)
		return
	}
	if t.dec.Holding() {
		if err := t.dec.Resume(); err != nil {
			t.badRequest(err)
		}
	}
}

// ---- connectHTTPTunnel ----

type connectTunnelConfig struct {
	ref    *engine.LayoutRef
	target engine.Value
}

func parseConnectTunnel(b *engine.Builder, args []goja.Value) (engine.Config, error) {
	if err := argCount(args, 2, 2, "connectHTTPTunnel(pipeline, target)"); err != nil {
		return nil, err
	}
	name, err := pipelineName(args, 0)
	if err != nil {
		return nil, err
	}
	c := &connectTunnelConfig{ref: b.Ref(name), target: engine.NewValue(args[1])}
	if !c.target.IsFunc() {
		if _, _, err := tunnelRequest(args[1]); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// tunnelRequest makes the CONNECT request for a target: a 'host:port'
// string or a Message.
func tunnelRequest(v goja.Value) (any, *event.Data, error) {
	if head, body, ok := engine.AsMessage(v); ok {
		return head, body, nil
	}
	s, ok := v.Export().(string)
	if !ok {
		return nil, nil, fmt.Errorf("target must be 'host:port', a Message or a function returning one, got %s", describeValue(v))
	}
	if _, err := splitTarget(s); err != nil {
		return nil, nil, err
	}
	head := &http1.RequestHead{Method: "CONNECT", Path: s, Protocol: "HTTP/1.1",
		Headers: http1.Headers{{Name: "host", Value: s}}}
	return head, nil, nil
}

func (c *connectTunnelConfig) Links() []string { return []string{c.ref.Name} }

func (c *connectTunnelConfig) New(p *engine.Pipeline, next event.Target) engine.Filter {
	return &tunnelClient{c: c, p: p, next: next}
}

type tunnelClient struct {
	c         *connectTunnelConfig
	p         *engine.Pipeline
	next      event.Target
	sub       *engine.Pipeline
	started   bool
	tunneling bool
	done      bool
}

func (t *tunnelClient) Reset() {
	if t.sub != nil {
		t.sub.Release()
	}
	*t = tunnelClient{c: t.c, p: t.p, next: t.next}
}

func (t *tunnelClient) OnEvent(e event.Event) {
	if t.done {
		return
	}
	if !t.started {
		t.started = true
		v, err := t.c.target.Eval(t.p)
		if err != nil {
			t.end(event.RuntimeError)
			return
		}
		head, body, err := tunnelRequest(v)
		if err != nil {
			logging.Errorf("[connectHTTPTunnel] %v", err)
			t.end(event.CannotResolve)
			return
		}
		t.sub = t.p.Sub(t.c.ref, true, tunnelClientOut{t})
		t.sub.OnEvent(&event.MessageStart{Head: head})
		if body != nil && body.Size() > 0 {
			t.sub.OnEvent(body.Clone())
		}
		t.sub.OnEvent(event.End())
		if t.done {
			return
		}
	}
	t.sub.OnEvent(e)
}

func (t *tunnelClient) end(code event.ErrorCode) {
	if !t.done {
		t.done = true
		t.next.OnEvent(event.NewStreamEnd(code))
	}
}

// tunnelClientOut receives the sub-pipeline's output: the response to
// CONNECT, then the tunnel's bytes.
type tunnelClientOut struct{ t *tunnelClient }

func (o tunnelClientOut) OnEvent(e event.Event) {
	t := o.t
	if t.done {
		return
	}
	switch e := e.(type) {
	case *event.MessageStart:
		if t.tunneling {
			return
		}
		status := tunnelStatus(t.p.W, e.Head)
		if status < 200 || status >= 300 {
			logging.Warnf("[connectHTTPTunnel] the proxy refused the tunnel: status %d", status)
			t.end(event.ConnectionRefused)
			return
		}
		t.tunneling = true
	case *event.Data:
		// Everything after a 2xx response head is the tunnel's (a decoder
		// that does not know the request was CONNECT delivers it as the
		// response's body).
		if t.tunneling {
			t.next.OnEvent(e)
		}
	case *event.StreamEnd:
		code := e.Error
		if !t.tunneling && code == event.NoError {
			code = event.ConnectionReset
		}
		t.end(code)
	}
}
