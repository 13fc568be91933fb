package filters

import (
	"fmt"
	"testing"

	"github.com/dop251/goja"
)

func mqttDecodeAll(input []byte, split, level int) ([]*mqttPacket, error) {
	d := &mqttDecoder{levelDefault: func() (int, error) { return level, nil }}
	var pkts []*mqttPacket
	emit := func(p *mqttPacket) error { pkts = append(pkts, p); return nil }
	for len(input) > 0 {
		n := min(split, len(input))
		if err := d.feed(input[:n], emit); err != nil {
			return pkts, err
		}
		input = input[n:]
	}
	return pkts, nil
}

func mqttDump(pkts []*mqttPacket) string {
	s := ""
	for _, p := range pkts {
		s += fmt.Sprintf("%v %q\n", p.head, p.payload)
	}
	return s
}

// FuzzMQTTDecoder: any input, cut anywhere, never panics; what decodes
// goes through the script representation and encodeMQTT and decodes to the
// same packets again.
func FuzzMQTTDecoder(f *testing.F) {
	seeds := [][]byte{
		{0x10, 0x10, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x02, 0, 60, 0, 4, 'a', 'b', 'c', 'd'},
		{0x30, 0x07, 0, 3, 'a', '/', 'b', 'h', 'i'},
		{0x32, 0x09, 0, 3, 'a', '/', 'b', 0, 7, 'h', 'i'},
		{0x82, 0x08, 0, 1, 0, 3, 'a', '/', '#', 1},
		{0x90, 0x04, 0, 1, 1, 0x80},
		{0xa2, 0x07, 0, 2, 0, 3, 'a', '/', '#'},
		{0xc0, 0}, {0xd0, 0}, {0xe0, 0},
		{0x10, 0x0d, 0, 4, 'M', 'Q', 'T', 'T', 5, 0x02, 0, 60, 0, 0, 0},
		{0x20, 0x0b, 1, 0, 8, 18, 0, 1, 'x', 36, 1, 38, 0},
		{0x30, 0x0c, 0, 1, 'x', 7, 3, 0, 1, 'a', 11, 5, 9, 0},
		{0xf0, 0x09, 0x18, 7, 21, 0, 4, 'S', 'C', 'R', 'M'},
		{0x00, 0x00}, {0x30, 0xff, 0xff, 0xff, 0xff, 0x7f},
	}
	for i, s := range seeds {
		f.Add(s, uint8(i%7), uint8(4+i%2))
	}
	rt := goja.New()
	data := func(b []byte) goja.Value { return rt.ToValue(rt.NewArrayBuffer(b)) }
	f.Fuzz(func(t *testing.T, input []byte, split, lv uint8) {
		level := 3 + int(lv)%3
		pkts, err := mqttDecodeAll(input, int(split)+1, level)
		whole, err2 := mqttDecodeAll(input, len(input)+1, level)
		if (err == nil) != (err2 == nil) || mqttDump(pkts) != mqttDump(whole) {
			t.Fatalf("split %d changed the result", split)
		}
		if err != nil {
			return
		}
		var wire []byte
		elevel := level
		for _, p := range pkts {
			if p.clash {
				return // a user property named like a standard one reads back as that one
			}
			h := mqttToJS(rt, p.head, data)
			if wire, err = mqttEncode(wire, &elevel, h, p.payload); err != nil {
				t.Fatalf("encode %v: %v", p.head, err)
			}
		}
		again, err := mqttDecodeAll(wire, len(wire)+1, level)
		if err != nil {
			t.Fatalf("re-encoded packets do not decode: %v\n%s", err, mqttDump(pkts))
		}
		if a, b := mqttDump(again), mqttDump(pkts); a != b {
			t.Fatalf("round trip:\n%s\nwant\n%s", a, b)
		}
	})
}
