package filters

import (
	"fmt"
	"strings"

	"github.com/dop251/goja"

	"sluice/backend/engine"
	"sluice/backend/event"
)

func init() {
	engine.Register(&engine.FilterKind{
		Name: "link", Joint: true, Signature: "link(name1: string, condition1?: () => bool, ..., nameN: string)",
		Help:  "On the first event, picks the first sub-pipeline whose condition is true (no condition means true) and sends the stream through it, sharing the context. The name '' passes the stream through unchanged.",
		Parse: parseLink,
	})
	engine.Register(&engine.FilterKind{
		Name: "use", Joint: true, Signature: "use(module: string | string[], pipeline: string, pipelineDown?: string, turnDown?: () => bool)",
		Help:  "Chains the pipeline of that name in each module (all sharing the context). With pipelineDown, the output comes back through each module's down pipeline in reverse order; when turnDown() is true at a stage, the remaining modules are skipped and the stream turns back.",
		Parse: parseUse,
	})
	engine.Register(&engine.FilterKind{
		Name: "fork", Joint: true, Signature: "fork(pipeline: string, initializers?: object[] | (() => object[]))",
		Help:  "Sends a copy of every event into the sub-pipeline (one per initializer, each with a cloned context the initializer's values are assigned into) and passes the original on; the sub-pipeline's output is discarded.",
		Fork:  true,
		Parse: parseFork,
	})
}

// ---- link ----

type linkCase struct {
	ref  *engine.LayoutRef
	cond goja.Callable
}

type linkConfig struct{ cases []linkCase }

func parseLink(b *engine.Builder, args []goja.Value) (engine.Config, error) {
	c := &linkConfig{}
	for i := 0; i < len(args); i++ {
		name, ok := args[i].Export().(string)
		if !ok {
			return nil, fmt.Errorf("argument %d: expected a pipeline name, got %s", i+1, args[i].String())
		}
		lc := linkCase{ref: b.Ref(name)}
		if i+1 < len(args) {
			if fn, ok := goja.AssertFunction(args[i+1]); ok {
				lc.cond = fn
				i++
			}
		}
		c.cases = append(c.cases, lc)
	}
	if len(c.cases) == 0 {
		return nil, fmt.Errorf("expects at least one pipeline name")
	}
	return c, nil
}

func (c *linkConfig) Links() []string {
	out := make([]string, len(c.cases))
	for i, lc := range c.cases {
		out[i] = lc.ref.Name
	}
	return out
}

func (c *linkConfig) New(p *engine.Pipeline, next event.Target) engine.Filter {
	return &link{c: c, p: p, next: next}
}

type link struct {
	c      *linkConfig
	p      *engine.Pipeline
	next   event.Target
	chosen bool
	target event.Target
	sub    *engine.Pipeline
}

func (l *link) OnEvent(e event.Event) {
	if !l.chosen {
		l.chosen = true
		l.target = event.Discard
		for _, lc := range l.c.cases {
			if lc.cond != nil {
				v, err := l.p.W.Call(l.p.Context, lc.cond)
				if err != nil {
					l.next.OnEvent(event.NewStreamEnd(event.RuntimeError))
					return
				}
				if !v.ToBoolean() {
					continue
				}
			}
			if lc.ref.Layout == nil {
				l.target = l.next
			} else {
				l.sub = l.p.Sub(lc.ref, false, l.next)
				l.target = l.sub
			}
			break
		}
	}
	l.target.OnEvent(e)
}

func (l *link) Reset() {
	if l.sub != nil {
		l.sub.Release()
	}
	l.chosen, l.target, l.sub = false, nil, nil
}

// ---- use ----

type useStage struct {
	up, down *engine.Layout
}

type useConfig struct {
	modules  []*engine.Module
	name     string
	nameDown string
	turnDown goja.Callable
	stages   []useStage
	multiple bool
	hasDown  bool
	describe string
}

func parseUse(b *engine.Builder, args []goja.Value) (engine.Config, error) {
	if err := argCount(args, 2, 4, "use(module | modules[], pipeline, pipelineDown?, turnDown?)"); err != nil {
		return nil, err
	}
	c := &useConfig{}
	var files []string
	switch v := args[0].Export().(type) {
	case string:
		files = []string{v}
	case []any:
		c.multiple = true
		for _, f := range v {
			s, ok := f.(string)
			if !ok {
				return nil, fmt.Errorf("module list must hold file names")
			}
			files = append(files, s)
		}
	default:
		return nil, fmt.Errorf("expects a module file name or a list of them, got %s", args[0].String())
	}
	c.name = args[1].String()
	rest := args[2:]
	if len(rest) > 0 {
		if s, ok := rest[0].Export().(string); ok {
			c.nameDown, c.hasDown = s, true
			rest = rest[1:]
		}
	}
	if len(rest) > 0 && !engine.IsNullish(rest[0]) {
		fn, err := engine.Func(rest[0], "turnDown")
		if err != nil {
			return nil, err
		}
		c.turnDown = fn
	}
	for _, f := range files {
		m, err := b.LoadModule(f)
		if err != nil {
			return nil, err
		}
		c.modules = append(c.modules, m)
		up := m.Named(c.name)
		var down *engine.Layout
		if c.hasDown {
			down = m.Named(c.nameDown)
		}
		if up == nil && !c.multiple {
			return nil, fmt.Errorf("pipeline not found in module %s: %s", m.Path, c.name)
		}
		if up != nil || down != nil {
			c.stages = append(c.stages, useStage{up, down})
		}
	}
	first := "(0 modules)"
	if len(c.modules) > 0 {
		first = c.modules[0].Path
	}
	if len(c.modules) > 1 {
		first += fmt.Sprintf(" (plus %d more)", len(c.modules)-1)
	}
	c.describe = "use " + first + " [" + c.name + "]"
	return c, nil
}

func (c *useConfig) Describe() string { return c.describe }

func (c *useConfig) New(p *engine.Pipeline, next event.Target) engine.Filter {
	u := &use{c: c, p: p, next: next}
	u.stages = make([]stage, len(c.stages))
	for i := range u.stages {
		u.stages[i] = stage{u: u, i: i}
	}
	return u
}

// use chains the stages: stage i receives the output of stage i-1's up
// pipeline (stage 0 gets the filter's input). On its first event a stage
// decides where its events go: through its up pipeline to the next stage,
// or — when turned down — straight back down.
type use struct {
	c      *useConfig
	p      *engine.Pipeline
	next   event.Target
	stages []stage
}

type stage struct {
	u          *use
	i          int
	chained    bool
	target     event.Target
	up, down   *engine.Pipeline
	turnedDown bool
}

func (u *use) OnEvent(e event.Event) {
	if len(u.stages) == 0 {
		u.next.OnEvent(e)
		return
	}
	u.stages[0].OnEvent(e)
}

func (u *use) Reset() {
	for i := range u.stages {
		s := &u.stages[i]
		if s.up != nil {
			s.up.Release()
		}
		if s.down != nil {
			s.down.Release()
		}
		*s = stage{u: u, i: i}
	}
}

func (s *stage) OnEvent(e event.Event) {
	if !s.chained {
		s.chained = true
		u := s.u
		if u.c.turnDown != nil {
			v, err := u.p.W.Call(u.p.Context, u.c.turnDown)
			if err != nil {
				s.target = event.Discard
				u.next.OnEvent(event.NewStreamEnd(event.RuntimeError))
				return
			}
			s.turnedDown = v.ToBoolean()
		}
		switch {
		case s.turnedDown:
			if s.i > 0 && u.c.hasDown {
				s.target = u.stages[s.i-1].inputDown()
			} else {
				s.target = u.next
			}
		case u.c.stages[s.i].up != nil:
			var out event.Target
			if s.i+1 < len(u.stages) {
				out = &u.stages[s.i+1]
			} else {
				out = s.inputDown()
			}
			s.up = u.c.stages[s.i].up.Instantiate(u.p.Context, out)
			s.target = s.up
		case s.i+1 < len(u.stages):
			s.target = &u.stages[s.i+1]
		default:
			s.target = s.inputDown()
		}
	}
	s.target.OnEvent(e)
}

// inputDown is where events going back down enter this stage.
func (s *stage) inputDown() event.Target {
	u := s.u
	var below event.Target = u.next
	if s.i > 0 && u.c.hasDown {
		below = u.stages[s.i-1].inputDown()
	}
	if d := u.c.stages[s.i].down; d != nil && u.c.hasDown {
		if s.down == nil {
			s.down = d.Instantiate(u.p.Context, below)
		}
		return s.down
	}
	return below
}

// ---- fork ----

type forkConfig struct {
	ref  *engine.LayoutRef
	init engine.Value
	has  bool
}

func parseFork(b *engine.Builder, args []goja.Value) (engine.Config, error) {
	if err := argCount(args, 1, 2, "fork(pipeline, initializers?)"); err != nil {
		return nil, err
	}
	c := &forkConfig{ref: b.Ref(args[0].String())}
	if len(args) == 2 && !engine.IsNullish(args[1]) {
		c.init, c.has = engine.NewValue(args[1]), true
	}
	return c, nil
}

func (c *forkConfig) Links() []string { return []string{c.ref.Name} }

func (c *forkConfig) New(p *engine.Pipeline, next event.Target) engine.Filter {
	return &fork{c: c, p: p, next: next}
}

type fork struct {
	c       *forkConfig
	p       *engine.Pipeline
	next    event.Target
	started bool
	subs    []*engine.Pipeline
}

func (f *fork) OnEvent(e event.Event) {
	if !f.started {
		f.started = true
		if f.c.ref.Layout != nil {
			if !f.c.has {
				f.subs = append(f.subs, f.p.Sub(f.c.ref, false, event.Discard))
			} else if err := f.forkWith(); err != nil {
				f.next.OnEvent(event.NewStreamEnd(event.RuntimeError))
				return
			}
		}
	}
	for _, s := range f.subs {
		s.OnEvent(e)
	}
	f.next.OnEvent(e)
}

func (f *fork) forkWith() error {
	v, err := f.c.init.Eval(f.p)
	if err != nil {
		return err
	}
	arr, ok := v.(*goja.Object)
	if !ok {
		return nil
	}
	n := int(arr.Get("length").ToInteger())
	for i := range n {
		sub := f.p.Sub(f.c.ref, true, event.Discard)
		if o, ok := arr.Get(fmt.Sprint(i)).(*goja.Object); ok {
			for _, k := range o.Keys() {
				sub.Context.SetVar(f.c.ref.Layout.Module, k, o.Get(k))
			}
		}
		f.subs = append(f.subs, sub)
	}
	return nil
}

func (f *fork) Reset() {
	for _, s := range f.subs {
		s.Release()
	}
	f.subs = f.subs[:0]
	f.started = false
}

var _ = strings.TrimSpace
