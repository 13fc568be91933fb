package filters

import (
	"bytes"
	"fmt"
	"testing"
)

// wsCollect records what a wsDecoder finds, one string per message.
type wsCollect struct {
	msgs []wsMsg
	cur  *wsMsg
}

type wsMsg struct {
	opcode             byte
	masked, compressed bool
	payload            []byte
}

func (c *wsCollect) wsStart(op byte, masked, compressed bool) {
	if c.cur != nil {
		panic("message started inside a message")
	}
	c.cur = &wsMsg{opcode: op, masked: masked, compressed: compressed}
}

func (c *wsCollect) wsData(b []byte) {
	if c.cur == nil {
		panic("data outside a message")
	}
	c.cur.payload = append(c.cur.payload, b...)
}

func (c *wsCollect) wsEnd() {
	if c.cur == nil {
		panic("end outside a message")
	}
	c.msgs = append(c.msgs, *c.cur)
	c.cur = nil
}

func wsDecodeAll(input []byte, split int) ([]wsMsg, error) {
	c := &wsCollect{}
	d := &wsDecoder{h: c}
	for len(input) > 0 {
		n := min(split, len(input))
		if err := d.feed(input[:n]); err != nil {
			return c.msgs, err
		}
		input = input[n:]
	}
	return c.msgs, nil
}

// FuzzWebSocketDecoder: any input, cut anywhere, never panics and never
// breaks message nesting; what decodes re-encodes (one frame per message,
// masked or not as it came) to the same messages.
func FuzzWebSocketDecoder(f *testing.F) {
	mask := [4]byte{1, 2, 3, 4}
	seed := func(frames ...[]byte) []byte { return bytes.Join(frames, nil) }
	f.Add(wsAppendFrame(nil, 1, true, false, true, mask, []byte("hello")), uint8(1))
	f.Add(seed(
		wsAppendFrame(nil, 1, false, false, false, mask, []byte("frag")),
		wsAppendFrame(nil, 9, true, false, true, mask, []byte("ping")),
		wsAppendFrame(nil, 0, true, false, false, mask, []byte("ment")),
	), uint8(3))
	f.Add(wsAppendFrame(nil, 2, true, true, false, mask, bytes.Repeat([]byte{7}, 300)), uint8(100))
	f.Add(wsAppendFrame(nil, 2, true, false, true, mask, bytes.Repeat([]byte{9}, 70000)), uint8(255))
	f.Add([]byte{0x88, 0x02, 0x03, 0xe8}, uint8(2))
	f.Add([]byte{0x83, 0x00}, uint8(1))
	f.Add([]byte{0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 1}, uint8(4))
	f.Fuzz(func(t *testing.T, input []byte, split uint8) {
		msgs, err := wsDecodeAll(input, int(split)+1)
		// The whole input at once decodes the same as in pieces.
		whole, err2 := wsDecodeAll(input, len(input)+1)
		if (err == nil) != (err2 == nil) || fmt.Sprint(msgs) != fmt.Sprint(whole) {
			t.Fatalf("split %d changed the result: %v %v / %v %v", split, msgs, err, whole, err2)
		}
		if err != nil {
			return
		}
		var wire []byte
		for _, m := range msgs {
			wire = wsAppendFrame(wire, m.opcode, true, m.compressed, m.masked, mask, m.payload)
		}
		again, err := wsDecodeAll(wire, len(wire)+1)
		if err != nil {
			t.Fatalf("re-encoded messages do not decode: %v", err)
		}
		if fmt.Sprint(again) != fmt.Sprint(msgs) {
			t.Fatalf("round trip: %v, want %v", again, msgs)
		}
	})
}
