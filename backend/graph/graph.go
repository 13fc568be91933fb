// Package graph draws the pipeline diagrams that Pipy 0.30 prints under
// "[config]" when a module loads, and produces the graph JSON that its admin
// service reports for each module (GET /api/v1/status, POST /api/v1/graph).
//
// The input is a module's pipeline layouts as plain data: what each filter
// shows and which sub-pipelines it refers to. Building the diagram never
// looks at the filters themselves.
//
// How a graph is laid out (the behaviour of Pipy's Graph::to_text):
//
//   - Listen, read and task pipelines are roots. So is every named pipeline
//     that no filter of the module links to (self-links count, so a pipeline
//     reachable only from itself or from a closed cycle is not drawn at all).
//   - Roots print in two groups, each sorted by name as bytes: first the
//     listen/read/task titles, then the unreferenced named pipelines. Two
//     pipelines of one group with the same name collapse into the one
//     declared last, as they do in Pipy's std::map.
//   - Each root expands into a tree: a filter with links becomes a link (or
//     fork) node whose children are the sub-pipelines it names, recursively.
//     A link to "" shows as "[empty]"; a name the module does not define and
//     a pipeline that would contain itself show as a pipeline node whose name
//     is the error message.
//
// A Graph is read, never changed, by Text and JSON, so several goroutines
// may call them at once as long as nobody modifies the Graph meanwhile.
package graph

import (
	"errors"
	"fmt"
	"sort"
)

// Filter is one filter of a pipeline layout as the diagram shows it.
type Filter struct {
	// Name is the filter's dump text, e.g. "serveHTTP", "link",
	// "use /plugins/router.js (plus 1 more) [request]".
	Name string
	// Links are the names of the sub-pipelines the filter refers to, in
	// order. "" is the pass-through pipeline, drawn as "[[empty]]".
	Links []string
	// Fork marks fork/merge style filters, whose sub-pipelines' output does
	// not come back (Pipy sets it for the filters dumped as "fork" and
	// "merge").
	Fork bool
}

// Pipeline is one pipeline layout of a module.
type Pipeline struct {
	// Name is the pipeline's name for a named pipeline, or the title of a
	// root: "Listen on 8080 at 0.0.0.0", "Read /x", "Task #1 (5s)".
	Name string
	// Root is true for listen, read and task pipelines.
	Root    bool
	Filters []Filter
}

// Graph is one module's pipelines, in the order the script declared them.
type Graph struct {
	Pipelines []Pipeline
}

// Errors found while expanding the pipelines. The error returned by Text and
// JSON wraps one of these and reads exactly as Pipy's message:
// "pipeline not found: X" or "recursive pipeline: X".
var (
	ErrPipelineNotFound  = errors.New("pipeline not found")
	ErrRecursivePipeline = errors.New("recursive pipeline")
)

// Text returns the diagram lines without Pipy's "[config]  " prefix. Each
// root contributes its "[title]" line, its drawing and then an empty line.
//
// The lines are returned in full even when err is not nil: Pipy prints the
// whole diagram (with the failing link drawn as "[pipeline not found: X]")
// and then reports the first error, which makes the module fail to load.
func (g *Graph) Text() ([]string, error) {
	lines := []string{}
	var first error
	m := g.module()
	for _, p := range m.rootPipelines() {
		lines = append(lines, "["+p.Name+"]")
		root, err := m.tree(p)
		lines = append(lines, drawText(root)...)
		lines = append(lines, "")
		if first == nil {
			first = err
		}
	}
	return lines, first
}

// JSON returns the graph as Pipy's Graph::to_json writes it:
//
//	{"roots":[…],"nodes":[{"name":"…","t":"root|pipeline|filter|link|fork","p":<parent>,"c":[…]}]}
//
// Nodes are numbered depth first, root by root; "p" is left out for roots
// and "c" for nodes without children. A broken link is carried as a
// "pipeline" node named after the error, as Pipy does (Pipy 0.30 never emits
// the "error" type it declares). The JSON is complete even when err is not
// nil; err is the first such problem, which Pipy's admin service ignores.
func (g *Graph) JSON() ([]byte, error) {
	var roots []*node
	var first error
	m := g.module()
	for _, p := range m.rootPipelines() {
		root, err := m.tree(p)
		roots = append(roots, root)
		if first == nil {
			first = err
		}
	}

	var nodes []*node
	var number func(n *node)
	number = func(n *node) {
		n.index = len(nodes)
		nodes = append(nodes, n)
		for _, c := range n.children {
			number(c)
		}
	}
	for _, r := range roots {
		number(r)
	}

	out := []byte(`{"roots":[`)
	for i, r := range roots {
		if i > 0 {
			out = append(out, ',')
		}
		out = fmt.Appendf(out, "%d", r.index)
	}
	out = append(out, `],"nodes":[`...)
	for i, n := range nodes {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, `{"name":"`...)
		out = appendEscaped(out, n.name)
		out = append(out, `","t":"`...)
		out = append(out, n.typ.String()...)
		out = append(out, '"')
		if n.parent != nil {
			out = fmt.Appendf(out, `,"p":%d`, n.parent.index)
		}
		if len(n.children) > 0 {
			out = append(out, `,"c":[`...)
			for j, c := range n.children {
				if j > 0 {
					out = append(out, ',')
				}
				out = fmt.Appendf(out, "%d", c.index)
			}
			out = append(out, ']')
		}
		out = append(out, '}')
	}
	out = append(out, "]}"...)
	return out, first
}

// appendEscaped writes s as the inside of a JSON string. It escapes what
// Pipy's utils::escape escapes, but writes \a and \v (which Pipy emits
// verbatim and JSON does not allow) and every other control byte as \u00XX,
// so the result is always valid JSON.
func appendEscaped(out []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"':
			out = append(out, '\\', '"')
		case '\\':
			out = append(out, '\\', '\\')
		case '\b':
			out = append(out, '\\', 'b')
		case '\f':
			out = append(out, '\\', 'f')
		case '\n':
			out = append(out, '\\', 'n')
		case '\r':
			out = append(out, '\\', 'r')
		case '\t':
			out = append(out, '\\', 't')
		default:
			if c < 0x20 || c == 0x7f {
				out = fmt.Appendf(out, `\u%04x`, c)
			} else {
				out = append(out, c)
			}
		}
	}
	return out
}

// module holds the pipelines keyed by name the way Pipy's Graph does.
type module struct {
	roots map[string]*Pipeline // listen/read/task pipelines by title
	named map[string]*Pipeline // named pipelines by name
}

func (g *Graph) module() module {
	m := module{roots: map[string]*Pipeline{}, named: map[string]*Pipeline{}}
	for i := range g.Pipelines {
		p := &g.Pipelines[i]
		if p.Root {
			m.roots[p.Name] = p
		} else {
			m.named[p.Name] = p
		}
	}
	return m
}

// rootPipelines returns the pipelines drawn as roots, in Pipy's order.
func (m module) rootPipelines() []*Pipeline {
	referenced := map[string]bool{}
	for _, group := range []map[string]*Pipeline{m.roots, m.named} {
		for _, p := range group {
			for _, f := range p.Filters {
				for _, l := range f.Links {
					referenced[l] = true
				}
			}
		}
	}
	var out []*Pipeline
	for _, name := range sortedKeys(m.roots) {
		out = append(out, m.roots[name])
	}
	for _, name := range sortedKeys(m.named) {
		if !referenced[name] {
			out = append(out, m.named[name])
		}
	}
	return out
}

func sortedKeys(m map[string]*Pipeline) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

type nodeType int

const (
	nodeRoot nodeType = iota
	nodePipeline
	nodeFilter
	nodeLink
	nodeFork
)

func (t nodeType) String() string {
	switch t {
	case nodeRoot:
		return "root"
	case nodePipeline:
		return "pipeline"
	case nodeFilter:
		return "filter"
	case nodeLink:
		return "link"
	case nodeFork:
		return "fork"
	}
	return "error"
}

type node struct {
	parent   *node
	typ      nodeType
	name     string
	children []*node
	index    int // position in the JSON node list
}

func newNode(parent *node, typ nodeType, name string) *node {
	n := &node{parent: parent, typ: typ, name: name}
	if parent != nil {
		parent.children = append(parent.children, n)
	}
	return n
}

// isLast reports whether n is the last child of its parent.
func (n *node) isLast() bool {
	s := n.parent.children
	return s[len(s)-1] == n
}

// tree expands the root pipeline p into nodes. err is the first broken link.
func (m module) tree(p *Pipeline) (root *node, err error) {
	var build func(p *Pipeline, pn *node)
	build = func(p *Pipeline, pn *node) {
		for _, f := range p.Filters {
			if len(f.Links) == 0 {
				newNode(pn, nodeFilter, f.Name)
				continue
			}
			typ := nodeLink
			if f.Fork {
				typ = nodeFork
			}
			ln := newNode(pn, typ, f.Name)
			for _, l := range f.Links {
				recursive := false
				for a := pn; a != nil; a = a.parent {
					if a.typ == nodePipeline && a.name == l {
						recursive = true
						break
					}
				}
				if recursive {
					e := fmt.Errorf("%w: %s", ErrRecursivePipeline, l)
					if err == nil {
						err = e
					}
					newNode(ln, nodePipeline, e.Error())
					continue
				}
				if l == "" {
					newNode(ln, nodePipeline, "[empty]")
					continue
				}
				sub, ok := m.named[l]
				if !ok {
					e := fmt.Errorf("%w: %s", ErrPipelineNotFound, l)
					if err == nil {
						err = e
					}
					newNode(ln, nodePipeline, e.Error())
					continue
				}
				build(sub, newNode(ln, nodePipeline, l))
			}
		}
	}
	root = newNode(nil, nodeRoot, p.Name)
	build(p, root)
	return root, err
}
