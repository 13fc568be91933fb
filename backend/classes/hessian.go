package classes

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/dop251/goja"

	"sluice/backend/engine"
	"sluice/backend/event"
)

// Hessian 2.0 serialization (what Dubbo carries). decode reads every value
// in the data: one value is returned as it is, several as an array of them
// (a Dubbo request body is a sequence of values). encode writes an array
// given at the top as that sequence again, and anything nested as Hessian
// lists and maps. Typed objects and maps decode to plain objects (class
// names are dropped), dates to Date, binary to Data, references to the same
// object.

func init() {
	engine.RegisterGlobal(installHessian)
	engine.DescribeClass(engine.ClassDoc{Name: "Hessian", Signature: "Hessian",
		Help: "Hessian 2.0 serialization, as Dubbo uses it.",
		Members: []engine.MemberDoc{
			{Name: "decode", Signature: "Hessian.decode(data: Data): any", Static: true,
				Help: "Reads every value in data: one is returned as it is, several as an array. Objects and maps become plain objects, dates Date, binary Data; throws a TypeError on malformed data."},
			{Name: "encode", Signature: "Hessian.encode(value: any): Data", Static: true,
				Help: "Writes a value; an array at the top is written as a sequence of values, arrays and objects inside as lists and maps."},
		}})
}

func installHessian(w *engine.Worker, g *goja.Object) {
	rt := w.Runtime()
	throw := thrower(rt)
	ns := rt.NewObject()
	g.Set("Hessian", ns)
	ns.Set("decode", func(call goja.FunctionCall) goja.Value {
		d, ok := engine.AsData(call.Argument(0))
		if !ok {
			if engine.IsNullish(call.Argument(0)) {
				return goja.Null()
			}
			throw("Hessian.decode: expects a Data")
		}
		v, err := hessianDecode(rt, d.Bytes(), func(b []byte) goja.Value { return w.DataObject(event.NewData(b)) })
		if err != nil {
			throw("Hessian.decode: %v", err)
		}
		return v
	})
	ns.Set("encode", func(call goja.FunctionCall) goja.Value {
		b, err := hessianEncode(call.Argument(0))
		if err != nil {
			throw("Hessian.encode: %v", err)
		}
		return w.DataObject(event.NewData(b))
	})
}

// ---- decoding ----

const hessianMaxDepth = 1000

type hessianReader struct {
	rt      *goja.Runtime
	data    func([]byte) goja.Value
	b       []byte
	pos     int
	types   []string
	classes [][]string
	refs    []goja.Value
	depth   int
}

var errHessianEnd = errors.New("unexpected end of data")

func (r *hessianReader) errorf(format string, a ...any) error {
	return fmt.Errorf("%s at byte %d", fmt.Sprintf(format, a...), r.pos)
}

func (r *hessianReader) byte() (byte, error) {
	if r.pos >= len(r.b) {
		return 0, errHessianEnd
	}
	c := r.b[r.pos]
	r.pos++
	return c, nil
}

func (r *hessianReader) peek() (byte, error) {
	if r.pos >= len(r.b) {
		return 0, errHessianEnd
	}
	return r.b[r.pos], nil
}

func (r *hessianReader) take(n int) ([]byte, error) {
	if n < 0 || n > len(r.b)-r.pos {
		return nil, errHessianEnd
	}
	b := r.b[r.pos : r.pos+n]
	r.pos += n
	return b, nil
}

func (r *hessianReader) u16() (int, error) {
	b, err := r.take(2)
	if err != nil {
		return 0, err
	}
	return int(binary.BigEndian.Uint16(b)), nil
}

// hessianDecode reads all values in b.
func hessianDecode(rt *goja.Runtime, b []byte, data func([]byte) goja.Value) (goja.Value, error) {
	r := &hessianReader{rt: rt, data: data, b: b}
	var vals []goja.Value
	for r.pos < len(r.b) {
		v, err := r.value()
		if err != nil {
			if err == errHessianEnd {
				return nil, r.errorf("unexpected end of data")
			}
			return nil, err
		}
		if v == nil { // a class definition at the end
			continue
		}
		vals = append(vals, v)
	}
	switch len(vals) {
	case 0:
		return goja.Undefined(), nil
	case 1:
		return vals[0], nil
	}
	return rt.NewArray(toAny(vals)...), nil
}

// value reads one value; nil for a trailing class definition.
func (r *hessianReader) value() (goja.Value, error) {
	r.depth++
	defer func() { r.depth-- }()
	if r.depth > hessianMaxDepth {
		return nil, r.errorf("nesting too deep")
	}
	c, err := r.byte()
	if err != nil {
		return nil, err
	}
	rt := r.rt
	switch {
	case c == 'N':
		return goja.Null(), nil
	case c == 'T':
		return rt.ToValue(true), nil
	case c == 'F':
		return rt.ToValue(false), nil
	case c >= 0x80 && c <= 0xbf, c >= 0xc0 && c <= 0xd7, c == 'I',
		c >= 0xd8 && c <= 0xff, c >= 0x38 && c <= 0x3f, c == 0x59, c == 'L':
		n, err := r.integer(c)
		if err != nil {
			return nil, err
		}
		return rt.ToValue(n), nil
	case c == 0x5b:
		return rt.ToValue(0.0), nil
	case c == 0x5c:
		return rt.ToValue(1.0), nil
	case c == 0x5d:
		b, err := r.byte()
		return rt.ToValue(float64(int8(b))), err
	case c == 0x5e:
		b, err := r.take(2)
		if err != nil {
			return nil, err
		}
		return rt.ToValue(float64(int16(binary.BigEndian.Uint16(b)))), nil
	case c == 0x5f: // a double in thousandths, as Hessian's Java writer makes it
		b, err := r.take(4)
		if err != nil {
			return nil, err
		}
		return rt.ToValue(float64(int32(binary.BigEndian.Uint32(b))) * 0.001), nil
	case c == 'D':
		b, err := r.take(8)
		if err != nil {
			return nil, err
		}
		return rt.ToValue(math.Float64frombits(binary.BigEndian.Uint64(b))), nil
	case c == 0x4a:
		b, err := r.take(8)
		if err != nil {
			return nil, err
		}
		return r.date(int64(binary.BigEndian.Uint64(b)))
	case c == 0x4b:
		b, err := r.take(4)
		if err != nil {
			return nil, err
		}
		return r.date(int64(int32(binary.BigEndian.Uint32(b))) * 60000)
	case c <= 0x1f, c >= 0x30 && c <= 0x33, c == 'S', c == 'R':
		s, err := r.str(c)
		if err != nil {
			return nil, err
		}
		return rt.ToValue(s), nil
	case c >= 0x20 && c <= 0x2f, c >= 0x34 && c <= 0x37, c == 'B', c == 'A':
		b, err := r.binary(c)
		if err != nil {
			return nil, err
		}
		return r.data(b), nil
	case c == 'U', c == 'V', c == 'W', c == 'X', c >= 0x70 && c <= 0x7f:
		return r.list(c)
	case c == 'H', c == 'M':
		return r.hmap(c)
	case c == 'C':
		if err := r.classDef(); err != nil {
			return nil, err
		}
		if r.pos == len(r.b) {
			return nil, nil
		}
		return r.value()
	case c == 'O', c >= 0x60 && c <= 0x6f:
		return r.object(c)
	case c == 0x51:
		n, err := r.int()
		if err != nil {
			return nil, err
		}
		if n < 0 || int(n) >= len(r.refs) {
			return nil, r.errorf("reference %d to nothing", n)
		}
		return r.refs[n], nil
	}
	r.pos--
	return nil, r.errorf("unknown code 0x%02x", c)
}

func (r *hessianReader) date(ms int64) (goja.Value, error) {
	return r.rt.New(r.rt.Get("Date"), r.rt.ToValue(ms))
}

// integer reads an int or long whose first byte was c.
func (r *hessianReader) integer(c byte) (int64, error) {
	arg := func(n int) ([]byte, error) { return r.take(n) }
	switch {
	case c >= 0x80 && c <= 0xbf:
		return int64(c) - 0x90, nil
	case c >= 0xc0 && c <= 0xcf:
		b, err := arg(1)
		if err != nil {
			return 0, err
		}
		return (int64(c)-0xc8)<<8 | int64(b[0]), nil
	case c >= 0xd0 && c <= 0xd7:
		b, err := arg(2)
		if err != nil {
			return 0, err
		}
		return (int64(c)-0xd4)<<16 | int64(b[0])<<8 | int64(b[1]), nil
	case c == 'I', c == 0x59:
		b, err := arg(4)
		if err != nil {
			return 0, err
		}
		return int64(int32(binary.BigEndian.Uint32(b))), nil
	case c >= 0xd8 && c <= 0xef:
		return int64(c) - 0xe0, nil
	case c >= 0xf0:
		b, err := arg(1)
		if err != nil {
			return 0, err
		}
		return (int64(c)-0xf8)<<8 | int64(b[0]), nil
	case c >= 0x38 && c <= 0x3f:
		b, err := arg(2)
		if err != nil {
			return 0, err
		}
		return (int64(c)-0x3c)<<16 | int64(b[0])<<8 | int64(b[1]), nil
	case c == 'L':
		b, err := arg(8)
		if err != nil {
			return 0, err
		}
		return int64(binary.BigEndian.Uint64(b)), nil
	}
	r.pos--
	return 0, r.errorf("expected an integer, got code 0x%02x", c)
}

// int reads an integer value (lengths, references, class numbers).
func (r *hessianReader) int() (int64, error) {
	c, err := r.byte()
	if err != nil {
		return 0, err
	}
	return r.integer(c)
}

// str reads a string whose first byte was c (chunks included).
func (r *hessianReader) str(c byte) (string, error) {
	var units []uint16
	for {
		var n int
		final := true
		switch {
		case c <= 0x1f:
			n = int(c)
		case c >= 0x30 && c <= 0x33:
			b, err := r.byte()
			if err != nil {
				return "", err
			}
			n = int(c-0x30)<<8 | int(b)
		case c == 'S', c == 'R':
			var err error
			if n, err = r.u16(); err != nil {
				return "", err
			}
			final = c == 'S'
		default:
			r.pos--
			return "", r.errorf("expected a string, got code 0x%02x", c)
		}
		var err error
		if units, err = r.utf8Units(units, n); err != nil {
			return "", err
		}
		if final {
			return string(utf16.Decode(units)), nil
		}
		if c, err = r.byte(); err != nil {
			return "", err
		}
	}
}

// utf8Units reads n UTF-16 code units written as UTF-8 (a four-byte
// sequence counts two; surrogates may come as three-byte sequences).
func (r *hessianReader) utf8Units(units []uint16, n int) ([]uint16, error) {
	for n > 0 {
		if r.pos >= len(r.b) {
			return nil, errHessianEnd
		}
		c := r.b[r.pos]
		var size int
		switch {
		case c < 0x80:
			size = 1
		case c&0xe0 == 0xc0:
			size = 2
		case c&0xf0 == 0xe0:
			size = 3
		case c&0xf8 == 0xf0:
			size = 4
		default:
			return nil, r.errorf("bad UTF-8 in a string")
		}
		seq, err := r.take(size)
		if err != nil {
			return nil, err
		}
		var cp rune
		switch size {
		case 1:
			cp = rune(c)
		case 2:
			cp = rune(c&0x1f)<<6 | rune(seq[1]&0x3f)
		case 3:
			cp = rune(c&0x0f)<<12 | rune(seq[1]&0x3f)<<6 | rune(seq[2]&0x3f)
		case 4:
			cp = rune(c&0x07)<<18 | rune(seq[1]&0x3f)<<12 | rune(seq[2]&0x3f)<<6 | rune(seq[3]&0x3f)
		}
		for _, k := range seq[1:] {
			if k&0xc0 != 0x80 {
				return nil, r.errorf("bad UTF-8 in a string")
			}
		}
		if cp > 0xffff {
			if cp > utf8.MaxRune {
				return nil, r.errorf("bad UTF-8 in a string")
			}
			hi, lo := utf16.EncodeRune(cp)
			units = append(units, uint16(hi), uint16(lo))
			n -= 2
			continue
		}
		units = append(units, uint16(cp))
		n--
	}
	return units, nil
}

func (r *hessianReader) binary(c byte) ([]byte, error) {
	var out []byte
	for {
		var n int
		final := true
		switch {
		case c >= 0x20 && c <= 0x2f:
			n = int(c - 0x20)
		case c >= 0x34 && c <= 0x37:
			b, err := r.byte()
			if err != nil {
				return nil, err
			}
			n = int(c-0x34)<<8 | int(b)
		case c == 'B', c == 'A':
			var err error
			if n, err = r.u16(); err != nil {
				return nil, err
			}
			final = c == 'B'
		default:
			r.pos--
			return nil, r.errorf("expected binary data, got code 0x%02x", c)
		}
		b, err := r.take(n)
		if err != nil {
			return nil, err
		}
		out = append(out, b...)
		if final {
			return out, nil
		}
		if c, err = r.byte(); err != nil {
			return nil, err
		}
	}
}

// typeName reads a type: a string, or the number of one read before.
func (r *hessianReader) typeName() error {
	c, err := r.peek()
	if err != nil {
		return err
	}
	if c <= 0x1f || c >= 0x30 && c <= 0x33 || c == 'S' || c == 'R' {
		r.pos++
		s, err := r.str(c)
		if err != nil {
			return err
		}
		r.types = append(r.types, s)
		return nil
	}
	n, err := r.int()
	if err != nil {
		return err
	}
	if n < 0 || int(n) >= len(r.types) {
		return r.errorf("type reference %d to nothing", n)
	}
	return nil
}

func (r *hessianReader) length() (int, error) {
	n, err := r.int()
	if err != nil {
		return 0, err
	}
	if n < 0 || n > int64(len(r.b)-r.pos) {
		return 0, r.errorf("list length %d out of range", n)
	}
	return int(n), nil
}

func (r *hessianReader) list(c byte) (goja.Value, error) {
	typed := c == 'U' || c == 'V' || c >= 0x70 && c <= 0x77
	if typed {
		if err := r.typeName(); err != nil {
			return nil, err
		}
	}
	n := -1 // until 'Z'
	switch {
	case c == 'V', c == 'X':
		var err error
		if n, err = r.length(); err != nil {
			return nil, err
		}
	case c >= 0x70 && c <= 0x77:
		n = int(c - 0x70)
	case c >= 0x78:
		n = int(c - 0x78)
	}
	arr := r.rt.NewArray()
	r.refs = append(r.refs, arr)
	push, _ := goja.AssertFunction(arr.Get("push"))
	for i := 0; n < 0 || i < n; i++ {
		if n < 0 {
			p, err := r.peek()
			if err != nil {
				return nil, err
			}
			if p == 'Z' {
				r.pos++
				break
			}
		}
		v, err := r.element()
		if err != nil {
			return nil, err
		}
		push(arr, v)
	}
	return arr, nil
}

// element reads a value inside a container (a class definition there is
// followed by the value).
func (r *hessianReader) element() (goja.Value, error) {
	v, err := r.value()
	if err == nil && v == nil {
		err = errHessianEnd
	}
	return v, err
}

func (r *hessianReader) key(v goja.Value) string {
	if o, ok := v.(*goja.Object); ok && o.ClassName() == "Date" {
		return strconv.FormatInt(o.Export().(time.Time).UnixMilli(), 10)
	}
	return v.String()
}

func (r *hessianReader) hmap(c byte) (goja.Value, error) {
	if c == 'M' {
		if err := r.typeName(); err != nil {
			return nil, err
		}
	}
	obj := r.rt.NewObject()
	r.refs = append(r.refs, obj)
	for {
		p, err := r.peek()
		if err != nil {
			return nil, err
		}
		if p == 'Z' {
			r.pos++
			return obj, nil
		}
		k, err := r.element()
		if err != nil {
			return nil, err
		}
		v, err := r.element()
		if err != nil {
			return nil, err
		}
		obj.Set(r.key(k), v)
	}
}

func (r *hessianReader) classDef() error {
	c, err := r.byte()
	if err != nil {
		return err
	}
	if _, err := r.str(c); err != nil {
		return err
	}
	n, err := r.length()
	if err != nil {
		return err
	}
	fields := make([]string, n)
	for i := range fields {
		c, err := r.byte()
		if err != nil {
			return err
		}
		if fields[i], err = r.str(c); err != nil {
			return err
		}
	}
	r.classes = append(r.classes, fields)
	return nil
}

func (r *hessianReader) object(c byte) (goja.Value, error) {
	var def int64
	if c == 'O' {
		var err error
		if def, err = r.int(); err != nil {
			return nil, err
		}
	} else {
		def = int64(c - 0x60)
	}
	if def < 0 || int(def) >= len(r.classes) {
		return nil, r.errorf("object of undefined class %d", def)
	}
	obj := r.rt.NewObject()
	r.refs = append(r.refs, obj)
	for _, f := range r.classes[def] {
		v, err := r.element()
		if err != nil {
			return nil, err
		}
		obj.Set(f, v)
	}
	return obj, nil
}

// ---- encoding ----

type hessianWriter struct {
	b     []byte
	depth int
}

// hessianEncode writes v; an array at the top is a sequence of values.
func hessianEncode(v goja.Value) ([]byte, error) {
	w := &hessianWriter{}
	if o, ok := v.(*goja.Object); ok && o.ClassName() == "Array" {
		for _, e := range arrayItems(o) {
			if err := w.value(e); err != nil {
				return nil, err
			}
		}
		return w.b, nil
	}
	if err := w.value(v); err != nil {
		return nil, err
	}
	return w.b, nil
}

func (w *hessianWriter) value(v goja.Value) error {
	w.depth++
	defer func() { w.depth-- }()
	if w.depth > hessianMaxDepth {
		return errors.New("nesting too deep (does a value contain itself?)")
	}
	if engine.IsNullish(v) {
		w.b = append(w.b, 'N')
		return nil
	}
	if d, ok := engine.AsData(v); ok {
		w.binary(d.Bytes())
		return nil
	}
	switch x := v.Export().(type) {
	case bool:
		if x {
			w.b = append(w.b, 'T')
		} else {
			w.b = append(w.b, 'F')
		}
		return nil
	case int64:
		w.integer(x)
		return nil
	case float64:
		if x == math.Trunc(x) && x >= -(1<<63) && x < 1<<63 && !math.IsInf(x, 0) {
			w.integer(int64(x))
			return nil
		}
		w.b = append(w.b, 'D')
		w.b = binary.BigEndian.AppendUint64(w.b, math.Float64bits(x))
		return nil
	case string:
		w.str(x)
		return nil
	case time.Time:
		w.b = append(w.b, 0x4a)
		w.b = binary.BigEndian.AppendUint64(w.b, uint64(x.UnixMilli()))
		return nil
	case goja.ArrayBuffer:
		w.binary(x.Bytes())
		return nil
	}
	o, ok := v.(*goja.Object)
	if !ok {
		w.str(v.String())
		return nil
	}
	if _, isFn := goja.AssertFunction(v); isFn {
		w.b = append(w.b, 'N')
		return nil
	}
	if o.ClassName() == "Array" {
		w.b = append(w.b, 0x57)
		for _, e := range arrayItems(o) {
			if err := w.value(e); err != nil {
				return err
			}
		}
		w.b = append(w.b, 'Z')
		return nil
	}
	w.b = append(w.b, 'H')
	for _, k := range o.Keys() {
		w.str(k)
		if err := w.value(o.Get(k)); err != nil {
			return err
		}
	}
	w.b = append(w.b, 'Z')
	return nil
}

func (w *hessianWriter) integer(n int64) {
	switch {
	case n >= -16 && n <= 47:
		w.b = append(w.b, byte(n+0x90))
	case n >= -2048 && n <= 2047:
		w.b = append(w.b, byte(0xc8+(n>>8)), byte(n))
	case n >= -262144 && n <= 262143:
		w.b = append(w.b, byte(0xd4+(n>>16)), byte(n>>8), byte(n))
	case n >= math.MinInt32 && n <= math.MaxInt32:
		w.b = append(w.b, 'I')
		w.b = binary.BigEndian.AppendUint32(w.b, uint32(n))
	default:
		w.b = append(w.b, 'L')
		w.b = binary.BigEndian.AppendUint64(w.b, uint64(n))
	}
}

// str writes s in chunks of at most 0xffff UTF-16 units, each unit as
// Java writes it (supplementary characters as two three-byte surrogates).
func (w *hessianWriter) str(s string) {
	units := utf16.Encode([]rune(s))
	for {
		n := len(units)
		if n > 0xffff {
			w.b = append(w.b, 'R', 0xff, 0xff)
			w.units(units[:0xffff])
			units = units[0xffff:]
			continue
		}
		switch {
		case n < 32:
			w.b = append(w.b, byte(n))
		case n < 1024:
			w.b = append(w.b, byte(0x30+n>>8), byte(n))
		default:
			w.b = append(w.b, 'S', byte(n>>8), byte(n))
		}
		w.units(units)
		return
	}
}

func (w *hessianWriter) units(us []uint16) {
	for _, u := range us {
		switch {
		case u < 0x80:
			w.b = append(w.b, byte(u))
		case u < 0x800:
			w.b = append(w.b, byte(0xc0|u>>6), byte(0x80|u&0x3f))
		default:
			w.b = append(w.b, byte(0xe0|u>>12), byte(0x80|u>>6&0x3f), byte(0x80|u&0x3f))
		}
	}
}

func (w *hessianWriter) binary(b []byte) {
	for len(b) > 0xffff {
		w.b = append(w.b, 'A', 0xff, 0xff)
		w.b = append(w.b, b[:0xffff]...)
		b = b[0xffff:]
	}
	switch n := len(b); {
	case n < 16:
		w.b = append(w.b, byte(0x20+n))
	case n < 1024:
		w.b = append(w.b, byte(0x34+n>>8), byte(n))
	default:
		w.b = append(w.b, 'B', byte(n>>8), byte(n))
	}
	w.b = append(w.b, b...)
}
