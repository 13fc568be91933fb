// Package filters holds the built-in filters. Each registers itself with the
// engine's registry in an init function; importing the package (for its
// side effects) makes them available to scripts.
package filters

import (
	"fmt"
	"os"

	"github.com/dop251/goja"

	"sluice/backend/engine"
	"sluice/backend/event"
	"sluice/backend/logging"
)

// configFunc adapts a constructor to engine.Config.
type configFunc func(p *engine.Pipeline, next event.Target) engine.Filter

func (f configFunc) New(p *engine.Pipeline, next event.Target) engine.Filter { return f(p, next) }

// fail ends a stream after a script error: what was in flight is dropped
// and a StreamEnd(RuntimeError) goes down the pipeline.
type failer struct {
	failed bool
}

func argCount(args []goja.Value, min, max int, sig string) error {
	if len(args) < min || (max >= 0 && len(args) > max) {
		return fmt.Errorf("wrong number of arguments; usage: %s", sig)
	}
	return nil
}

func init() {
	engine.Register(&engine.FilterKind{
		Name: "dummy", Signature: "dummy()",
		Help: "Swallows every event; nothing comes out.",
		Parse: func(b *engine.Builder, args []goja.Value) (engine.Config, error) {
			return configFunc(func(*engine.Pipeline, event.Target) engine.Filter { return dummy{} }), nil
		},
	})
	engine.Register(&engine.FilterKind{
		Name: "dump", Signature: "dump(tag?: string)",
		Help: "Logs every event that passes (a debugging aid), then passes it on.",
		Parse: func(b *engine.Builder, args []goja.Value) (engine.Config, error) {
			tag := ""
			if len(args) > 0 && !engine.IsNullish(args[0]) {
				tag = args[0].String()
			}
			return configFunc(func(p *engine.Pipeline, next event.Target) engine.Filter {
				return &dump{p: p, next: next, tag: tag}
			}), nil
		},
	})
	engine.Register(&engine.FilterKind{
		Name: "print", Signature: "print()",
		Help: "Writes the bytes of Data events to standard output and passes every event on.",
		Parse: func(b *engine.Builder, args []goja.Value) (engine.Config, error) {
			return configFunc(func(p *engine.Pipeline, next event.Target) engine.Filter { return &print{next: next} }), nil
		},
	})
}

type dummy struct{}

func (dummy) OnEvent(event.Event) {}
func (dummy) Reset()              {}

type dump struct {
	p    *engine.Pipeline
	next event.Target
	tag  string
}

func (d *dump) OnEvent(e event.Event) {
	prefix := "[dump]"
	if d.tag != "" {
		prefix = "[dump] [" + d.tag + "]"
	}
	switch e := e.(type) {
	case *event.Data:
		logging.Infof("%s Data (%d bytes): %q", prefix, e.Size(), clip(e.String(), 512))
	case *event.MessageStart:
		w := d.p.W
		logging.Infof("%s MessageStart %s", prefix, jsonOf(w, w.HeadValue(e.Head)))
	case *event.MessageEnd:
		logging.Infof("%s MessageEnd", prefix)
	case *event.StreamEnd:
		if e.Error != event.NoError {
			logging.Infof("%s StreamEnd %s", prefix, e.Error)
		} else {
			logging.Infof("%s StreamEnd", prefix)
		}
	}
	d.next.OnEvent(e)
}
func (d *dump) Reset() {}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

func jsonOf(w *engine.Worker, v goja.Value) string {
	if o, ok := v.(*goja.Object); ok {
		if b, err := o.MarshalJSON(); err == nil {
			return string(b)
		}
	}
	if v == nil {
		return "undefined"
	}
	return v.String()
}

type print struct{ next event.Target }

func (p *print) OnEvent(e event.Event) {
	if d, ok := e.(*event.Data); ok {
		for _, c := range d.Chunks() {
			os.Stdout.Write(c)
		}
	}
	p.next.OnEvent(e)
}
func (p *print) Reset() {}
