package engine

import (
	"fmt"
	"sort"

	"github.com/dop251/goja"

	"sluice/backend/event"
	"sluice/backend/metrics"
)

// Filter is one stage of a live pipeline. It receives events through
// OnEvent and passes what it produces to the next target it was given.
type Filter interface {
	event.Target
	// Reset drops per-stream state so the instance can serve another stream.
	Reset()
}

// Config is a filter's parsed, validated configuration: one per filter in a
// layout. It makes a Filter for each pipeline instance.
type Config interface {
	New(p *Pipeline, next event.Target) Filter
}

// Linker is implemented by configs of joint filters: the names of the
// sub-pipelines they use, for the diagram and for load-time checks.
type Linker interface {
	Links() []string
}

// Describer gives the text the diagram shows for a filter when it is not
// just the filter's name.
type Describer interface {
	Describe() string
}

// FilterKind describes a filter for the registry.
type FilterKind struct {
	Name      string
	Signature string // e.g. "serveHTTP(handler: Message | (msg: Message) => Message)"
	Help      string
	Fork      bool // its sub-pipelines' output does not come back (fork, merge)
	Joint     bool // takes sub-pipeline names (for the API description)
	// Parse validates the script's arguments and returns the config.
	Parse func(b *Builder, args []goja.Value) (Config, error)
}

var registry = map[string]*FilterKind{}

// Register adds a filter kind. It panics on a duplicate or incomplete kind:
// registration happens in init functions, so that is a programmer error.
func Register(k *FilterKind) {
	if k.Name == "" || k.Parse == nil {
		panic("engine: filter kind needs a name and a parser")
	}
	if _, dup := registry[k.Name]; dup {
		panic("engine: filter registered twice: " + k.Name)
	}
	registry[k.Name] = k
}

// Filters returns every registered kind, sorted by name.
func Filters() []*FilterKind {
	out := make([]*FilterKind, 0, len(registry))
	for _, k := range registry {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// LayoutKind tells root layouts from named sub-pipelines.
type LayoutKind int

const (
	LayoutNamed LayoutKind = iota
	LayoutListen
	LayoutTask
	LayoutRead
)

// Layout is an immutable list of filter configs; pipelines are its live
// instances, pooled per layout. Layouts belong to one worker.
type Layout struct {
	Name    string // pipeline name, or the root's title
	Kind    LayoutKind
	Module  *Module
	configs []Config
	kinds   []*FilterKind
	pool    []*Pipeline
	gauge   *metrics.PipelineGauge // pipy_pipeline_count for this layout, made on first use
}

// FilterNames returns the kinds of the layout's filters, in order.
func (l *Layout) FilterNames() []string {
	names := make([]string, len(l.kinds))
	for i, k := range l.kinds {
		names[i] = k.Name
	}
	return names
}

// LayoutRef names a sub-pipeline of a module; it is resolved once the module
// has finished loading. A nil Layout with Name "" means pass-through.
type LayoutRef struct {
	Name   string
	Layout *Layout
	site   []goja.StackFrame // where the script named it, for errors
}

// Pipeline is a live instance of a layout.
type Pipeline struct {
	Layout  *Layout
	Context *Context
	W       *Worker
	filters []Filter
	head    event.Target
	out     event.Target
	active  bool
	resetFn func() // p.reset, made once
}

// pipeOut is the pipeline's tail: it forwards to whatever output the
// pipeline has now, so filters can be chained once and pooled.
type pipeOut Pipeline

func (o *pipeOut) OnEvent(e event.Event) { o.out.OnEvent(e) }

// CopiesData passes the question on to the pipeline's output (event.Copier).
func (o *pipeOut) CopiesData() bool { return o.out != nil && event.Copies(o.out) }

// CopiesData reports whether the pipeline's first filter copies the Data it
// is given (event.Copier).
func (p *Pipeline) CopiesData() bool { return p.active && event.Copies(p.head) }

// Instantiate returns a pipeline of l running in ctx and sending its output
// to out. Worker only.
func (l *Layout) Instantiate(ctx *Context, out event.Target) *Pipeline {
	var p *Pipeline
	if n := len(l.pool); n > 0 {
		p = l.pool[n-1]
		l.pool = l.pool[:n-1]
	} else {
		p = &Pipeline{Layout: l, W: ctx.w}
		p.resetFn = p.reset
		p.filters = make([]Filter, len(l.configs))
		var next event.Target = (*pipeOut)(p)
		for i := len(l.configs) - 1; i >= 0; i-- {
			f := l.configs[i].New(p, next)
			p.filters[i] = f
			next = f
		}
		p.head = next
	}
	if out == nil {
		out = event.Discard
	}
	p.Context = ctx
	p.out = out
	p.active = true
	ctx.w.Pipelines.Add(1)
	if l.gauge == nil {
		module := ""
		if l.Module != nil {
			module = l.Module.Path
		}
		g := metrics.Pipelines(module, l.Name)
		l.gauge = &g
	}
	l.gauge.Start()
	return p
}

// OnEvent feeds the pipeline's first filter.
func (p *Pipeline) OnEvent(e event.Event) {
	if p.active {
		p.head.OnEvent(e)
	}
}

// SetOutput redirects the pipeline's output.
func (p *Pipeline) SetOutput(out event.Target) { p.out = out }

// Release returns the pipeline to its layout's pool at the end of the
// current turn (a filter may still be on the call stack now). Events sent
// to it after Release are dropped.
func (p *Pipeline) Release() {
	if !p.active {
		return
	}
	p.active = false
	p.W.Pipelines.Add(-1)
	p.Layout.gauge.End()
	p.W.Defer(p.resetFn)
}

// reset readies a released pipeline for reuse and pools it.
func (p *Pipeline) reset() {
	for _, f := range p.filters {
		f.Reset()
	}
	p.Context = nil
	p.out = nil
	if len(p.Layout.pool) < 1024 {
		p.Layout.pool = append(p.Layout.pool, p)
	}
}

// Sub instantiates a sub-pipeline. clone gives it a copy of p's context
// (demux-style); otherwise it shares p's (link-style).
func (p *Pipeline) Sub(ref *LayoutRef, clone bool, out event.Target) *Pipeline {
	ctx := p.Context
	if clone {
		ctx = ctx.Clone()
	}
	return ref.Layout.Instantiate(ctx, out)
}

func (l *Layout) String() string { return fmt.Sprintf("%s [%s]", l.Module.Path, l.Name) }
