package engine

import (
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/dop251/goja"
)

// Module is one loaded script file on one worker: its context variables,
// its exports and imports, and the pipeline layouts it declared.
type Module struct {
	Index int
	Path  string // codebase path, always starting with "/"
	w     *Worker
	code  *compiled

	vars       []string
	initial    []goja.Value
	varIndex   map[string]int
	imports    map[string]string // local name → namespace
	exportList []exportDecl
	base       int
	names      map[string]int // name → absolute slot, after link()

	Layouts []*Layout
	named   map[string]*Layout
	refs    []*LayoutRef
	current *Layout
	config  *goja.Object
	scope   *goja.Object
	exports *goja.Object // CommonJS module.exports
	created bool         // pipy() was called
	Listens []*ListenSpec
	Tasks   []*TaskSpec
	Reads   []*ReadSpec
}

// ListenSpec is a listen() call: where, and with which options.
type ListenSpec struct {
	IP      string
	Port    int
	Options ListenOptions
	Layout  *Layout
}

// Addr is the address to bind.
func (l *ListenSpec) Addr() string { return netJoin(l.IP, l.Port) }

// Title is the diagram title Pipy gives a listen pipeline.
func (l *ListenSpec) Title() string { return fmt.Sprintf("Listen on %d at %s", l.Port, l.IP) }

// TaskSpec is a task() call.
type TaskSpec struct {
	When   string // "" = once at start, "5s" = periodic, "SIGINT" = on signal
	Layout *Layout
}

func netJoin(ip string, port int) string {
	if strings.Contains(ip, ":") {
		return "[" + ip + "]:" + strconv.Itoa(port)
	}
	return ip + ":" + strconv.Itoa(port)
}

// normalizePath turns a script's reference to a file into a codebase path.
// Paths are relative to the codebase root, as in Pipy.
func normalizePath(p string) (string, error) {
	if strings.ContainsRune(p, 0) {
		return "", fmt.Errorf("invalid path %q", p)
	}
	clean := path.Clean("/" + strings.TrimPrefix(p, "./"))
	for _, seg := range strings.Split(p, "/") {
		if seg == ".." {
			return "", fmt.Errorf("path %q leaves the codebase", p)
		}
	}
	return clean, nil
}

// addVar declares a context variable of the module.
func (m *Module) addVar(name string, v goja.Value) error {
	if _, dup := m.varIndex[name]; dup {
		return fmt.Errorf("variable %s declared twice in %s", name, m.Path)
	}
	m.varIndex[name] = len(m.vars)
	m.vars = append(m.vars, name)
	m.initial = append(m.initial, v)
	return nil
}

// moduleScope resolves a module's free identifiers against the context the
// current script callback runs for. Its methods run on the worker.
type moduleScope struct{ m *Module }

func (s *moduleScope) slot(key string) (int, bool) {
	if s.m.names == nil {
		// Still loading: no context exists yet, but the name is known.
		if _, ok := s.m.varIndex[key]; ok {
			return -1, true
		}
		if _, ok := s.m.imports[key]; ok {
			return -1, true
		}
		return 0, false
	}
	i, ok := s.m.names[key]
	return i, ok
}

func (s *moduleScope) Get(key string) goja.Value {
	w := s.m.w
	switch key {
	case "__filename":
		return w.rt.ToValue(s.m.Path)
	case "__inbound":
		if w.ctx == nil || w.ctx.Inbound == nil {
			return goja.Null()
		}
		return w.ctx.Inbound.object(w)
	}
	if i, ok := s.slot(key); ok {
		if w.ctx == nil || i < 0 {
			panic(w.unresolved(key))
		}
		return w.ctx.values[i]
	}
	if v := w.rt.GlobalObject().Get(key); v != nil {
		return v
	}
	panic(w.referenceError(key))
}

func (s *moduleScope) Set(key string, val goja.Value) bool {
	w := s.m.w
	if i, ok := s.slot(key); ok {
		if w.ctx == nil || i < 0 {
			panic(w.unresolved(key))
		}
		w.ctx.values[i] = val
		return true
	}
	if key == "__filename" || key == "__inbound" {
		panic(w.rt.NewTypeError("%s is read-only", key))
	}
	if w.rt.GlobalObject().Get(key) != nil {
		w.rt.GlobalObject().Set(key, val)
		return true
	}
	panic(w.referenceError(key))
}

func (s *moduleScope) Has(key string) bool { _, ok := s.slot(key); return ok }
func (s *moduleScope) Delete(string) bool  { return false }
func (s *moduleScope) Keys() []string      { return s.m.vars }

func (w *Worker) unresolved(name string) *goja.Object {
	ctor := w.rt.Get("ReferenceError")
	obj, _ := w.rt.New(ctor, w.rt.ToValue("unresolved identifier "+name+
		": context variables only have values inside callbacks that run in a pipeline (wrap it in a function, e.g. () => "+name+")"))
	return obj
}

func (w *Worker) referenceError(name string) *goja.Object {
	ctor := w.rt.Get("ReferenceError")
	obj, _ := w.rt.New(ctor, w.rt.ToValue(name+" is not defined"))
	return obj
}

// link resolves imports and sub-pipeline names once every module is loaded.
func (w *Worker) link(exports map[string]map[string]slotRef) error {
	base := 0
	for _, m := range w.modules {
		m.base = base
		base += len(m.vars)
	}
	w.Program.slotCount = base
	for _, m := range w.modules {
		m.names = make(map[string]int, len(m.vars)+len(m.imports))
		for i, n := range m.vars {
			m.names[n] = m.base + i
		}
		for name, ns := range m.imports {
			ref, ok := exports[ns][name]
			if !ok {
				return &ScriptError{File: m.Path, Message: fmt.Sprintf("cannot import variable %s from namespace %q in %s: nothing exports it", name, ns, m.Path)}
			}
			if _, clash := m.varIndex[name]; clash {
				return &ScriptError{File: m.Path, Message: fmt.Sprintf("cannot import variable %s in %s: the module declares it too", name, m.Path)}
			}
			m.names[name] = ref.m.base + ref.i
		}
		for _, r := range m.refs {
			if r.Name == "" {
				continue
			}
			l, ok := m.named[r.Name]
			if !ok {
				return w.locate(r.site, "pipeline not found: "+r.Name)
			}
			r.Layout = l
		}
	}
	return nil
}

type slotRef struct {
	m *Module
	i int
}
