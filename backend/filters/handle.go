package filters

import (
	"fmt"

	"github.com/dop251/goja"

	"sluice/backend/engine"
	"sluice/backend/event"
)

// The handle* filters call a script function on some events and pass every
// event on unchanged. A function that throws ends the stream: the rest of
// the input is dropped and StreamEnd(RuntimeError) goes down.

type handleWhen int

const (
	onStreamStart handleWhen = iota
	onStreamEnd
	onMessageStart
	onMessageEnd
	onData
)

func registerHandle(name, sig, help string, when handleWhen) {
	engine.Register(&engine.FilterKind{
		Name: name, Signature: sig, Help: help,
		Parse: func(b *engine.Builder, args []goja.Value) (engine.Config, error) {
			if err := argCount(args, 1, 1, sig); err != nil {
				return nil, err
			}
			fn, err := engine.Func(args[0], "the handler")
			if err != nil {
				return nil, err
			}
			// A handler that takes no argument gets none: no event object is built.
			wantsArg := args[0].(*goja.Object).Get("length").ToInteger() > 0
			// A handler that cannot keep its MessageStart is lent reused objects.
			lend := wantsArg && when == onMessageStart && engine.ConfinesArg(args[0])
			return configFunc(func(p *engine.Pipeline, next event.Target) engine.Filter {
				return &handle{p: p, next: next, fn: fn, when: when, wantsArg: wantsArg, lend: lend}
			}), nil
		},
	})
}

func init() {
	registerHandle("handleStreamStart", "handleStreamStart(handler: (firstEvent) => void)",
		"Calls handler with the first event of the stream.", onStreamStart)
	registerHandle("handleStreamEnd", "handleStreamEnd(handler: (streamEnd: StreamEnd) => void)",
		"Calls handler when the stream ends.", onStreamEnd)
	registerHandle("handleMessageStart", "handleMessageStart(handler: (start: MessageStart) => void)",
		"Calls handler with each MessageStart (its .head is the message head).", onMessageStart)
	registerHandle("handleMessageEnd", "handleMessageEnd(handler: (end: MessageEnd) => void)",
		"Calls handler with each MessageEnd.", onMessageEnd)
	registerHandle("handleData", "handleData(handler: (data: Data) => void)",
		"Calls handler with each Data event.", onData)

	engine.Register(&engine.FilterKind{
		Name: "handleMessage", Signature: "handleMessage([sizeLimit: number|string,] handler: (msg: Message) => void)",
		Help: "Collects each whole message (up to sizeLimit bytes of body, e.g. '256k') and calls handler with it; events pass on as they come.",
		Parse: func(b *engine.Builder, args []goja.Value) (engine.Config, error) {
			limit, fn, err := limitAndFunc(args, "handleMessage([sizeLimit,] handler)")
			if err != nil {
				return nil, err
			}
			return configFunc(func(p *engine.Pipeline, next event.Target) engine.Filter {
				return &handleMessage{p: p, next: next, fn: fn, limit: limit}
			}), nil
		},
	})
}

// limitAndFunc parses "([sizeLimit,] fn)".
func limitAndFunc(args []goja.Value, sig string) (int, goja.Callable, error) {
	if err := argCount(args, 1, 2, sig); err != nil {
		return 0, nil, err
	}
	limit := -1
	if len(args) == 2 {
		n, err := engine.ParseSize(args[0])
		if err != nil {
			return 0, nil, err
		}
		limit = n
		args = args[1:]
	}
	fn, err := engine.Func(args[0], "the handler")
	return limit, fn, err
}

type handle struct {
	p        *engine.Pipeline
	next     event.Target
	fn       goja.Callable
	when     handleWhen
	wantsArg bool
	lend     bool // the handler is ConfinesArg-cleared
	started  bool
	failed   bool
}

func (h *handle) OnEvent(e event.Event) {
	if h.failed {
		return
	}
	call := false
	switch h.when {
	case onStreamStart:
		call = !h.started
	case onStreamEnd:
		call = e.Kind() == event.KindStreamEnd
	case onMessageStart:
		call = e.Kind() == event.KindMessageStart
	case onMessageEnd:
		call = e.Kind() == event.KindMessageEnd
	case onData:
		call = e.Kind() == event.KindData
	}
	h.started = true
	if call {
		w := h.p.W
		var err error
		switch {
		case h.lend:
			o, lent := w.LendEventObject(e)
			_, err = w.Call1(h.p.Context, h.fn, o)
			if lent {
				w.ReturnEventObject()
			}
		case h.wantsArg:
			_, err = w.Call1(h.p.Context, h.fn, w.EventObject(e))
		default:
			_, err = w.Call(h.p.Context, h.fn)
		}
		if err != nil {
			h.failed = true
			h.next.OnEvent(event.NewStreamEnd(event.RuntimeError))
			return
		}
	}
	h.next.OnEvent(e)
}

func (h *handle) Reset() { h.started, h.failed = false, false }

type handleMessage struct {
	p      *engine.Pipeline
	next   event.Target
	fn     goja.Callable
	limit  int
	head   any
	body   *event.Data
	in     bool
	failed bool
}

func (h *handleMessage) OnEvent(e event.Event) {
	if h.failed {
		return
	}
	switch e := e.(type) {
	case *event.MessageStart:
		h.in, h.head, h.body = true, e.Head, &event.Data{}
	case *event.Data:
		if h.in {
			room := e.Size()
			if h.limit >= 0 {
				room = min(room, h.limit-h.body.Size())
			}
			if room == e.Size() {
				h.body.PushData(e)
			} else if room > 0 {
				h.body.PushData(e.Clone().Shift(room))
			}
		}
	case *event.MessageEnd:
		if h.in {
			h.in = false
			w := h.p.W
			msg := w.MessageObject(h.head, h.body)
			if _, err := w.Call(h.p.Context, h.fn, msg); err != nil {
				h.failed = true
				h.next.OnEvent(event.NewStreamEnd(event.RuntimeError))
				return
			}
		}
	}
	h.next.OnEvent(e)
}

func (h *handleMessage) Reset() {
	*h = handleMessage{p: h.p, next: h.next, fn: h.fn, limit: h.limit}
}

var _ = fmt.Sprint
