package engine

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/dop251/goja"

	"sluice/backend/event"
	"sluice/backend/logging"
)

// jsAPI holds a worker's script classes. Instances are dynamic objects
// whose Go side is reached with Export(); prototypes carry the methods.
type jsAPI struct {
	w          *Worker
	messagePro *goja.Object
	startPro   *goja.Object
	endPro     *goja.Object
	sePro      *goja.Object
	dataPro    *goja.Object
	require    goja.Value
	Algo       *goja.Object
}

// Extension adds globals to every worker's runtime (the Go extension point
// for classes, as Register is for filters). It runs on the worker.
type Extension func(w *Worker, global *goja.Object)

var extensions []Extension

// RegisterGlobal adds an extension. Call from init functions.
func RegisterGlobal(e Extension) { extensions = append(extensions, e) }

func newJSAPI(w *Worker) *jsAPI {
	rt := w.rt
	a := &jsAPI{w: w}
	w.api = a
	g := rt.GlobalObject()

	a.dataPro = a.class("Data", func(call goja.ConstructorCall) *goja.Object {
		d, err := w.dataFrom(call.Argument(0), call.Argument(1))
		if err != nil {
			panic(rt.NewTypeError("new Data: %v", err))
		}
		return w.DataObject(d)
	})
	a.method(a.dataPro, "push", func(this *goja.Object, call goja.FunctionCall) goja.Value {
		d := w.mustData(this)
		v, err := w.dataFrom(call.Argument(0), goja.Undefined())
		if err != nil {
			panic(rt.NewTypeError("Data.push: %v", err))
		}
		d.PushData(v)
		return this
	})
	a.method(a.dataPro, "shift", func(this *goja.Object, call goja.FunctionCall) goja.Value {
		return w.DataObject(w.mustData(this).Shift(int(call.Argument(0).ToInteger())))
	})
	a.method(a.dataPro, "toString", func(this *goja.Object, call goja.FunctionCall) goja.Value {
		d := w.mustData(this)
		switch enc := call.Argument(0); {
		case goja.IsUndefined(enc):
			return rt.ToValue(d.String())
		case enc.String() == "base64":
			return rt.ToValue(base64.StdEncoding.EncodeToString(d.Bytes()))
		case enc.String() == "base64url":
			return rt.ToValue(base64.RawURLEncoding.EncodeToString(d.Bytes()))
		case enc.String() == "hex":
			return rt.ToValue(hex.EncodeToString(d.Bytes()))
		default:
			return rt.ToValue(d.String())
		}
	})
	a.method(a.dataPro, "toArray", func(this *goja.Object, call goja.FunctionCall) goja.Value {
		b := w.mustData(this).Bytes()
		arr := make([]any, len(b))
		for i, c := range b {
			arr[i] = int64(c)
		}
		return rt.ToValue(arr)
	})

	a.messagePro = a.class("Message", func(call goja.ConstructorCall) *goja.Object {
		m := &jsMessage{w: w, head: goja.Undefined()}
		args := call.Arguments
		switch len(args) {
		case 0:
		case 1:
			if w.isBody(args[0]) {
				m.body = w.mustBody(args[0])
			} else {
				m.head = args[0]
			}
		default:
			m.head = args[0]
			if !goja.IsUndefined(args[1]) && !goja.IsNull(args[1]) {
				m.body = w.mustBody(args[1])
			}
		}
		return w.messageObject(m)
	})
	a.startPro = a.class("MessageStart", func(call goja.ConstructorCall) *goja.Object {
		var head any
		if h := call.Argument(0); !goja.IsUndefined(h) {
			head = h
		}
		return w.EventObject(&event.MessageStart{Head: head})
	})
	a.endPro = a.class("MessageEnd", func(call goja.ConstructorCall) *goja.Object {
		var tail any
		if t := call.Argument(0); !goja.IsUndefined(t) {
			tail = t
		}
		return w.EventObject(&event.MessageEnd{Tail: tail})
	})
	a.sePro = a.class("StreamEnd", func(call goja.ConstructorCall) *goja.Object {
		code := event.NoError
		if e := call.Argument(0); !goja.IsUndefined(e) && !goja.IsNull(e) {
			code = event.ParseErrorCode(e.String())
		}
		return w.EventObject(event.NewStreamEnd(code))
	})

	// JSON.decode / JSON.encode work on Data.
	jsonObj := g.Get("JSON").(*goja.Object)
	parse, _ := goja.AssertFunction(jsonObj.Get("parse"))
	stringify, _ := goja.AssertFunction(jsonObj.Get("stringify"))
	jsonObj.Set("decode", func(call goja.FunctionCall) goja.Value {
		d, err := w.dataFrom(call.Argument(0), goja.Undefined())
		if err != nil {
			panic(rt.NewTypeError("JSON.decode: %v", err))
		}
		v, err := parse(jsonObj, rt.ToValue(d.String()))
		if err != nil {
			panic(err)
		}
		return v
	})
	jsonObj.Set("encode", func(call goja.FunctionCall) goja.Value {
		v, err := stringify(jsonObj, call.Arguments...)
		if err != nil {
			panic(err)
		}
		if goja.IsUndefined(v) {
			return w.DataObject(&event.Data{})
		}
		return w.DataObject(event.NewDataString(v.String()))
	})

	console := rt.NewObject()
	logf := func(level logging.Level) func(goja.FunctionCall) goja.Value {
		return func(call goja.FunctionCall) goja.Value {
			if w.ID > 0 && len(w.loading) > 0 {
				// Every worker evaluates the modules; what their top-level
				// code logs is said once, by worker 0.
				return goja.Undefined()
			}
			parts := make([]string, len(call.Arguments))
			for i, v := range call.Arguments {
				parts[i] = w.display(v)
			}
			logging.Log(level, strings.Join(parts, " "))
			return goja.Undefined()
		}
	}
	console.Set("log", logf(logging.Info))
	console.Set("info", logf(logging.Info))
	console.Set("debug", logf(logging.Debug))
	console.Set("warn", logf(logging.Warn))
	console.Set("error", logf(logging.Error))
	g.Set("console", console)

	pipyFn := rt.ToValue(func(call goja.FunctionCall) goja.Value {
		if len(w.loading) == 0 {
			panic(rt.NewTypeError("pipy() can only be called while a module loads"))
		}
		m := w.loading[len(w.loading)-1]
		if m.config != nil {
			panic(rt.NewTypeError("pipy() called twice in %s", m.Path))
		}
		vars := call.Argument(0)
		if fn, ok := goja.AssertFunction(vars); ok {
			v, err := fn(goja.Undefined())
			if err != nil {
				panic(err)
			}
			vars = v
		}
		if o, ok := vars.(*goja.Object); ok {
			for _, k := range o.Keys() {
				if err := m.addVar(k, o.Get(k)); err != nil {
					panic(rt.NewTypeError("%v", err))
				}
			}
		} else if !goja.IsUndefined(vars) && !goja.IsNull(vars) {
			panic(rt.NewTypeError("pipy(variables): expects an object"))
		}
		m.config = w.newConfiguration(m)
		return m.config
	}).(*goja.Object)
	pipyFn.Set("load", func(call goja.FunctionCall) goja.Value {
		b, err := w.Program.ReadFile(call.Argument(0).String())
		if err != nil {
			panic(rt.NewGoError(fmt.Errorf("pipy.load: %w", err)))
		}
		return w.DataObject(event.NewData(b))
	})
	pipyFn.Set("exit", func(call goja.FunctionCall) goja.Value {
		if exitHook != nil {
			exitHook(int(call.Argument(0).ToInteger()))
		}
		return goja.Undefined()
	})
	pipyFn.Set("restart", func(call goja.FunctionCall) goja.Value {
		if restartHook != nil {
			go restartHook()
		}
		return goja.Undefined()
	})
	g.Set("pipy", pipyFn)

	a.require = rt.ToValue(func(call goja.FunctionCall) goja.Value {
		name := call.Argument(0).String()
		b, err := w.Program.ReadFile(name)
		if err == nil && strings.HasSuffix(name, ".json") {
			v, err := parse(jsonObj, rt.ToValue(string(b)))
			if err != nil {
				panic(err)
			}
			return v
		}
		panic(rt.NewGoError(fmt.Errorf("require(%q): only JSON files of the codebase can be required; use pipy.load or use() for scripts", name)))
	})

	for _, e := range extensions {
		e(w, g)
	}
	return a
}

// Hooks set by the command line for pipy.exit() and pipy.restart().
var (
	exitHook    func(code int)
	restartHook func()
)

// SetProcessHooks installs what pipy.exit() and pipy.restart() do.
func SetProcessHooks(exit func(int), restart func()) { exitHook, restartHook = exit, restart }

// class defines a global constructor and returns its prototype.
func (a *jsAPI) class(name string, ctor func(goja.ConstructorCall) *goja.Object) *goja.Object {
	c := a.w.rt.ToValue(ctor).(*goja.Object)
	a.w.rt.GlobalObject().Set(name, c)
	return c.Get("prototype").(*goja.Object)
}

// Class defines a global constructor for an extension and returns its prototype.
func (w *Worker) Class(parent *goja.Object, name string, ctor func(goja.ConstructorCall) *goja.Object) *goja.Object {
	c := w.rt.ToValue(ctor).(*goja.Object)
	parent.Set(name, c)
	return c.Get("prototype").(*goja.Object)
}

func (a *jsAPI) method(proto *goja.Object, name string, fn func(this *goja.Object, call goja.FunctionCall) goja.Value) {
	rt := a.w.rt
	proto.Set(name, func(call goja.FunctionCall) goja.Value {
		this, ok := call.This.(*goja.Object)
		if !ok {
			panic(rt.NewTypeError("%s called on a wrong object", name))
		}
		return fn(this, call)
	})
}

// Method adds a method to an extension's prototype.
func (w *Worker) Method(proto *goja.Object, name string, fn func(this *goja.Object, call goja.FunctionCall) goja.Value) {
	w.api.method(proto, name, fn)
}

// NewInstance makes an instance of an extension class backed by a Go value.
func (w *Worker) NewInstance(proto *goja.Object, impl goja.DynamicObject) *goja.Object {
	o := w.rt.NewDynamicObject(impl)
	o.SetPrototype(proto)
	return o
}

// Impl returns the Go value behind an instance made by NewInstance (or any
// other object made over a goja.DynamicObject), like o.Export() but
// without its allocation: the last object asked about is remembered, and
// methods are mostly called on the same router, balancer or cache again
// and again. For other objects it is o.Export().
func (w *Worker) Impl(o *goja.Object) any {
	if o == w.implObj {
		return w.implVal
	}
	v := o.Export()
	if _, stable := v.(goja.DynamicObject); stable {
		w.implObj, w.implVal = o, v
	}
	return v
}

// Props is a DynamicObject with no own properties: every member lives on
// the prototype. Embed it in Go types exposed as class instances.
type Props struct{}

func (Props) Get(string) goja.Value       { return nil }
func (Props) Set(string, goja.Value) bool { return false }
func (Props) Has(string) bool             { return false }
func (Props) Delete(string) bool          { return false }
func (Props) Keys() []string              { return nil }

// ---- Data ----

type jsData struct {
	Props
	d *event.Data
}

func (j *jsData) Get(key string) goja.Value {
	if key == "size" {
		return nil // served by the getter below
	}
	return nil
}

// DataObject wraps d for scripts.
func (w *Worker) DataObject(d *event.Data) *goja.Object {
	o := w.rt.NewDynamicObject(&jsDataSized{w: w, d: d})
	o.SetPrototype(w.api.dataPro)
	return o
}

type jsDataSized struct {
	w *Worker
	d *event.Data
}

func (j *jsDataSized) Get(key string) goja.Value {
	if key == "size" {
		return j.w.rt.ToValue(j.d.Size())
	}
	return nil
}
func (j *jsDataSized) Set(string, goja.Value) bool { return false }
func (j *jsDataSized) Has(key string) bool         { return key == "size" }
func (j *jsDataSized) Delete(string) bool          { return false }
func (j *jsDataSized) Keys() []string              { return nil }

// AsData returns the Data behind a script value, if it is one.
func AsData(v goja.Value) (*event.Data, bool) {
	if o, ok := v.(*goja.Object); ok {
		if d, ok := o.Export().(*jsDataSized); ok {
			return d.d, true
		}
	}
	return nil, false
}

func (w *Worker) mustData(o *goja.Object) *event.Data {
	d, ok := AsData(o)
	if !ok {
		panic(w.rt.NewTypeError("not a Data object"))
	}
	return d
}

// dataFrom converts a string, Data, array of bytes, or ArrayBuffer to Data.
func (w *Worker) dataFrom(v, encoding goja.Value) (*event.Data, error) {
	if goja.IsUndefined(v) || goja.IsNull(v) {
		return &event.Data{}, nil
	}
	if d, ok := AsData(v); ok {
		return d.Clone(), nil
	}
	switch x := v.Export().(type) {
	case string:
		enc := ""
		if !goja.IsUndefined(encoding) {
			enc = encoding.String()
		}
		switch enc {
		case "", "utf8", "utf-8":
			return event.NewDataString(x), nil
		case "base64":
			b, err := base64.StdEncoding.DecodeString(x)
			if err != nil {
				return nil, fmt.Errorf("invalid base64: %v", err)
			}
			return event.NewData(b), nil
		case "base64url":
			b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(x, "="))
			if err != nil {
				return nil, fmt.Errorf("invalid base64url: %v", err)
			}
			return event.NewData(b), nil
		case "hex":
			b, err := hex.DecodeString(x)
			if err != nil {
				return nil, fmt.Errorf("invalid hex: %v", err)
			}
			return event.NewData(b), nil
		}
		return nil, fmt.Errorf("unknown encoding %q", enc)
	case []any:
		b := make([]byte, len(x))
		for i, e := range x {
			n, ok := e.(int64)
			if !ok || n < 0 || n > 255 {
				return nil, errors.New("an array for Data must hold byte values 0-255")
			}
			b[i] = byte(n)
		}
		return event.NewData(b), nil
	case goja.ArrayBuffer:
		return event.NewData(append([]byte(nil), x.Bytes()...)), nil
	}
	return event.NewDataString(v.String()), nil
}

func (w *Worker) isBody(v goja.Value) bool {
	if _, ok := AsData(v); ok {
		return true
	}
	if goja.IsUndefined(v) || goja.IsNull(v) {
		return false
	}
	_, isObj := v.(*goja.Object)
	return !isObj
}

func (w *Worker) mustBody(v goja.Value) *event.Data {
	if d, ok := AsData(v); ok {
		return d
	}
	d, err := w.dataFrom(v, goja.Undefined())
	if err != nil {
		panic(w.rt.NewTypeError("message body: %v", err))
	}
	return d
}

// ---- Message ----

// jsMessage is a whole message: head and body.
type jsMessage struct {
	w        *Worker
	head     goja.Value
	body     *event.Data
	bodyObj  *goja.Object
	tail     goja.Value
	headConv any // Go head not yet converted for scripts
}

func (m *jsMessage) Get(key string) goja.Value {
	switch key {
	case "head":
		if m.headConv != nil {
			m.head = m.w.HeadValue(m.headConv)
			m.headConv = nil
		}
		return m.head
	case "body":
		if m.body == nil {
			return goja.Null()
		}
		if m.bodyObj == nil {
			m.bodyObj = m.w.DataObject(m.body)
		}
		return m.bodyObj
	case "tail":
		if m.tail == nil {
			return goja.Undefined()
		}
		return m.tail
	}
	return nil
}

func (m *jsMessage) Set(key string, v goja.Value) bool {
	switch key {
	case "head":
		m.head, m.headConv = v, nil
	case "body":
		if goja.IsNull(v) || goja.IsUndefined(v) {
			m.body, m.bodyObj = nil, nil
		} else {
			m.body, m.bodyObj = m.w.mustBody(v), nil
		}
	case "tail":
		m.tail = v
	default:
		return false
	}
	return true
}
func (m *jsMessage) Has(key string) bool { return key == "head" || key == "body" || key == "tail" }
func (m *jsMessage) Delete(string) bool  { return false }
func (m *jsMessage) Keys() []string      { return []string{"head", "body"} }

func (w *Worker) messageObject(m *jsMessage) *goja.Object {
	o := w.rt.NewDynamicObject(m)
	o.SetPrototype(w.api.messagePro)
	return o
}

// MessageObject builds a script Message from a head (Go or script) and body.
func (w *Worker) MessageObject(head any, body *event.Data) *goja.Object {
	m := &jsMessage{w: w, body: body}
	switch h := head.(type) {
	case nil:
		m.head = goja.Undefined()
	case goja.Value:
		m.head = h
	default:
		m.headConv = h
	}
	return w.messageObject(m)
}

// AsMessage returns the head and body of a script Message.
func AsMessage(v goja.Value) (head any, body *event.Data, ok bool) {
	o, isObj := v.(*goja.Object)
	if !isObj {
		return nil, nil, false
	}
	m, isMsg := o.Export().(*jsMessage)
	if !isMsg {
		return nil, nil, false
	}
	if m.headConv != nil {
		head = m.headConv
	} else if g := goHead(m.head); g != nil {
		head = g
	} else if m.head != nil && !goja.IsUndefined(m.head) && !goja.IsNull(m.head) {
		head = m.head
	}
	return head, m.body, true
}

// ---- events ----

type jsEvent struct {
	w     *Worker
	e     event.Event
	head  goja.Value  // view of a MessageStart's Go head
	views *startViews // storage for the head's views, if preallocated
}

// startViews holds a MessageStart's script object and the views of its
// HTTP head, so that msg.head.headers costs one Go allocation, not three.
type startViews struct {
	ev   jsEvent
	head headView
	hdrs headersView
	// The script objects already made for head and hdrs, when the views
	// are lent (LendEventObject); nil when each event gets its own.
	headObj, hdrsObj *goja.Object
}

func (j *jsEvent) Get(key string) goja.Value {
	switch e := j.e.(type) {
	case *event.MessageStart:
		if key == "head" {
			if e.Head == nil {
				return goja.Undefined()
			}
			if v, ok := e.Head.(goja.Value); ok {
				return v
			}
			if j.head == nil {
				if j.views != nil && isHTTPHead(e.Head) {
					j.head = j.w.headValueIn(e.Head, &j.views.head, &j.views.hdrs, j.views.headObj, j.views.hdrsObj)
				} else {
					j.head = j.w.HeadValue(e.Head)
				}
			}
			return j.head
		}
	case *event.MessageEnd:
		if key == "tail" {
			if v, ok := e.Tail.(goja.Value); ok {
				return v
			}
			return goja.Undefined()
		}
	case *event.StreamEnd:
		if key == "error" {
			if e.Error == event.NoError {
				return goja.Undefined()
			}
			return j.w.rt.ToValue(e.Error.String())
		}
	}
	return nil
}
func (j *jsEvent) Set(key string, v goja.Value) bool {
	if e, ok := j.e.(*event.MessageStart); ok && key == "head" {
		if g := goHead(v); g != nil {
			e.Head = g
		} else {
			e.Head = v
		}
		j.head = nil
		return true
	}
	return false
}
func (j *jsEvent) Has(key string) bool { return j.Get(key) != nil }
func (j *jsEvent) Delete(string) bool  { return false }
func (j *jsEvent) Keys() []string      { return nil }

// EventObject wraps an event for scripts.
func (w *Worker) EventObject(e event.Event) *goja.Object {
	switch e := e.(type) {
	case *event.Data:
		return w.DataObject(e)
	case *event.MessageStart:
		sv := &startViews{}
		sv.ev = jsEvent{w: w, e: e, views: sv}
		o := w.rt.NewDynamicObject(&sv.ev)
		o.SetPrototype(w.api.startPro)
		return o
	case *event.MessageEnd:
		o := w.rt.NewDynamicObject(&jsEvent{w: w, e: e})
		o.SetPrototype(w.api.endPro)
		return o
	case *event.StreamEnd:
		o := w.rt.NewDynamicObject(&jsEvent{w: w, e: e})
		o.SetPrototype(w.api.sePro)
		return o
	}
	return nil
}

// Events turns what a script returned into events: a Message, an event
// object, Data, a string (as Data), or an array of them. null and
// undefined give nothing.
func (w *Worker) Events(v goja.Value, emit func(event.Event)) error {
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		return nil
	}
	if o, ok := v.(*goja.Object); ok {
		switch x := o.Export().(type) {
		case *jsMessage:
			head, body, _ := AsMessage(v)
			emit(&event.MessageStart{Head: head})
			if body != nil && body.Size() > 0 {
				emit(body.Clone())
			}
			if x.tail != nil {
				emit(&event.MessageEnd{Tail: x.tail})
			} else {
				emit(event.End())
			}
			return nil
		case *jsEvent:
			emit(x.e)
			return nil
		case *jsDataSized:
			emit(x.d)
			return nil
		case []any:
			arr := o
			n := int(arr.Get("length").ToInteger())
			for i := range n {
				if err := w.Events(arr.Get(fmt.Sprint(i)), emit); err != nil {
					return err
				}
			}
			return nil
		}
		if o.ClassName() == "Array" {
			n := int(o.Get("length").ToInteger())
			for i := range n {
				if err := w.Events(o.Get(fmt.Sprint(i)), emit); err != nil {
					return err
				}
			}
			return nil
		}
		return fmt.Errorf("expected a Message, an event, Data or a string, got %s", w.display(v))
	}
	emit(event.NewDataString(v.String()))
	return nil
}

// display renders a value for console.log: strings as they are, objects as JSON.
func (w *Worker) display(v goja.Value) string {
	if v == nil || goja.IsUndefined(v) {
		return "undefined"
	}
	if o, ok := v.(*goja.Object); ok {
		switch x := o.Export().(type) {
		case *jsDataSized:
			return x.d.String()
		case *jsMessage:
			return fmt.Sprintf("[Message head=%s body=%d bytes]", w.display(x.Get("head")), func() int {
				if x.body == nil {
					return 0
				}
				return x.body.Size()
			}())
		}
		if _, isFn := goja.AssertFunction(v); isFn {
			return "[Function]"
		}
		if o.ClassName() == "Error" {
			return v.String()
		}
		if b, err := o.MarshalJSON(); err == nil {
			return string(b)
		}
	}
	return v.String()
}
