package engine

import (
	"fmt"

	"github.com/dop251/goja"

	"sluice/backend/logging"
)

// Inbound describes the accepted connection a root pipeline serves. Scripts
// see it as __inbound.
type Inbound struct {
	ID                 uint64
	RemoteAddress      string
	RemotePort         int
	LocalAddress       string
	LocalPort          int
	DestinationAddress string
	DestinationPort    int
	obj                *goja.Object
	objWorker          *Worker
}

func (in *Inbound) object(w *Worker) goja.Value {
	if in.obj == nil || in.objWorker != w {
		o := w.rt.NewObject()
		o.Set("id", in.ID)
		o.Set("remoteAddress", in.RemoteAddress)
		o.Set("remotePort", in.RemotePort)
		o.Set("localAddress", in.LocalAddress)
		o.Set("localPort", in.LocalPort)
		o.Set("destinationAddress", in.DestinationAddress)
		o.Set("destinationPort", in.DestinationPort)
		in.obj, in.objWorker = o, w
	}
	return in.obj
}

// Call runs a script function for ctx: the module variables it reads and
// writes are ctx's. A throw (or an interrupted endless loop) is logged with
// its location and returned; the caller ends its own stream and nothing else.
func (w *Worker) Call(ctx *Context, fn goja.Callable, args ...goja.Value) (goja.Value, error) {
	prev := w.ctx
	w.ctx = ctx
	w.calls++
	outer := w.enterScript()
	v, err := fn(goja.Undefined(), args...)
	if outer {
		w.leaveScript()
	}
	w.ctx = prev
	if err != nil {
		se := w.scriptError(err)
		if e, ok := se.(*ScriptError); ok {
			logging.Errorf("[pjs] %s", e.Detail())
		} else {
			logging.Errorf("[pjs] %v", se)
		}
		return nil, se
	}
	return v, nil
}

// Call1 is Call with one argument, without allocating the argument list:
// goja copies arguments onto its own stack before the function runs, and
// a nested call gets the buffer of its own depth.
func (w *Worker) Call1(ctx *Context, fn goja.Callable, arg goja.Value) (goja.Value, error) {
	d := w.callDepth
	if d >= len(w.argBufs) {
		return w.Call(ctx, fn, arg)
	}
	w.callDepth++
	buf := w.argBufs[d][:]
	buf[0] = arg
	v, err := w.Call(ctx, fn, buf...)
	buf[0] = nil
	w.callDepth--
	return v, err
}

// Value is a filter argument that is either a constant or a function
// evaluated per stream ("value or function" in Pipy's signatures).
type Value struct {
	Const goja.Value
	Fn    goja.Callable
}

// NewValue wraps a script argument.
func NewValue(v goja.Value) Value {
	if fn, ok := goja.AssertFunction(v); ok {
		return Value{Fn: fn}
	}
	if v == nil {
		v = goja.Undefined()
	}
	return Value{Const: v}
}

// IsFunc reports whether the value is computed per call.
func (v Value) IsFunc() bool { return v.Fn != nil }

// Eval returns the constant, or calls the function in p's context.
func (v Value) Eval(p *Pipeline, args ...goja.Value) (goja.Value, error) {
	if v.Fn == nil {
		return v.Const, nil
	}
	return p.W.Call(p.Context, v.Fn, args...)
}

// Func requires a function argument.
func Func(v goja.Value, what string) (goja.Callable, error) {
	fn, ok := goja.AssertFunction(v)
	if !ok {
		return nil, fmt.Errorf("%s must be a function", what)
	}
	return fn, nil
}

// IsNullish reports undefined or null (or a missing argument).
func IsNullish(v goja.Value) bool { return v == nil || goja.IsUndefined(v) || goja.IsNull(v) }
