package filters_test

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
	"strings"
	"testing"
)

type wsFrame struct {
	fin, rsv1 bool
	opcode    byte
	masked    bool
	payload   []byte
}

// wsBytes encodes a frame as a client would (masked) or a server (not).
func wsBytes(f wsFrame) []byte {
	b0 := f.opcode
	if f.fin {
		b0 |= 0x80
	}
	if f.rsv1 {
		b0 |= 0x40
	}
	var m byte
	if f.masked {
		m = 0x80
	}
	out := []byte{b0}
	n := len(f.payload)
	switch {
	case n < 126:
		out = append(out, m|byte(n))
	case n <= 0xffff:
		out = append(out, m|126, byte(n>>8), byte(n))
	default:
		out = append(out, m|127)
		out = binary.BigEndian.AppendUint64(out, uint64(n))
	}
	if !f.masked {
		return append(out, f.payload...)
	}
	mask := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	out = append(out, mask[:]...)
	for i, c := range f.payload {
		out = append(out, c^mask[i&3])
	}
	return out
}

// readWSFrame reads one frame and unmasks it.
func readWSFrame(t *testing.T, br *bufio.Reader) wsFrame {
	t.Helper()
	var h [2]byte
	if _, err := io.ReadFull(br, h[:]); err != nil {
		t.Fatalf("read frame header: %v", err)
	}
	f := wsFrame{fin: h[0]&0x80 != 0, rsv1: h[0]&0x40 != 0, opcode: h[0] & 0x0f, masked: h[1]&0x80 != 0}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		io.ReadFull(br, b[:])
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		io.ReadFull(br, b[:])
		n = binary.BigEndian.Uint64(b[:])
	}
	var mask [4]byte
	if f.masked {
		io.ReadFull(br, mask[:])
	}
	f.payload = make([]byte, n)
	if _, err := io.ReadFull(br, f.payload); err != nil {
		t.Fatalf("read frame payload: %v", err)
	}
	if f.masked {
		for i := range f.payload {
			f.payload[i] ^= mask[i&3]
		}
	}
	return f
}

// wsEcho answers each message with one that describes it and carries its
// body, as the server side of a WebSocket.
const wsEcho = `
pipy()
.listen('127.0.0.1:$PORT')
  .decodeWebSocket()
  .replaceMessage(
    msg => [
      new Message({ opcode: 1 }, JSON.stringify(msg.head)),
      new Message({ opcode: msg.head.opcode, masked: $MASKED, compressed: msg.head.compressed }, msg.body),
    ]
  )
  .encodeWebSocket()
`

func expectWSMessage(t *testing.T, br *bufio.Reader, head string, opcode byte, masked bool, payload []byte) {
	t.Helper()
	f := readWSFrame(t, br)
	if f.opcode != 1 || !f.fin || f.masked {
		t.Fatalf("description frame: %+v", f)
	}
	mustEqual(t, "head", string(f.payload), head)
	// The echo: possibly several frames.
	var got []byte
	for i := 0; ; i++ {
		f = readWSFrame(t, br)
		want := opcode
		if i > 0 {
			want = 0
		}
		if f.opcode != want || f.masked != masked {
			t.Fatalf("echo frame %d: opcode %d masked %v, want %d %v", i, f.opcode, f.masked, want, masked)
		}
		got = append(got, f.payload...)
		if f.fin {
			break
		}
		if len(f.payload) != 16<<10 {
			t.Fatalf("non-final frame of %d bytes", len(f.payload))
		}
	}
	mustEqualBytes(t, "echoed payload", got, payload)
}

func TestWebSocketEchoOverSocket(t *testing.T) {
	in := run(t, wsEcho, nil, "$MASKED", "false")
	c := dial(t, in.addr)
	br := c.br

	// A masked text frame, as a client sends it.
	c.write(string(wsBytes(wsFrame{fin: true, opcode: 1, masked: true, payload: []byte("hello")})))
	expectWSMessage(t, br, `{"opcode":1,"masked":true,"fin":true}`, 1, false, []byte("hello"))

	// Unmasked binary, empty.
	c.write(string(wsBytes(wsFrame{fin: true, opcode: 2})))
	expectWSMessage(t, br, `{"opcode":2,"masked":false,"fin":true}`, 2, false, nil)

	// A message in three fragments with a ping between them, written one
	// byte at a time.
	var wire []byte
	wire = append(wire, wsBytes(wsFrame{opcode: 1, masked: true, payload: []byte("frag")})...)
	wire = append(wire, wsBytes(wsFrame{fin: true, opcode: 9, masked: true, payload: []byte("ping!")})...)
	wire = append(wire, wsBytes(wsFrame{opcode: 0, masked: true, payload: []byte("men")})...)
	wire = append(wire, wsBytes(wsFrame{fin: true, opcode: 0, masked: true, payload: []byte("ted")})...)
	for _, b := range wire {
		c.write(string([]byte{b}))
	}
	expectWSMessage(t, br, `{"opcode":1,"masked":true,"fin":true}`, 1, false, []byte("fragmented"))
	expectWSMessage(t, br, `{"opcode":9,"masked":true,"fin":true}`, 9, false, []byte("ping!"))

	// 16-bit and 64-bit lengths; the echo is split into 16 KiB frames.
	for _, n := range []int{200, 70000, 1 << 20} {
		p := bigBody(n)
		c.write(string(wsBytes(wsFrame{fin: true, opcode: 2, masked: true, payload: p})))
		expectWSMessage(t, br, `{"opcode":2,"masked":true,"fin":true}`, 2, false, p)
	}

	// RSV1 (permessage-deflate) is carried through.
	c.write(string(wsBytes(wsFrame{fin: true, rsv1: true, opcode: 1, payload: []byte("zz")})))
	f := readWSFrame(t, br)
	mustEqual(t, "head", string(f.payload), `{"opcode":1,"masked":false,"fin":true,"compressed":true}`)
	f = readWSFrame(t, br)
	if !f.rsv1 || string(f.payload) != "zz" {
		t.Fatalf("compressed echo: %+v", f)
	}

	// Close.
	c.write(string(wsBytes(wsFrame{fin: true, opcode: 8, masked: true, payload: []byte{0x03, 0xe8}})))
	expectWSMessage(t, br, `{"opcode":8,"masked":true,"fin":true}`, 8, false, []byte{0x03, 0xe8})
}

func TestWebSocketEncodeMasksForClients(t *testing.T) {
	in := run(t, wsEcho, nil, "$MASKED", "true")
	c := dial(t, in.addr)
	p := bigBody(40000)
	c.write(string(wsBytes(wsFrame{fin: true, opcode: 2, payload: p})))
	expectWSMessage(t, c.br, `{"opcode":2,"masked":false,"fin":true}`, 2, true, p)
}

func TestWebSocketEncodeFragmentsAcrossMessages(t *testing.T) {
	in := run(t, `
pipy()
.listen('127.0.0.1:$PORT')
  .decodeWebSocket()
  .replaceMessage(
    msg => [
      new Message({ opcode: 1, fin: false }, 'ab'),
      new Message({ opcode: 9 }, 'p'),
      new Message({ fin: false }, 'cd'),
      new Message({}, 'ef'),
      new Message({ opcode: 2 }, 'gh'),
    ]
  )
  .encodeWebSocket()
`, nil)
	c := dial(t, in.addr)
	c.write(string(wsBytes(wsFrame{fin: true, opcode: 1, masked: true, payload: []byte("go")})))
	for _, want := range []wsFrame{
		{fin: false, opcode: 1, payload: []byte("ab")},
		{fin: true, opcode: 9, payload: []byte("p")},
		{fin: false, opcode: 0, payload: []byte("cd")},
		{fin: true, opcode: 0, payload: []byte("ef")},
		{fin: true, opcode: 2, payload: []byte("gh")},
	} {
		got := readWSFrame(t, c.br)
		if got.fin != want.fin || got.opcode != want.opcode || !bytes.Equal(got.payload, want.payload) {
			t.Fatalf("frame: got fin=%v op=%d %q, want fin=%v op=%d %q", got.fin, got.opcode, got.payload, want.fin, want.opcode, want.payload)
		}
	}
}

func TestWebSocketMalformedFramesEndTheStream(t *testing.T) {
	in := run(t, wsEcho, nil, "$MASKED", "false")
	for _, tc := range []struct {
		name string
		wire []byte
	}{
		{"reserved opcode", []byte{0x83, 0x00}},
		{"reserved bits", []byte{0xa1, 0x00}},
		{"fragmented control frame", []byte{0x09, 0x00}},
		{"oversized control frame", append([]byte{0x89, 126, 0, 200}, make([]byte, 200)...)},
		{"continuation without a message", []byte{0x80, 0x00}},
		{"data frame inside a fragmented message", []byte{0x01, 0x01, 'a', 0x81, 0x01, 'b'}},
		{"64-bit length with the top bit set", []byte{0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 1}},
		{"compressed continuation", []byte{0x01, 0x01, 'a', 0xc0, 0x01, 'b'}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, in.addr)
			c.write(string(tc.wire))
			b, _ := io.ReadAll(c.br)
			// Nothing but the messages before the bad frame, then the close.
			if len(b) > 0 && !strings.Contains(string(b), `"opcode"`) {
				t.Fatalf("unexpected output %q", b)
			}
		})
	}
}

func TestWebSocketBadHeadsInEncoder(t *testing.T) {
	for _, tc := range []struct{ head, body string }{
		{"{ opcode: 3 }", "'x'"},
		{"{ opcode: 9, fin: false }", "'x'"},
		{"{ opcode: 10 }", "'x'.repeat(126)"},
	} {
		t.Run(tc.head, func(t *testing.T) {
			in := run(t, `
pipy()
.listen('127.0.0.1:$PORT')
  .decodeWebSocket()
  .replaceMessage(() => new Message($HEAD, $BODY))
  .encodeWebSocket()
`, nil, "$HEAD", tc.head, "$BODY", tc.body)
			c := dial(t, in.addr)
			c.write(string(wsBytes(wsFrame{fin: true, opcode: 1, masked: true, payload: []byte("go")})))
			c.expectClosed()
		})
	}
}
