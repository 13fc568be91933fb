package event

import (
	"strings"
	"unicode/utf8"
)

// Data is a sequence of bytes held as a chain of chunks. Chunks are never
// copied when Data is passed along, split or joined; a chunk handed to Push
// must not be modified afterwards by its producer.
type Data struct {
	chunks [][]byte
	size   int
	one    [1][]byte // inline storage for the common single-chunk case
}

func (*Data) Kind() Kind { return KindData }

// NewData returns Data holding b (not copied).
func NewData(b []byte) *Data {
	d := &Data{}
	d.Push(b)
	return d
}

// NewDataString returns Data holding a copy of s.
func NewDataString(s string) *Data {
	return NewData([]byte(s))
}

// Size is the number of bytes held.
func (d *Data) Size() int { return d.size }

// Empty reports whether d holds no bytes.
func (d *Data) Empty() bool { return d.size == 0 }

// Chunks returns the chunks; the caller must not modify them.
func (d *Data) Chunks() [][]byte { return d.chunks }

// Push appends b without copying it.
func (d *Data) Push(b []byte) {
	if len(b) == 0 {
		return
	}
	if d.chunks == nil {
		d.one[0] = b
		d.chunks = d.one[:1]
	} else {
		d.chunks = append(d.chunks, b)
	}
	d.size += len(b)
}

// PushData appends the chunks of o (not copied).
func (d *Data) PushData(o *Data) {
	for _, c := range o.chunks {
		d.Push(c)
	}
}

// Clear empties d.
func (d *Data) Clear() {
	d.one[0] = nil
	d.chunks = nil
	d.size = 0
}

// Clone returns a new Data sharing d's chunks.
func (d *Data) Clone() *Data {
	c := &Data{}
	c.PushData(d)
	return c
}

// Shift removes the first n bytes of d and returns them as a new Data.
func (d *Data) Shift(n int) *Data {
	out := &Data{}
	if n <= 0 {
		return out
	}
	if n >= d.size {
		out.PushData(d)
		d.Clear()
		return out
	}
	i := 0
	for n > 0 {
		c := d.chunks[i]
		if len(c) <= n {
			out.Push(c)
			n -= len(c)
			i++
			continue
		}
		out.Push(c[:n])
		d.chunks[i] = c[n:]
		n = 0
	}
	// rest may alias d.one, which Clear zeroes: keep the chunks first.
	rest := append([][]byte(nil), d.chunks[i:]...)
	d.Clear()
	for _, c := range rest {
		d.Push(c)
	}
	return out
}

// AppendTo appends d's bytes to dst.
func (d *Data) AppendTo(dst []byte) []byte {
	for _, c := range d.chunks {
		dst = append(dst, c...)
	}
	return dst
}

// Bytes returns d's bytes as one slice. With a single chunk it is that chunk
// (no copy); the caller must not modify it.
func (d *Data) Bytes() []byte {
	switch len(d.chunks) {
	case 0:
		return nil
	case 1:
		return d.chunks[0]
	}
	return d.AppendTo(make([]byte, 0, d.size))
}

// String returns the bytes as a string (invalid UTF-8 is kept as is).
func (d *Data) String() string {
	if len(d.chunks) == 1 {
		return string(d.chunks[0])
	}
	var sb strings.Builder
	sb.Grow(d.size)
	for _, c := range d.chunks {
		sb.Write(c)
	}
	return sb.String()
}

// ValidUTF8 reports whether the bytes are valid UTF-8.
func (d *Data) ValidUTF8() bool {
	if len(d.chunks) == 1 {
		return utf8.Valid(d.chunks[0])
	}
	return utf8.ValidString(d.String())
}
