package engine

import (
	"errors"
	"fmt"
	"io/fs"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dop251/goja"

	"sluice/backend/graph"
)

// Options configures a program.
type Options struct {
	FS      fs.FS  // the codebase; paths are relative to its root
	Main    string // entry module, e.g. "/proxy.js"
	Threads int    // workers; 0 = number of CPUs
	// CallbackBudget interrupts a script callback that runs longer (0 = 5s,
	// negative = never).
	CallbackBudget time.Duration
}

// Program is one generation of a loaded codebase: the same modules
// evaluated on every worker. A reload builds a new Program; connections
// stay on the program they were accepted by until they end.
type Program struct {
	opts      Options
	Workers   []*Worker
	slotCount int

	mu       sync.Mutex
	compiled map[string]*compiled
	globals  map[string]bool

	Listens []*ListenSpec // from worker 0; every worker has the same
	Tasks   []*TaskSpec
	Reads   []*ReadSpec

	Inflight Requests // requests being served (graceful shutdown) and started (the console's rate)
	shared   sync.Map // Shared: cross-worker state of filters, by key
	stop     chan struct{}
	stopOnce sync.Once
}

// Requests counts a program's requests: the HTTP server filters Add(1) when
// one starts and Add(-1) when its response is done. Load is the number being
// served; Started counts every one begun, for a rate.
//
// Threading: safe for concurrent use.
type Requests struct {
	inflight, started atomic.Int64
}

// Add adds n to the requests being served (a positive n also to those
// started) and returns the new number being served.
func (r *Requests) Add(n int64) int64 {
	if n > 0 {
		r.started.Add(n)
	}
	return r.inflight.Add(n)
}

// Load returns the number of requests being served.
func (r *Requests) Load() int64 { return r.inflight.Load() }

// Started returns the number of requests ever started.
func (r *Requests) Started() int64 { return r.started.Load() }

// Load compiles the codebase and evaluates it on every worker. Errors are
// *ScriptError when they have a location in the user's scripts.
func Load(opts Options) (*Program, error) {
	if opts.Threads <= 0 {
		opts.Threads = runtime.NumCPU()
	}
	if opts.CallbackBudget == 0 {
		opts.CallbackBudget = 5 * time.Second
	}
	main, err := normalizePath(opts.Main)
	if err != nil {
		return nil, err
	}
	opts.Main = main
	p := &Program{opts: opts, compiled: map[string]*compiled{}, stop: make(chan struct{})}
	for i := range opts.Threads {
		w := newWorker(i, p)
		p.Workers = append(p.Workers, w)
		var err error
		done := w.guardLoad(opts.CallbackBudget)
		w.Do(func() {
			defer func() {
				if r := recover(); r != nil {
					err = fmt.Errorf("internal error while loading %s: %v", opts.Main, r)
				}
			}()
			err = w.load()
		})
		done()
		if err != nil {
			return nil, err
		}
	}
	w0 := p.Workers[0]
	for _, m := range w0.modules {
		p.Listens = append(p.Listens, m.Listens...)
		p.Tasks = append(p.Tasks, m.Tasks...)
		p.Reads = append(p.Reads, m.Reads...)
	}
	if p.opts.CallbackBudget > 0 {
		go p.watchdog()
	}
	return p, nil
}

// guardLoad interrupts the evaluation of the modules on w (their top-level
// code) once it has run longer than budget, so that a script that loops
// while loading fails with a located error instead of hanging the caller.
// The returned function ends the guard; it must be called once the load
// has returned.
func (w *Worker) guardLoad(budget time.Duration) (done func()) {
	if budget <= 0 {
		return func() {}
	}
	var mu sync.Mutex
	finished, fired := false, false
	t := time.AfterFunc(budget, func() {
		mu.Lock()
		defer mu.Unlock()
		if !finished {
			fired = true
			w.rt.Interrupt(fmt.Sprintf("script ran longer than %v while loading and was interrupted", budget))
		}
	})
	return func() {
		t.Stop()
		mu.Lock()
		defer mu.Unlock()
		finished = true
		if fired {
			// The load may have finished before the interrupt reached it.
			w.rt.ClearInterrupt()
		}
	}
}

// Main is the entry module's path.
func (p *Program) Main() string { return p.opts.Main }

// Modules are worker 0's modules, in load order (for diagrams and status).
func (p *Program) Modules() []*Module { return p.Workers[0].modules }

// NextWorker picks a worker for a new connection: the one with the fewest
// open connections, the lowest-numbered on a tie. Under load connections
// spread evenly; one client at a time always meets worker 0, so scripts
// that keep state in module variables (a round-robin balancer, a counter)
// behave for it as they would on a single thread.
func (p *Program) NextWorker() *Worker {
	best := p.Workers[0]
	n := best.Conns.Load()
	for _, w := range p.Workers[1:] {
		if c := w.Conns.Load(); c < n {
			best, n = w, c
		}
	}
	best.Conns.Add(1)
	return best
}

// Stop ends the watchdog. Connections still running keep their workers.
func (p *Program) Stop() { p.stopOnce.Do(func() { close(p.stop) }) }

func (p *Program) watchdog() {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			for _, w := range p.Workers {
				w.watch(p.opts.CallbackBudget)
			}
		}
	}
}

// compile returns the module's program, compiling it on first use.
func (p *Program) compile(path string, rt *goja.Runtime) (*compiled, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c, ok := p.compiled[path]; ok {
		return c, nil
	}
	src, err := p.readFile(path)
	if err != nil {
		return nil, &ScriptError{File: path, Message: err.Error()}
	}
	if p.globals == nil {
		p.globals = map[string]bool{}
		for _, k := range rt.GlobalObject().Keys() {
			p.globals[k] = true
		}
		// Non-enumerable built-ins.
		for _, k := range []string{"Object", "Function", "Array", "String", "Number", "Boolean", "Symbol",
			"Math", "JSON", "Date", "RegExp", "Error", "TypeError", "RangeError", "SyntaxError",
			"ReferenceError", "EvalError", "URIError", "Promise", "Map", "Set", "WeakMap", "WeakSet",
			"Proxy", "Reflect", "ArrayBuffer", "DataView", "Uint8Array", "Int8Array", "Uint16Array",
			"Int16Array", "Uint32Array", "Int32Array", "Float32Array", "Float64Array", "Uint8ClampedArray",
			"BigInt", "BigInt64Array", "BigUint64Array", "AggregateError", "WeakRef", "FinalizationRegistry",
			"globalThis", "undefined", "NaN", "Infinity", "eval", "isNaN", "isFinite", "parseInt",
			"parseFloat", "encodeURI", "encodeURIComponent", "decodeURI", "decodeURIComponent",
			"escape", "unescape"} {
			p.globals[k] = true
		}
	}
	c, err := compile(path, string(src), func(name string) bool { return p.globals[name] })
	if err != nil {
		return nil, err
	}
	p.compiled[path] = c
	return c, nil
}

func (p *Program) readFile(path string) ([]byte, error) {
	b, err := fs.ReadFile(p.opts.FS, strings.TrimPrefix(path, "/"))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("file not found: %s", path)
		}
		return nil, err
	}
	return b, nil
}

// ReadFile reads a codebase file (pipy.load).
func (p *Program) ReadFile(path string) ([]byte, error) {
	np, err := normalizePath(path)
	if err != nil {
		return nil, err
	}
	return p.readFile(np)
}

// load evaluates the codebase on w. Runs on w.
func (w *Worker) load() error {
	w.api = newJSAPI(w)
	w.byPath = map[string]*Module{}
	if _, err := w.loadModule(w.Program.opts.Main); err != nil {
		return err
	}
	exports := map[string]map[string]slotRef{}
	for _, m := range w.modules {
		for _, e := range m.exportList {
			if exports[e.ns] == nil {
				exports[e.ns] = map[string]slotRef{}
			}
			if _, dup := exports[e.ns][e.name]; dup {
				return &ScriptError{File: m.Path, Message: fmt.Sprintf("variable %s exported twice in namespace %q", e.name, e.ns)}
			}
			exports[e.ns][e.name] = slotRef{m, m.varIndex[e.name]}
		}
	}
	if err := w.link(exports); err != nil {
		return err
	}
	for _, m := range w.modules {
		if _, err := m.Graph().Text(); err != nil {
			return &ScriptError{File: m.Path, Message: err.Error()}
		}
	}
	return nil
}

// loadModule evaluates a module once per worker; later calls return it.
func (w *Worker) loadModule(path string) (*Module, error) {
	path, err := normalizePath(path)
	if err != nil {
		return nil, err
	}
	if m, ok := w.byPath[path]; ok {
		if !m.created {
			return nil, &ScriptError{File: path, Message: "module is used while it is still loading (circular use)"}
		}
		return m, nil
	}
	c, err := w.Program.compile(path, w.rt)
	if err != nil {
		return nil, err
	}
	m := &Module{Index: len(w.modules), Path: path, w: w, code: c,
		varIndex: map[string]int{}, imports: map[string]string{}, named: map[string]*Layout{}}
	w.byPath[path] = m
	m.scope = w.rt.NewDynamicObject(&moduleScope{m})
	m.exports = w.rt.NewObject()
	modObj := w.rt.NewObject()
	modObj.Set("exports", m.exports)

	fnVal, err := w.rt.RunProgram(c.program)
	if err != nil {
		return nil, w.scriptError(err)
	}
	fn, _ := goja.AssertFunction(fnVal)
	w.loading = append(w.loading, m)
	ret, err := fn(goja.Undefined(), m.scope, modObj, m.exports, w.api.require)
	w.loading = w.loading[:len(w.loading)-1]
	if err != nil {
		return nil, w.scriptError(err)
	}
	if ret == nil || goja.IsUndefined(ret) {
		// An ES module or CommonJS script exports its Configuration.
		exp := modObj.Get("exports")
		if o, ok := exp.(*goja.Object); ok {
			if d := o.Get("default"); d != nil && !goja.IsUndefined(d) {
				ret = d
			} else {
				ret = o
			}
		}
	}
	if o, ok := ret.(*goja.Object); !ok || m.config == nil || o != m.config {
		return nil, &ScriptError{File: path, Message: "script was not evaluated to a Configuration: it must end with an expression starting with pipy()"}
	}
	m.created = true
	w.modules = append(w.modules, m)
	m.Index = len(w.modules) - 1
	return m, nil
}

// Graph is the module's pipelines in the diagram's terms.
func (m *Module) Graph() *graph.Graph {
	g := &graph.Graph{}
	for _, l := range m.Layouts {
		gp := graph.Pipeline{Name: l.Name, Root: l.Kind != LayoutNamed}
		for i, c := range l.configs {
			f := graph.Filter{Name: l.kinds[i].Name, Fork: l.kinds[i].Fork}
			if d, ok := c.(Describer); ok {
				f.Name = d.Describe()
			}
			if lk, ok := c.(Linker); ok {
				f.Links = lk.Links()
			}
			gp.Filters = append(gp.Filters, f)
		}
		g.Pipelines = append(g.Pipelines, gp)
	}
	return g
}

// Diagram is the [config] text Pipy prints for a module.
func (m *Module) Diagram() []string {
	title := "Module " + m.Path
	lines := []string{"", title, strings.Repeat("=", len(title)), ""}
	text, _ := m.Graph().Text()
	for _, t := range text {
		lines = append(lines, " "+t)
	}
	return lines
}

// scriptError turns an error from goja into a located ScriptError.
func (w *Worker) scriptError(err error) error {
	var se *ScriptError
	if errors.As(err, &se) {
		return se
	}
	var ie *goja.InterruptedError
	if errors.As(err, &ie) {
		w.rt.ClearInterrupt()
		w.interrupt.Store(false)
		msg := fmt.Sprint(ie.Value())
		return w.locate(ie.Stack(), msg)
	}
	var ex *goja.Exception
	if errors.As(err, &ex) {
		msg := ""
		if v := ex.Value(); v != nil {
			if o, ok := v.(*goja.Object); ok {
				if exp, ok := o.Export().(error); ok {
					if errors.As(exp, &se) {
						return se
					}
				}
			}
			msg = v.String()
		}
		return w.locate(ex.Stack(), msg)
	}
	return err
}

func (w *Worker) locate(stack []goja.StackFrame, msg string) *ScriptError {
	msg = strings.TrimPrefix(msg, "GoError: ")
	for _, f := range stack {
		c := w.compiledFor(f.SrcName())
		if c == nil {
			continue
		}
		pos := f.Position()
		line, col := c.position(pos.Line, pos.Column)
		return c.located(msg, line, col)
	}
	return &ScriptError{File: w.Program.opts.Main, Message: msg}
}

func (w *Worker) compiledFor(name string) *compiled {
	w.Program.mu.Lock()
	defer w.Program.mu.Unlock()
	return w.Program.compiled[name]
}
