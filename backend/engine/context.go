package engine

import (
	"sync/atomic"

	"github.com/dop251/goja"
)

// Context holds the values of every module's context variables for one
// pipeline (or a group of pipelines sharing it). Module m's variables are
// values[m.base : m.base+len(m.vars)].
//
// Threading: owned by one worker.
type Context struct {
	w       *Worker
	values  []goja.Value // inline[:n] when the program has few variables
	Inbound *Inbound
	ID      uint64
	inline  [inlineVars]goja.Value
}

// inlineVars is how many context variables a Context holds without a
// second allocation. demuxHTTP makes a context for every request; most
// programs have a handful of variables.
const inlineVars = 6

// setValues gives ctx n values, inline when they fit.
func (ctx *Context) setValues(n int) {
	if n <= inlineVars {
		ctx.values = ctx.inline[:n:n]
	} else {
		ctx.values = make([]goja.Value, n)
	}
}

var contextIDs atomic.Uint64

// NewContext returns a root context with every module's initial values.
func (w *Worker) NewContext(in *Inbound) *Context {
	ctx := &Context{w: w, Inbound: in, ID: contextIDs.Add(1)}
	ctx.setValues(w.Program.slotCount)
	for _, m := range w.modules {
		copy(ctx.values[m.base:], m.initial)
	}
	return ctx
}

// Clone returns a new context whose values are a shallow copy of ctx's:
// primitives are copied, objects are shared.
func (ctx *Context) Clone() *Context {
	c := &Context{w: ctx.w, Inbound: ctx.Inbound, ID: contextIDs.Add(1)}
	c.setValues(len(ctx.values))
	copy(c.values, ctx.values)
	return c
}

// Worker returns the owning worker.
func (ctx *Context) Worker() *Worker { return ctx.w }

// Var returns a variable visible to module m (its own or an import) in
// ctx, or nil when m does not know the name.
func (ctx *Context) Var(m *Module, name string) goja.Value {
	if i, ok := m.names[name]; ok {
		return ctx.values[i]
	}
	return nil
}

// SetVar sets a variable visible to module m (its own or an import) in ctx.
// It reports whether m knows the name.
func (ctx *Context) SetVar(m *Module, name string, v goja.Value) bool {
	i, ok := m.names[name]
	if ok {
		ctx.values[i] = v
	}
	return ok
}
