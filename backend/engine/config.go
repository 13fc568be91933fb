package engine

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/dop251/goja"
)

type exportDecl struct{ ns, name string }

// ListenOptions are listen()'s options.
type ListenOptions struct {
	MaxConnections int
	ReadTimeout    time.Duration
	WriteTimeout   time.Duration
	IdleTimeout    time.Duration
}

// Builder is what a filter's parser sees of the module being configured.
type Builder struct {
	W      *Worker
	Module *Module
	Kind   *FilterKind
}

// Runtime is the worker's goja runtime.
func (b *Builder) Runtime() *goja.Runtime { return b.W.rt }

// Ref names a sub-pipeline of the current module; it is resolved when the
// module has loaded ("" means pass-through and resolves to nil).
func (b *Builder) Ref(name string) *LayoutRef {
	r := &LayoutRef{Name: name, site: b.W.rt.CaptureCallStack(0, nil)}
	b.Module.refs = append(b.Module.refs, r)
	return r
}

// LoadModule loads (once) another module of the codebase, for use().
func (b *Builder) LoadModule(path string) (*Module, error) { return b.W.loadModule(path) }

// Named returns a named pipeline of the module.
func (m *Module) Named(name string) *Layout { return m.named[name] }

// newConfiguration builds the object pipy() returns for module m.
func (w *Worker) newConfiguration(m *Module) *goja.Object {
	rt := w.rt
	cfg := rt.NewObject()
	throw := func(format string, a ...any) {
		panic(rt.NewTypeError(fmt.Sprintf(format, a...)))
	}
	method := func(name string, fn func(call goja.FunctionCall)) {
		cfg.Set(name, func(call goja.FunctionCall) goja.Value {
			fn(call)
			return cfg
		})
	}
	addLayout := func(l *Layout) {
		l.Module = m
		m.Layouts = append(m.Layouts, l)
		m.current = l
	}

	method("export", func(call goja.FunctionCall) {
		ns := call.Argument(0).String()
		vars, ok := call.Argument(1).(*goja.Object)
		if ns == "" || !ok {
			throw("export(namespace, variables): expects a namespace name and an object of variables")
		}
		for _, k := range vars.Keys() {
			if err := m.addVar(k, vars.Get(k)); err != nil {
				throw("%v", err)
			}
			m.exportList = append(m.exportList, exportDecl{ns, k})
		}
	})
	method("import", func(call goja.FunctionCall) {
		vars, ok := call.Argument(0).(*goja.Object)
		if !ok {
			throw("import(variables): expects an object mapping variable names to namespaces")
		}
		for _, k := range vars.Keys() {
			ns := vars.Get(k).String()
			m.imports[k] = ns
		}
	})
	method("listen", func(call goja.FunctionCall) {
		spec, err := parseListen(call.Argument(0), call.Argument(1))
		if err != nil {
			throw("listen: %v", err)
		}
		l := &Layout{Name: spec.Title(), Kind: LayoutListen}
		spec.Layout = l
		if spec.Port != 0 {
			m.Listens = append(m.Listens, spec)
		}
		addLayout(l)
	})
	method("task", func(call goja.FunctionCall) {
		when := ""
		if a := call.Argument(0); !goja.IsUndefined(a) && !goja.IsNull(a) {
			when = a.String()
			if !strings.HasPrefix(when, "SIG") {
				d, err := ParseDuration(a)
				if err != nil {
					throw("task: %v", err)
				}
				if d < 10*time.Millisecond || d > 24*time.Hour {
					throw("task: interval %s out of range (10ms to 24h)", when)
				}
			}
		}
		n := 0
		for _, mm := range w.modules {
			n += len(mm.Tasks)
		}
		n += len(m.Tasks) + 1
		title := fmt.Sprintf("Task #%d", n)
		if when != "" {
			title += " (" + when + ")"
		}
		l := &Layout{Name: title, Kind: LayoutTask}
		m.Tasks = append(m.Tasks, &TaskSpec{When: when, Layout: l})
		addLayout(l)
	})
	method("read", func(call goja.FunctionCall) {
		path, ok := call.Argument(0).Export().(string)
		if !ok || path == "" {
			throw("read(pathname): expects the pathname of a file to read ('-' for standard input)")
		}
		r := &ReadSpec{Path: path}
		l := &Layout{Name: r.Title(), Kind: LayoutRead}
		r.Layout = l
		m.Reads = append(m.Reads, r)
		addLayout(l)
	})
	method("pipeline", func(call goja.FunctionCall) {
		name := call.Argument(0)
		if goja.IsUndefined(name) || name.String() == "" {
			throw("pipeline(name): expects a name")
		}
		if _, dup := m.named[name.String()]; dup {
			throw("pipeline %q declared twice in %s", name.String(), m.Path)
		}
		l := &Layout{Name: name.String(), Kind: LayoutNamed}
		m.named[l.Name] = l
		addLayout(l)
	})
	for _, k := range Filters() {
		method(k.Name, func(call goja.FunctionCall) {
			l := m.current
			if l == nil {
				throw("%s(): no pipeline to add it to; start one with listen(), task() or pipeline() first", k.Name)
			}
			b := &Builder{W: w, Module: m, Kind: k}
			c, err := k.Parse(b, call.Arguments)
			if err != nil {
				if _, ok := err.(*ScriptError); ok {
					panic(rt.NewGoError(err))
				}
				throw("%s: %v", k.Name, err)
			}
			l.configs = append(l.configs, c)
			l.kinds = append(l.kinds, k)
		})
	}
	return cfg
}

func parseListen(addr, opts goja.Value) (*ListenSpec, error) {
	spec := &ListenSpec{IP: "0.0.0.0"}
	switch v := addr.Export().(type) {
	case int64:
		spec.Port = int(v)
	case float64:
		spec.Port = int(v)
	case string:
		if p, err := strconv.Atoi(v); err == nil {
			spec.Port = p
			break
		}
		host, port, err := net.SplitHostPort(v)
		if err != nil {
			return nil, fmt.Errorf("invalid address %q (want a port or 'ip:port')", v)
		}
		if ip := net.ParseIP(host); ip == nil {
			return nil, fmt.Errorf("invalid IP address %q", host)
		}
		spec.IP = host
		p, err := strconv.Atoi(port)
		if err != nil {
			return nil, fmt.Errorf("invalid port %q", port)
		}
		spec.Port = p
	default:
		return nil, fmt.Errorf("expects a port number or 'ip:port', got %s", addr.String())
	}
	if spec.Port < 0 || spec.Port > 65535 {
		return nil, fmt.Errorf("port %d out of range", spec.Port)
	}
	if o, ok := opts.(*goja.Object); ok {
		var err error
		get := func(name string) goja.Value { return o.Get(name) }
		if v := get("maxConnections"); v != nil && !goja.IsUndefined(v) {
			spec.Options.MaxConnections = int(v.ToInteger())
		}
		for _, t := range []struct {
			name string
			dst  *time.Duration
		}{{"readTimeout", &spec.Options.ReadTimeout}, {"writeTimeout", &spec.Options.WriteTimeout}, {"idleTimeout", &spec.Options.IdleTimeout}} {
			if v := get(t.name); v != nil && !goja.IsUndefined(v) {
				if *t.dst, err = ParseDuration(v); err != nil {
					return nil, fmt.Errorf("option %s: %v", t.name, err)
				}
			}
		}
	}
	return spec, nil
}

// ParseDuration reads Pipy's durations: a number of seconds, or a string
// with a unit ("10ms", "5s", "2m", "1h", "1d"); a bare string number is seconds.
func ParseDuration(v goja.Value) (time.Duration, error) {
	switch x := v.Export().(type) {
	case int64:
		return time.Duration(x) * time.Second, nil
	case float64:
		return time.Duration(x * float64(time.Second)), nil
	case string:
		s := strings.TrimSpace(x)
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return time.Duration(f * float64(time.Second)), nil
		}
		if strings.HasSuffix(s, "d") {
			if f, err := strconv.ParseFloat(strings.TrimSuffix(s, "d"), 64); err == nil {
				return time.Duration(f * 24 * float64(time.Hour)), nil
			}
		}
		d, err := time.ParseDuration(s)
		if err != nil {
			return 0, fmt.Errorf("invalid duration %q (want seconds, or a number with ms, s, m, h or d)", x)
		}
		return d, nil
	}
	return 0, fmt.Errorf("invalid duration %s", v.String())
}

// ParseSize reads sizes like 1024, "256k", "1m", "2g".
func ParseSize(v goja.Value) (int, error) {
	switch x := v.Export().(type) {
	case int64:
		return int(x), nil
	case float64:
		return int(x), nil
	case string:
		s := strings.ToLower(strings.TrimSpace(x))
		mult := 1
		switch {
		case strings.HasSuffix(s, "k"):
			mult, s = 1<<10, strings.TrimSuffix(s, "k")
		case strings.HasSuffix(s, "m"):
			mult, s = 1<<20, strings.TrimSuffix(s, "m")
		case strings.HasSuffix(s, "g"):
			mult, s = 1<<30, strings.TrimSuffix(s, "g")
		}
		n, err := strconv.ParseFloat(s, 64)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("invalid size %q (want a number of bytes, or with k, m or g)", x)
		}
		return int(n * float64(mult)), nil
	}
	return 0, fmt.Errorf("invalid size %s", v.String())
}
