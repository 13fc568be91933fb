package filters

import (
	"github.com/dop251/goja"

	"sluice/backend/engine"
	"sluice/backend/event"
)

// The replace* filters put what a script gives (a value, or what a function
// returns for the event) in place of some events. What the function returns
// may be a Message, an event, Data, a string, or an array of those; null or
// undefined removes the event.

type replaceWhen int

const (
	replStreamStart replaceWhen = iota
	replStreamEnd
	replMessageStart
	replMessageEnd
	replData
)

func registerReplace(name, sig, help string, when replaceWhen) {
	engine.Register(&engine.FilterKind{
		Name: name, Signature: sig, Help: help,
		Parse: func(b *engine.Builder, args []goja.Value) (engine.Config, error) {
			if err := argCount(args, 0, 1, sig); err != nil {
				return nil, err
			}
			var v engine.Value
			if len(args) == 1 {
				v = engine.NewValue(args[0])
			} else {
				v = engine.Value{Const: goja.Undefined()}
			}
			return configFunc(func(p *engine.Pipeline, next event.Target) engine.Filter {
				return &replace{p: p, next: next, v: v, when: when}
			}), nil
		},
	})
}

func init() {
	registerReplace("replaceStreamStart", "replaceStreamStart(replacement?: Event | Message | (first) => Event | Message | Event[])",
		"Replaces the first event of the stream.", replStreamStart)
	registerReplace("replaceStreamEnd", "replaceStreamEnd(replacement?: Event | Message | (end: StreamEnd) => Event | Message | Event[])",
		"Replaces the StreamEnd that ends the stream.", replStreamEnd)
	registerReplace("replaceMessageStart", "replaceMessageStart(replacement?: MessageStart | (start: MessageStart) => Event | Event[])",
		"Replaces each MessageStart.", replMessageStart)
	registerReplace("replaceMessageEnd", "replaceMessageEnd(replacement?: MessageEnd | (end: MessageEnd) => Event | Event[])",
		"Replaces each MessageEnd.", replMessageEnd)
	registerReplace("replaceData", "replaceData(replacement?: Data | string | (data: Data) => Data | string | Event[])",
		"Replaces each Data event.", replData)

	engine.Register(&engine.FilterKind{
		Name: "replaceMessage", Signature: "replaceMessage([sizeLimit,] replacement: Message | (msg: Message) => Message | Event[])",
		Help: "Collects each whole message and puts the replacement in its place.",
		Parse: func(b *engine.Builder, args []goja.Value) (engine.Config, error) {
			limit, v, err := limitAndValue(args, "replaceMessage([sizeLimit,] replacement)")
			if err != nil {
				return nil, err
			}
			return configFunc(func(p *engine.Pipeline, next event.Target) engine.Filter {
				return &replaceMessage{p: p, next: next, v: v, limit: limit}
			}), nil
		},
	})
	engine.Register(&engine.FilterKind{
		Name: "replaceMessageBody", Signature: "replaceMessageBody([sizeLimit,] replacement: Data | string | (body: Data) => Data | string)",
		Help: "Collects each message body and puts the replacement in its place; the head and end pass on.",
		Parse: func(b *engine.Builder, args []goja.Value) (engine.Config, error) {
			limit, v, err := limitAndValue(args, "replaceMessageBody([sizeLimit,] replacement)")
			if err != nil {
				return nil, err
			}
			return configFunc(func(p *engine.Pipeline, next event.Target) engine.Filter {
				return &replaceMessage{p: p, next: next, v: v, limit: limit, bodyOnly: true}
			}), nil
		},
	})
}

func limitAndValue(args []goja.Value, sig string) (int, engine.Value, error) {
	if err := argCount(args, 1, 2, sig); err != nil {
		return 0, engine.Value{}, err
	}
	limit := -1
	if len(args) == 2 {
		n, err := engine.ParseSize(args[0])
		if err != nil {
			return 0, engine.Value{}, err
		}
		limit = n
		args = args[1:]
	}
	return limit, engine.NewValue(args[0]), nil
}

type replace struct {
	p       *engine.Pipeline
	next    event.Target
	v       engine.Value
	when    replaceWhen
	started bool
	failed  bool
}

func (r *replace) OnEvent(e event.Event) {
	if r.failed {
		return
	}
	match := false
	switch r.when {
	case replStreamStart:
		match = !r.started
	case replStreamEnd:
		match = e.Kind() == event.KindStreamEnd
	case replMessageStart:
		match = e.Kind() == event.KindMessageStart
	case replMessageEnd:
		match = e.Kind() == event.KindMessageEnd
	case replData:
		match = e.Kind() == event.KindData
	}
	r.started = true
	if !match {
		r.next.OnEvent(e)
		return
	}
	w := r.p.W
	out, err := r.v.Eval(r.p, w.EventObject(e))
	if err == nil {
		err = w.Events(out, r.next.OnEvent)
	}
	if err != nil {
		r.failed = true
		r.next.OnEvent(event.NewStreamEnd(event.RuntimeError))
	}
}

func (r *replace) Reset() { r.started, r.failed = false, false }

type replaceMessage struct {
	p        *engine.Pipeline
	next     event.Target
	v        engine.Value
	limit    int
	bodyOnly bool
	in       bool
	head     any
	body     *event.Data
	failed   bool
}

func (r *replaceMessage) OnEvent(e event.Event) {
	if r.failed {
		return
	}
	switch e := e.(type) {
	case *event.MessageStart:
		r.in, r.head, r.body = true, e.Head, &event.Data{}
		if r.bodyOnly {
			r.next.OnEvent(e)
		}
		return
	case *event.Data:
		if !r.in {
			break
		}
		if r.limit < 0 || r.body.Size()+e.Size() <= r.limit {
			r.body.PushData(e)
		} else if room := r.limit - r.body.Size(); room > 0 {
			r.body.PushData(e.Clone().Shift(room))
		}
		return
	case *event.MessageEnd:
		if !r.in {
			break
		}
		r.in = false
		w := r.p.W
		var err error
		if r.bodyOnly {
			var out goja.Value
			out, err = r.v.Eval(r.p, w.DataObject(r.body))
			if err == nil && !engine.IsNullish(out) {
				var d *event.Data
				if dd, ok := engine.AsData(out); ok {
					d = dd
				} else {
					d = event.NewDataString(out.String())
				}
				if d.Size() > 0 {
					r.next.OnEvent(d)
				}
			}
			if err == nil {
				r.next.OnEvent(e)
			}
		} else {
			var out goja.Value
			out, err = r.v.Eval(r.p, w.MessageObject(r.head, r.body))
			if err == nil {
				err = w.Events(out, r.next.OnEvent)
			}
		}
		r.head, r.body = nil, nil
		if err != nil {
			r.failed = true
			r.next.OnEvent(event.NewStreamEnd(event.RuntimeError))
		}
		return
	}
	r.next.OnEvent(e)
}

func (r *replaceMessage) Reset() {
	r.in, r.head, r.body, r.failed = false, nil, nil, false
}
