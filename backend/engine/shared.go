package engine

// Site names the place of a filter in a codebase: the module, the layout
// (by declaration order) and the filter's position in it. Every worker
// evaluates the same code, so a filter has the same Site on all of them:
// filters that keep state across workers (throttling accounts) use it, with
// Program.Shared, to find that state.
type Site struct {
	Module string
	Layout int
	Filter int
}

// Site returns the place of the filter being parsed. Parse only.
func (b *Builder) Site() Site {
	m := b.Module
	s := Site{Module: m.Path, Layout: len(m.Layouts) - 1}
	if m.current != nil {
		s.Filter = len(m.current.configs)
	}
	return s
}

// Shared returns the program-wide value stored under key, storing the
// result of mk first if there is none. The value lives as long as the
// program (a reload starts afresh). Safe from any goroutine; the value
// must be safe for concurrent use and hold no script values.
func (p *Program) Shared(key any, mk func() any) any {
	if v, ok := p.shared.Load(key); ok {
		return v
	}
	v, _ := p.shared.LoadOrStore(key, mk())
	return v
}
