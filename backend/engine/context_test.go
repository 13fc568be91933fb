package engine_test

import (
	"fmt"
	"strings"
	"testing"
)

// A cloned context starts with its parent's values and then goes its own
// way, with few variables (held inline: one allocation per clone, as
// demuxHTTP makes one per request) or many.
func TestContextCloneIsIndependent(t *testing.T) {
	for _, n := range []int{2, 6, 7, 20} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			var vars []string
			for i := range n {
				vars = append(vars, fmt.Sprintf("_v%d: %d", i, i))
			}
			p := loadOne(t, "pipy({"+strings.Join(vars, ", ")+"})")
			w := p.Workers[0]
			m := p.Modules()[0]
			w.Exec(func() {
				parent := w.NewContext(nil)
				child := parent.Clone()
				last := fmt.Sprintf("_v%d", n-1)
				if !child.SetVar(m, last, w.Runtime().ToValue("child")) {
					t.Fatalf("%s unknown", last)
				}
				parent.SetVar(m, "_v0", w.Runtime().ToValue("parent"))
				if got := child.Var(m, "_v0"); got.ToInteger() != 0 {
					t.Fatalf("the child sees the parent's later write: %v", got)
				}
				if got := parent.Var(m, last); got.String() == "child" {
					t.Fatal("the parent sees the child's write")
				}
				if got := child.Var(m, last); got.String() != "child" {
					t.Fatalf("the child lost its write: %v", got)
				}
				if n <= 6 {
					if a := testing.AllocsPerRun(50, func() { parent.Clone() }); a != 1 {
						t.Fatalf("%v allocations per clone", a)
					}
				}
			})
		})
	}
}
