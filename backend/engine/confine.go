package engine

import (
	"reflect"

	"github.com/dop251/goja"
	"github.com/dop251/goja/ast"
	"github.com/dop251/goja/parser"
	"github.com/dop251/goja/token"
	"github.com/dop251/goja/unistring"

	"sluice/backend/event"
)

// A handler such as msg => _target = _router.find(msg.head.headers.host,
// msg.head.path) reads a few fields of its argument and lets it go. Its
// event object, the head's view and the headers' view are three script
// objects (six Go allocations) made and dropped on every message, about a
// third of what such a callback costs. ConfinesArg proves from a handler's
// source that it cannot keep any of the three past its return; the worker
// then lends it one set of objects that it rebinds to each event
// (LendEventObject) instead of building new ones.
//
// The proof is syntactic and errs on the side of "may keep". The first
// parameter must be a plain identifier, and every use of it must be one of
//
//	msg.head                 then only .headers, another field, or = on it
//	msg.head.headers         then only a field ( .x or [expr] ), or = on it
//	msg.<other>              any use of the value, which is not one of the three
//	msg.head.<other>         the same
//	msg.head.headers.<x>     the same
//
// where none of the three objects is the receiver of a call (msg.head.f()
// would give f the head as this). Anything else keeps the handler on fresh
// objects: the parameter or one of the three used as a value (returned,
// stored, passed, compared, spread, typeof'd), a computed key on the event
// or head (msg['head']), optional chaining, a use inside a nested function
// (it could run later), a default value or a destructuring pattern,
// async and generator functions (their body runs after the call returns),
// and any function that mentions arguments or eval or contains a with
// statement (they reach the parameter by other names).
//
// A getter installed on Object.prototype that saves its this could still
// see a lent head or headers object while a confined handler reads a field
// the view does not have; after the handler returns it would see the next
// event's fields. No script in Pipy's documentation does this.
func ConfinesArg(fn goja.Value) (ok bool) {
	o, isObj := fn.(*goja.Object)
	if !isObj {
		return false
	}
	if _, isFn := goja.AssertFunction(o); !isFn {
		return false
	}
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	// goja's source text of an arrow function whose body is in parentheses
	// ends where the expression inside them ends: msg => (a, b) reads
	// "msg => (a, b". The text always holds the whole body, so the missing
	// parentheses are put back.
	src := o.String()
	var prog *ast.Program
	var err error
	for closing := ""; len(closing) <= 3; closing += ")" {
		if prog, err = parser.ParseFile(nil, "", "("+src+closing+"\n)", 0); err == nil {
			break
		}
	}
	if err != nil || len(prog.Body) != 1 {
		return false
	}
	st, isExpr := prog.Body[0].(*ast.ExpressionStatement)
	if !isExpr {
		return false
	}
	var params *ast.ParameterList
	var body ast.Node
	switch f := st.Expression.(type) {
	case *ast.ArrowFunctionLiteral:
		if f.Async {
			return false
		}
		params, body = f.ParameterList, f.Body
	case *ast.FunctionLiteral:
		if f.Async || f.Generator {
			return false
		}
		params, body = f.ParameterList, f.Body
	default:
		return false
	}
	if params == nil || len(params.List) == 0 {
		return false
	}
	first := params.List[0]
	id, isID := first.Target.(*ast.Identifier)
	if !isID || first.Initializer != nil {
		return false
	}
	c := &confinement{name: id.Name, ok: true, seen: map[any]bool{}}
	for _, b := range params.List[1:] { // later parameters' defaults run in the call
		c.walk(reflect.ValueOf(b), 0)
	}
	if params.Rest != nil {
		c.walk(reflect.ValueOf(params.Rest), 0)
	}
	c.walk(reflect.ValueOf(body), 0)
	return c.ok
}

// confinement walks a function's syntax tree with the chain of nodes above
// the current one, judging each use of the parameter.
type confinement struct {
	name  unistring.String
	ok    bool
	stack []any        // enclosing nodes, innermost last
	seen  map[any]bool // nodes walked, by typed pointer (a struct and its first field share an address)
}

var astPkg = reflect.TypeFor[ast.Identifier]().PkgPath()

func (c *confinement) walk(v reflect.Value, fnDepth int) {
	if !c.ok {
		return
	}
	switch v.Kind() {
	case reflect.Interface:
		if !v.IsNil() {
			c.walk(v.Elem(), fnDepth)
		}
		return
	case reflect.Slice:
		for i := range v.Len() {
			c.walk(v.Index(i), fnDepth)
		}
		return
	case reflect.Pointer:
		if v.IsNil() || v.Type().Elem().Kind() != reflect.Struct || v.Type().Elem().PkgPath() != astPkg {
			return
		}
		if c.seen[v.Interface()] {
			return
		}
		c.seen[v.Interface()] = true
	case reflect.Struct:
		if v.Type().PkgPath() != astPkg {
			return
		}
		if v.CanAddr() {
			c.walk(v.Addr(), fnDepth)
		} else if id, isID := v.Interface().(ast.Identifier); isID {
			c.identifier(&id, fnDepth) // a copy: it has no parent to judge
		}
		return
	default:
		return
	}
	n := v.Interface()
	switch n := n.(type) {
	case *ast.Identifier:
		c.identifier(n, fnDepth)
		return
	case *ast.WithStatement:
		c.ok = false
		return
	case *ast.FunctionLiteral, *ast.ArrowFunctionLiteral, *ast.ClassLiteral:
		fnDepth++
	}
	c.stack = append(c.stack, n)
	s := v.Elem()
	for i := range s.NumField() {
		if _, isDot := n.(*ast.DotExpression); isDot && s.Type().Field(i).Name == "Identifier" {
			continue // a property name, not a reference
		}
		c.walk(s.Field(i), fnDepth)
	}
	c.stack = c.stack[:len(c.stack)-1]
}

func (c *confinement) identifier(id *ast.Identifier, fnDepth int) {
	switch id.Name {
	case "arguments", "eval":
		c.ok = false
	case c.name:
		c.ok = fnDepth == 0 && c.confined(id)
	}
}

// Depths of the objects a handler may be lent.
const (
	lentEvent = iota
	lentHead
	lentHeaders
)

// confined judges one use of the parameter from the nodes above it.
func (c *confinement) confined(id *ast.Identifier) bool {
	var cur any = id
	level := lentEvent
	for i := len(c.stack) - 1; i >= 0; i-- {
		parent := c.stack[i]
		var grand any
		if i > 0 {
			grand = c.stack[i-1]
		}
		switch p := parent.(type) {
		case *ast.DotExpression:
			if any(p.Left) != cur || isCallee(grand, p) {
				return false
			}
			name := p.Identifier.Name
			switch {
			case level == lentEvent && name == "head":
				level = lentHead
			case level == lentHead && name == "headers":
				level = lentHeaders
			default:
				return true // a field's value: none of the lent objects
			}
			cur = p
		case *ast.BracketExpression:
			return any(p.Left) == cur && level == lentHeaders && !isCallee(grand, p)
		case *ast.AssignExpression:
			// msg.head = ... or msg.head.headers = ...: the object is
			// replaced, not read. The parameter itself may not be.
			return any(p.Left) == cur && cur != any(id) && p.Operator == token.ASSIGN
		default:
			return false
		}
	}
	return false
}

// isCallee reports whether n is called, so that the object it is a member
// of becomes the call's this.
func isCallee(parent any, n any) bool {
	switch p := parent.(type) {
	case *ast.CallExpression:
		return any(p.Callee) == n
	case *ast.NewExpression:
		return any(p.Callee) == n
	case *ast.TemplateLiteral:
		return any(p.Tag) == n
	}
	return false
}

// lentStart is the set of objects a worker lends to confined handlers of
// MessageStart events: the event object, its head view and its headers
// view, each made once and rebound to every event.
type lentStart struct {
	views           startViews
	obj, head, hdrs *goja.Object
	busy            bool
}

// LendEventObject is EventObject for a handler that ConfinesArg has
// cleared. For a MessageStart it returns the worker's lent objects bound to
// e, with lent true; the caller must call ReturnEventObject once the
// handler has returned. While they are out (a handler that makes a nested
// one run), and for other events, it builds new objects as EventObject
// does, with lent false.
func (w *Worker) LendEventObject(e event.Event) (o *goja.Object, lent bool) {
	ms, isStart := e.(*event.MessageStart)
	if !isStart {
		return w.EventObject(e), false
	}
	l := w.lent
	if l == nil {
		l = &lentStart{}
		l.obj = w.rt.NewDynamicObject(&l.views.ev)
		l.obj.SetPrototype(w.api.startPro)
		l.head = w.rt.NewDynamicObject(&l.views.head)
		l.hdrs = w.rt.NewDynamicObject(&l.views.hdrs)
		w.lent = l
	}
	if l.busy {
		return w.EventObject(e), false
	}
	l.busy = true
	l.views.ev = jsEvent{w: w, e: ms, views: &l.views}
	l.views.headObj, l.views.hdrsObj = l.head, l.hdrs
	return l.obj, true
}

// ReturnEventObject takes back what LendEventObject lent, dropping the
// references to the event and its head.
func (w *Worker) ReturnEventObject() {
	l := w.lent
	l.views.ev = jsEvent{}
	l.views.head = headView{}
	l.views.hdrs = headersView{}
	l.views.headObj, l.views.hdrsObj = nil, nil
	l.busy = false
}
