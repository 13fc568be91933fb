package event

import "testing"

// TestShiftKeepsRest: shifting part of a single chunk leaves the rest (the
// chunk is held inline, which Clear zeroes).
func TestShiftKeepsRest(t *testing.T) {
	cases := []struct {
		chunks []string
		n      int
		head   string
		rest   string
	}{
		{[]string{"abcdef"}, 2, "ab", "cdef"},
		{[]string{"abc", "def"}, 2, "ab", "cdef"},
		{[]string{"abc", "def"}, 3, "abc", "def"},
		{[]string{"abc", "def"}, 4, "abcd", "ef"},
		{[]string{"abc"}, 3, "abc", ""},
	}
	for _, c := range cases {
		d := &Data{}
		for _, s := range c.chunks {
			d.Push([]byte(s))
		}
		head := d.Shift(c.n)
		if head.String() != c.head || d.String() != c.rest || d.Size() != len(c.rest) {
			t.Errorf("%q.Shift(%d) = %q, rest %q (size %d); want %q, rest %q", c.chunks, c.n, head.String(), d.String(), d.Size(), c.head, c.rest)
		}
	}
}
