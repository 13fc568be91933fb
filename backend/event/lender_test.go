package event

import "testing"

// copier copies what it is sent, as a Copier promises, into a buffer it
// reuses: last holds the latest, sends counts them.
type copier struct {
	last  []byte
	sends int
	reply func()
}

func (c *copier) CopiesData() bool { return true }
func (c *copier) OnEvent(e Event) {
	c.last = e.(*Data).AppendTo(c.last[:0])
	c.sends++
	if c.reply != nil {
		r := c.reply
		c.reply = nil
		r()
	}
}

// keeper keeps the Data it is sent, as any target but a Copier may.
type keeper struct{ kept []*Data }

func (k *keeper) OnEvent(e Event) { k.kept = append(k.kept, e.(*Data)) }

// A Lender lends its owner's bytes to a target that copies them, without
// allocating; any other target gets a copy it may keep while the owner
// reuses its buffer; a send made from inside a lent one is a copy too; and
// a constant is passed on as it is.
func TestLender(t *testing.T) {
	var l Lender
	buf := []byte("first")
	c := &copier{}
	if n := testing.AllocsPerRun(100, func() { l.Send(c, buf) }); n != 0 {
		t.Fatalf("lending allocated %v times", n)
	}
	if string(c.last) != "first" {
		t.Fatalf("the copier got %q", c.last)
	}

	k := &keeper{}
	l.Send(k, buf)
	copy(buf, "reuse")
	if got := string(k.kept[0].Bytes()); got != "first" {
		t.Fatalf("the keeper's Data changed with the owner's buffer: %q", got)
	}

	inner := &keeper{}
	c = &copier{reply: func() { l.Send(inner, []byte("inner")) }}
	l.Send(c, []byte("outer"))
	if len(inner.kept) != 1 || string(inner.kept[0].Bytes()) != "inner" || string(c.last) != "outer" {
		t.Fatalf("nested send: copier %q, inner %d", c.last, len(inner.kept))
	}
	innerCopier := &copier{}
	c = &copier{reply: func() { l.Send(innerCopier, []byte("again")) }}
	l.Send(c, []byte("outer"))
	if innerCopier.sends != 1 || string(innerCopier.last) != "again" {
		t.Fatalf("a send while one is lent: %d, %q", innerCopier.sends, innerCopier.last)
	}

	shared := []byte("constant")
	k = &keeper{}
	l.SendShared(k, shared)
	if &k.kept[0].Bytes()[0] != &shared[0] {
		t.Fatal("a constant was copied")
	}
}
