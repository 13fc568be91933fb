package graph

import "strings"

// drawText renders one root's tree as Pipy's Graph::build_text does: the
// lines after the "[title]" line, up to but not including the blank line.
//
// The drawing is built top to bottom. Every line may be an "exit": the last
// filter of a pipeline (or a pipeline with no filters) whose output flows
// back to an enclosing link. When that link has drawn all its branches, its
// exit lines get a right-aligned " --…-->|" and the lines between them a
// "|" in the same column, so the arrows meet in one return lane.
func drawText(root *node) []string {
	d := drawer{}
	d.draw(root)
	return d.lines
}

type drawer struct {
	lines []string
	exits []*node // per line: the link the line returns to, or nil
}

func (d *drawer) push(line string, exit *node) {
	d.lines = append(d.lines, line)
	d.exits = append(d.exits, exit)
}

// spaces and dashes clamp at zero where Pipy's size arithmetic cannot go
// negative for any tree it builds.
func spaces(n int) string { return strings.Repeat(" ", max(n, 0)) }
func dashes(n int) string { return strings.Repeat("-", max(n, 0)) }

// indent returns the left margin of n's line (without the 4 leading
// spaces every line has): one column per enclosing sub-pipeline, "  |    "
// while that sub-pipeline has later siblings or belongs to a fork (the
// vertical line continues), 7 blanks when it is the last branch of a link.
func indent(n *node) string {
	var base string
	var p *node
	if n.typ == nodePipeline {
		p = n.parent.parent
		base = "  |--> "
	} else {
		p = n.parent
	}
	for ; p != nil && p.typ != nodeRoot; p = p.parent.parent {
		if p.parent.typ != nodeFork && p.isLast() {
			base = "       " + base
		} else {
			base = "  |    " + base
		}
	}
	return base
}

// exitOf returns the link that n's line returns to, or nil when n is not the
// end of a pipeline or its output does not come back (a fork, or the root).
// A link that is itself the last filter of its pipeline hands its returns
// on to the link enclosing that pipeline.
func exitOf(n *node) *node {
	isEnd := (n.typ == nodePipeline && len(n.children) == 0) ||
		(n.typ == nodeFilter && n.isLast())
	if !isEnd {
		return nil
	}
	pipe := n
	if n.typ == nodeFilter {
		pipe = n.parent
	}
	exit := pipe.parent
	for exit != nil &&
		exit.typ == nodeLink &&
		exit.parent.typ != nodeRoot &&
		exit.isLast() {
		pipe = exit.parent
		exit = pipe.parent
	}
	if exit != nil && exit.typ != nodeLink {
		exit = nil
	}
	return exit
}

func (d *drawer) draw(n *node) {
	if n.typ == nodeRoot {
		d.push("----->|", nil)
	}
	base := "    " + indent(n)

	line := base
	switch n.typ {
	case nodeRoot:
		line += "  |"
	case nodePipeline:
		line += "[" + n.name + "]"
	default:
		line += " " + n.name
	}
	d.push(line, exitOf(n))

	for _, c := range n.children {
		if n.typ == nodeLink || n.typ == nodeFork {
			d.push(base+"  |", nil)
		}
		d.draw(c)
	}

	switch n.typ {
	case nodeLink:
		if n.parent.typ == nodeRoot || !n.isLast() {
			d.closeLink(n, base)
		}
	case nodeFork:
		d.push(base+"  |", nil)
	case nodeRoot:
		if len(n.children) == 0 || n.children[len(n.children)-1].typ != nodeLink {
			d.push("      |", nil)
			d.push("<-----|", nil)
		}
	}
}

// closeLink draws the return lane of link n, whose line starts with base.
func (d *drawer) closeLink(n *node, base string) {
	end := len(d.lines) - 1
	start := end
	for i := end; i >= 0; i-- {
		if d.exits[i] == n {
			start = i
		}
	}
	width := 0
	for i := start; i <= end; i++ {
		width = max(width, len(d.lines[i]))
	}
	for i := start; i <= end; i++ {
		pad := width - len(d.lines[i])
		if d.exits[i] == n {
			d.lines[i] += " " + dashes(pad) + "-->|"
		} else {
			d.lines[i] += spaces(pad+4) + "|"
		}
	}
	gap := width - len(base) + 4
	d.push(base+spaces(gap)+"|", nil)
	if n.parent.typ == nodeRoot && n.isLast() {
		d.push("<"+dashes(width+3)+"|", nil)
		return
	}
	d.push(base+spaces(gap)+"v", nil)
	d.push(base+"  |<"+dashes(gap-3), nil)
	d.push(base+"  |", nil)
	d.push(base+"  v", nil)
}
