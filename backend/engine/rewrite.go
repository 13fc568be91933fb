package engine

import (
	"sort"
	"strings"

	"github.com/dop251/goja/ast"
	"github.com/dop251/goja/parser"
)

// The rewrite makes a module's context variables work as free identifiers.
// A Pipy script refers to its context variables (_target, an imported
// __turnDown) by bare name inside callbacks, and each callback must see the
// values of the context it runs for. At compile time every identifier that
// is free in the module (bound by no enclosing function, parameter or
// declaration) and is not a global is rewritten into a property access on
// the module's scope object: `_target = x` becomes `__sx._target = x`. The
// scope object resolves the name to a slot in the current context.
//
// The module is also wrapped in a function so that its declarations stay
// private to it, and its last expression statement becomes the function's
// return value (the Configuration the script evaluates to). All insertions
// are recorded, so positions in the rewritten text map back exactly.

const scopeParam = "__sx"

type edit struct {
	off  int // byte offset in the original source
	text string
}

// rewritten is a module source after the rewrite, with what is needed to map
// positions back to the original.
type rewritten struct {
	code string
	// per original line (0-based): insertions on that line, by original column
	ins   map[int][]insertion
	first int // length of the prefix inserted on line 1
}

type insertion struct {
	col int // original column (0-based, bytes) where text was inserted
	n   int // inserted length
}

// rewriteModule parses src and returns the rewritten code. globals reports
// whether a free name is a global (left alone).
func rewriteModule(filename, src string, globals func(string) bool) (*rewritten, error) {
	prog, err := parser.ParseFile(nil, filename, src, 0)
	if err != nil {
		return nil, err
	}
	r := &resolver{globals: globals}
	r.push(true)
	r.declareStatements(prog.Body, true)
	for _, s := range prog.Body {
		r.stmt(s)
	}
	edits := r.edits
	// The last expression statement becomes the module's return value.
	if n := len(prog.Body); n > 0 {
		if es, ok := prog.Body[n-1].(*ast.ExpressionStatement); ok {
			// First, so it sorts before a rewrite at the same offset.
			edits = append([]edit{{off: statementStart(src, int(es.Idx0())-1), text: "return "}}, edits...)
		}
	}
	sort.SliceStable(edits, func(i, j int) bool { return edits[i].off < edits[j].off })

	prefix := "(function(" + scopeParam + ", module, exports, require){"
	var sb strings.Builder
	sb.Grow(len(src) + len(prefix) + 8*len(edits) + 8)
	sb.WriteString(prefix)
	rw := &rewritten{ins: map[int][]insertion{}, first: len(prefix)}
	last := 0
	line, lineStart := 0, 0
	advance := func(to int) {
		for i := last; i < to; i++ {
			if src[i] == '\n' {
				line++
				lineStart = i + 1
			}
		}
	}
	for _, e := range edits {
		advance(e.off)
		sb.WriteString(src[last:e.off])
		sb.WriteString(e.text)
		rw.ins[line] = append(rw.ins[line], insertion{col: e.off - lineStart, n: len(e.text)})
		last = e.off
	}
	sb.WriteString(src[last:])
	sb.WriteString("\n})")
	rw.code = sb.String()
	return rw, nil
}

// original maps a 1-based line and column in the rewritten code back to the
// original source.
func (rw *rewritten) original(line, col int) (int, int) {
	c := col - 1
	if line == 1 {
		c -= rw.first
		if c < 0 {
			c = 0
		}
	}
	shift := 0
	for _, in := range rw.ins[line-1] {
		if in.col+shift+in.n <= c {
			shift += in.n
		} else if in.col+shift <= c {
			// inside inserted text: point at the original token
			return line, in.col + 1
		}
	}
	return line, c - shift + 1
}

type scope struct {
	names    map[string]bool
	function bool
}

type resolver struct {
	scopes  []*scope
	globals func(string) bool
	edits   []edit
}

func (r *resolver) push(function bool) {
	r.scopes = append(r.scopes, &scope{names: map[string]bool{}, function: function})
}
func (r *resolver) pop() { r.scopes = r.scopes[:len(r.scopes)-1] }

func (r *resolver) declare(name string) { r.scopes[len(r.scopes)-1].names[name] = true }

func (r *resolver) declareVar(name string) {
	for i := len(r.scopes) - 1; i >= 0; i-- {
		if r.scopes[i].function {
			r.scopes[i].names[name] = true
			return
		}
	}
}

func (r *resolver) bound(name string) bool {
	for i := len(r.scopes) - 1; i >= 0; i-- {
		if r.scopes[i].names[name] {
			return true
		}
	}
	return false
}

// ref records a reference to an identifier in expression position.
func (r *resolver) ref(id *ast.Identifier) {
	name := id.Name.String()
	if r.bound(name) || r.globals(name) {
		return
	}
	r.edits = append(r.edits, edit{off: int(id.Idx) - 1, text: scopeParam + "."})
}

// shortRef records a shorthand property {x} whose x is a context variable.
func (r *resolver) shortRef(id *ast.Identifier) {
	name := id.Name.String()
	if r.bound(name) || r.globals(name) {
		return
	}
	r.edits = append(r.edits, edit{off: int(id.Idx) - 1, text: name + ": " + scopeParam + "."})
}

// declareBinding declares every name a binding target introduces.
func (r *resolver) declareBinding(t ast.Expression, declare func(string)) {
	switch t := t.(type) {
	case *ast.Identifier:
		declare(t.Name.String())
	case *ast.ArrayPattern:
		for _, e := range t.Elements {
			if e != nil {
				r.declareBinding(e, declare)
			}
		}
		if t.Rest != nil {
			r.declareBinding(t.Rest, declare)
		}
	case *ast.ObjectPattern:
		for _, p := range t.Properties {
			switch p := p.(type) {
			case *ast.PropertyShort:
				declare(p.Name.Name.String())
			case *ast.PropertyKeyed:
				r.declareBinding(p.Value, declare)
			}
		}
		if t.Rest != nil {
			r.declareBinding(t.Rest, declare)
		}
	case *ast.AssignExpression:
		r.declareBinding(t.Left, declare)
	case *ast.Binding:
		r.declareBinding(t.Target, declare)
	}
}

// bindingDefaults walks the expressions inside a binding pattern (defaults
// and computed keys), which are references.
func (r *resolver) bindingDefaults(t ast.Expression) {
	switch t := t.(type) {
	case *ast.ArrayPattern:
		for _, e := range t.Elements {
			if e != nil {
				r.bindingDefaults(e)
			}
		}
		if t.Rest != nil {
			r.bindingDefaults(t.Rest)
		}
	case *ast.ObjectPattern:
		for _, p := range t.Properties {
			switch p := p.(type) {
			case *ast.PropertyShort:
				if p.Initializer != nil {
					r.expr(p.Initializer)
				}
			case *ast.PropertyKeyed:
				if p.Computed {
					r.expr(p.Key)
				}
				r.bindingDefaults(p.Value)
			}
		}
		if t.Rest != nil {
			r.bindingDefaults(t.Rest)
		}
	case *ast.AssignExpression:
		r.bindingDefaults(t.Left)
		r.expr(t.Right)
	}
}

// declareStatements hoists the declarations of a statement list: function
// declarations and let/const/class into the current scope, and (when the
// list is a function body) var declarations found anywhere inside it except
// nested functions.
func (r *resolver) declareStatements(list []ast.Statement, functionBody bool) {
	for _, s := range list {
		switch s := s.(type) {
		case *ast.FunctionDeclaration:
			if s.Function.Name != nil {
				r.declare(s.Function.Name.Name.String())
			}
		case *ast.ClassDeclaration:
			if s.Class.Name != nil {
				r.declare(s.Class.Name.Name.String())
			}
		case *ast.LexicalDeclaration:
			for _, b := range s.List {
				r.declareBinding(b.Target, r.declare)
			}
		}
		if functionBody {
			r.hoistVars(s)
		}
	}
}

func (r *resolver) hoistVars(s ast.Statement) {
	switch s := s.(type) {
	case *ast.VariableStatement:
		for _, b := range s.List {
			r.declareBinding(b.Target, r.declareVar)
		}
	case *ast.BlockStatement:
		for _, x := range s.List {
			r.hoistVars(x)
		}
	case *ast.IfStatement:
		r.hoistVars(s.Consequent)
		if s.Alternate != nil {
			r.hoistVars(s.Alternate)
		}
	case *ast.ForStatement:
		if v, ok := s.Initializer.(*ast.ForLoopInitializerVarDeclList); ok {
			for _, b := range v.List {
				r.declareBinding(b.Target, r.declareVar)
			}
		}
		r.hoistVars(s.Body)
	case *ast.ForInStatement:
		if v, ok := s.Into.(*ast.ForIntoVar); ok {
			r.declareBinding(v.Binding.Target, r.declareVar)
		}
		r.hoistVars(s.Body)
	case *ast.ForOfStatement:
		if v, ok := s.Into.(*ast.ForIntoVar); ok {
			r.declareBinding(v.Binding.Target, r.declareVar)
		}
		r.hoistVars(s.Body)
	case *ast.WhileStatement:
		r.hoistVars(s.Body)
	case *ast.DoWhileStatement:
		r.hoistVars(s.Body)
	case *ast.LabelledStatement:
		r.hoistVars(s.Statement)
	case *ast.TryStatement:
		r.hoistVars(s.Body)
		if s.Catch != nil {
			r.hoistVars(s.Catch.Body)
		}
		if s.Finally != nil {
			r.hoistVars(s.Finally)
		}
	case *ast.SwitchStatement:
		for _, c := range s.Body {
			for _, x := range c.Consequent {
				r.hoistVars(x)
			}
		}
	case *ast.WithStatement:
		r.hoistVars(s.Body)
	}
}

func (r *resolver) block(list []ast.Statement) {
	r.push(false)
	r.declareStatements(list, false)
	for _, s := range list {
		r.stmt(s)
	}
	r.pop()
}

func (r *resolver) stmt(s ast.Statement) {
	switch s := s.(type) {
	case nil:
	case *ast.BlockStatement:
		r.block(s.List)
	case *ast.ExpressionStatement:
		r.expr(s.Expression)
	case *ast.VariableStatement:
		r.bindings(s.List)
	case *ast.LexicalDeclaration:
		r.bindings(s.List)
	case *ast.FunctionDeclaration:
		r.function(s.Function.ParameterList, s.Function.Body.List, nil, false)
	case *ast.ClassDeclaration:
		r.class(s.Class)
	case *ast.IfStatement:
		r.expr(s.Test)
		r.stmt(s.Consequent)
		r.stmt(s.Alternate)
	case *ast.ForStatement:
		r.push(false)
		switch in := s.Initializer.(type) {
		case *ast.ForLoopInitializerExpression:
			r.expr(in.Expression)
		case *ast.ForLoopInitializerVarDeclList:
			r.bindings(in.List)
		case *ast.ForLoopInitializerLexicalDecl:
			for _, b := range in.LexicalDeclaration.List {
				r.declareBinding(b.Target, r.declare)
			}
			r.bindings(in.LexicalDeclaration.List)
		}
		r.expr(s.Test)
		r.expr(s.Update)
		r.stmt(s.Body)
		r.pop()
	case *ast.ForInStatement:
		r.forInto(s.Into, s.Source, s.Body)
	case *ast.ForOfStatement:
		r.forInto(s.Into, s.Source, s.Body)
	case *ast.WhileStatement:
		r.expr(s.Test)
		r.stmt(s.Body)
	case *ast.DoWhileStatement:
		r.stmt(s.Body)
		r.expr(s.Test)
	case *ast.LabelledStatement:
		r.stmt(s.Statement)
	case *ast.ReturnStatement:
		r.expr(s.Argument)
	case *ast.ThrowStatement:
		r.expr(s.Argument)
	case *ast.TryStatement:
		r.stmt(s.Body)
		if c := s.Catch; c != nil {
			r.push(false)
			if c.Parameter != nil {
				r.declareBinding(c.Parameter, r.declare)
				r.bindingDefaults(c.Parameter)
			}
			r.block(c.Body.List)
			r.pop()
		}
		if s.Finally != nil {
			r.stmt(s.Finally)
		}
	case *ast.SwitchStatement:
		r.expr(s.Discriminant)
		r.push(false)
		var all []ast.Statement
		for _, c := range s.Body {
			all = append(all, c.Consequent...)
		}
		r.declareStatements(all, false)
		for _, c := range s.Body {
			r.expr(c.Test)
			for _, x := range c.Consequent {
				r.stmt(x)
			}
		}
		r.pop()
	case *ast.WithStatement:
		r.expr(s.Object)
		r.stmt(s.Body)
	}
}

func (r *resolver) forInto(into ast.ForInto, source ast.Expression, body ast.Statement) {
	r.push(false)
	switch in := into.(type) {
	case *ast.ForIntoVar:
		r.bindings([]*ast.Binding{in.Binding})
	case *ast.ForDeclaration:
		r.declareBinding(in.Target, r.declare)
		r.bindingDefaults(in.Target)
	case *ast.ForIntoExpression:
		r.expr(in.Expression)
	}
	r.expr(source)
	r.stmt(body)
	r.pop()
}

func (r *resolver) bindings(list []*ast.Binding) {
	for _, b := range list {
		r.bindingDefaults(b.Target)
		if b.Initializer != nil {
			r.expr(b.Initializer)
		}
	}
}

func (r *resolver) function(params *ast.ParameterList, body []ast.Statement, expr ast.Expression, arrow bool) {
	r.push(true)
	if !arrow {
		r.declare("arguments")
	}
	if params != nil {
		for _, b := range params.List {
			r.declareBinding(b.Target, r.declare)
		}
		if params.Rest != nil {
			r.declareBinding(params.Rest, r.declare)
		}
		for _, b := range params.List {
			r.bindingDefaults(b.Target)
			if b.Initializer != nil {
				r.expr(b.Initializer)
			}
		}
	}
	if expr != nil {
		r.expr(expr)
	} else {
		r.declareStatements(body, true)
		for _, s := range body {
			r.stmt(s)
		}
	}
	r.pop()
}

func (r *resolver) class(c *ast.ClassLiteral) {
	r.push(false)
	if c.Name != nil {
		r.declare(c.Name.Name.String())
	}
	r.expr(c.SuperClass)
	for _, el := range c.Body {
		switch el := el.(type) {
		case *ast.MethodDefinition:
			if el.Computed {
				r.expr(el.Key)
			}
			r.function(el.Body.ParameterList, el.Body.Body.List, nil, false)
		case *ast.FieldDefinition:
			if el.Computed {
				r.expr(el.Key)
			}
			r.expr(el.Initializer)
		case *ast.ClassStaticBlock:
			r.function(nil, el.Block.List, nil, false)
		}
	}
	r.pop()
}

func (r *resolver) exprs(list []ast.Expression) {
	for _, e := range list {
		r.expr(e)
	}
}

func (r *resolver) expr(e ast.Expression) {
	switch e := e.(type) {
	case nil:
	case *ast.Identifier:
		r.ref(e)
	case *ast.ArrayLiteral:
		r.exprs(e.Value)
	case *ast.ArrayPattern:
		r.exprs(e.Elements)
		r.expr(e.Rest)
	case *ast.ObjectPattern:
		for _, p := range e.Properties {
			r.expr(p)
		}
		r.expr(e.Rest)
	case *ast.AssignExpression:
		r.expr(e.Left)
		r.expr(e.Right)
	case *ast.BinaryExpression:
		r.expr(e.Left)
		r.expr(e.Right)
	case *ast.BracketExpression:
		r.expr(e.Left)
		r.expr(e.Member)
	case *ast.CallExpression:
		r.expr(e.Callee)
		r.exprs(e.ArgumentList)
	case *ast.NewExpression:
		r.expr(e.Callee)
		r.exprs(e.ArgumentList)
	case *ast.ConditionalExpression:
		r.expr(e.Test)
		r.expr(e.Consequent)
		r.expr(e.Alternate)
	case *ast.DotExpression:
		r.expr(e.Left)
	case *ast.PrivateDotExpression:
		r.expr(e.Left)
	case *ast.OptionalChain:
		r.expr(e.Expression)
	case *ast.Optional:
		r.expr(e.Expression)
	case *ast.FunctionLiteral:
		r.push(true)
		if e.Name != nil {
			r.declare(e.Name.Name.String())
		}
		r.function(e.ParameterList, e.Body.List, nil, false)
		r.pop()
	case *ast.ArrowFunctionLiteral:
		switch b := e.Body.(type) {
		case *ast.ExpressionBody:
			r.function(e.ParameterList, nil, b.Expression, true)
		case *ast.BlockStatement:
			r.function(e.ParameterList, b.List, nil, true)
		}
	case *ast.ClassLiteral:
		r.class(e)
	case *ast.ObjectLiteral:
		for _, p := range e.Value {
			r.expr(p)
		}
	case *ast.PropertyShort:
		r.shortRef(&e.Name)
		r.expr(e.Initializer)
	case *ast.PropertyKeyed:
		if e.Computed {
			r.expr(e.Key)
		}
		r.expr(e.Value)
	case *ast.SpreadElement:
		r.expr(e.Expression)
	case *ast.SequenceExpression:
		r.exprs(e.Sequence)
	case *ast.TemplateLiteral:
		r.expr(e.Tag)
		r.exprs(e.Expressions)
	case *ast.UnaryExpression:
		r.expr(e.Operand)
	case *ast.YieldExpression:
		r.expr(e.Argument)
	case *ast.AwaitExpression:
		r.expr(e.Argument)
	case *ast.Binding:
		r.expr(e.Target)
		r.expr(e.Initializer)
	}
}

// statementStart finds where an expression statement really begins: the
// parser reports the start of the expression inside any parentheses, so
// step back over the opening parentheses (and the space between them).
func statementStart(src string, off int) int {
	start := off
	for i := off - 1; i >= 0; i-- {
		switch src[i] {
		case '(':
			start = i
		case ' ', '\t', '\n', '\r':
		default:
			return start
		}
	}
	return start
}
