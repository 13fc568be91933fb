package filters_test

import (
	"encoding/binary"
	"io"
	"testing"
)

func dubboFrame(flags, status byte, id uint64, body []byte) []byte {
	h := make([]byte, 16, 16+len(body))
	h[0], h[1], h[2], h[3] = 0xda, 0xbb, flags, status
	binary.BigEndian.PutUint64(h[4:], id)
	binary.BigEndian.PutUint32(h[12:], uint32(len(body)))
	return append(h, body...)
}

func TestDubboDecodeHeads(t *testing.T) {
	in := run(t, `
pipy()
.listen('127.0.0.1:$PORT')
  .decodeDubbo()
  .replaceMessage(msg => new Message(JSON.stringify(msg.head) + '|' + msg.body.toString() + '\n'))
`, nil)
	wire := append(dubboFrame(0xc2, 0, 1234567890123, []byte("request body")), dubboFrame(0x02, 20, 7, nil)...)
	wire = append(wire, dubboFrame(0xe2, 0, 1<<63|5, []byte("hb"))...)
	c := dial(t, in.addr)
	for _, b := range wire { // a byte at a time
		c.c.Write([]byte{b})
	}
	for _, want := range []string{
		`{"id":"1234567890123","status":0,"isRequest":true,"isTwoWay":true,"isEvent":false}|request body`,
		`{"id":"7","status":20,"isRequest":false,"isTwoWay":false,"isEvent":false}|`,
		`{"id":"-9223372036854775803","status":0,"isRequest":true,"isTwoWay":true,"isEvent":true}|hb`,
	} {
		l, err := c.br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		mustEqual(t, "head", l[:len(l)-1], want)
	}
}

func TestDubboRoundTrip(t *testing.T) {
	in := run(t, `
pipy()
.listen('127.0.0.1:$PORT')
  .decodeDubbo()
  .encodeDubbo()
`, nil)
	wire := append(dubboFrame(0xc2, 0, 42, bigBody(100000)), dubboFrame(0x02, 20, 43, []byte("ok"))...)
	wire = append(wire, dubboFrame(0xe2, 0, 44, nil)...)
	c := dial(t, in.addr)
	go c.c.Write(wire)
	got := make([]byte, len(wire))
	if _, err := io.ReadFull(c.br, got); err != nil {
		t.Fatal(err)
	}
	mustEqualBytes(t, "frames", got, wire)
}

// encodeDubbo's head fills in what the message head lacks: a response keeps
// its request's id.
func TestDubboEncodeHead(t *testing.T) {
	in := run(t, `
pipy()
.listen('127.0.0.1:$PORT')
  .decodeDubbo()
  .replaceMessage(msg => new Message({ id: msg.head.id }, 'reply to ' + msg.body.toString()))
  .encodeDubbo({ isRequest: false, isTwoWay: false })
`, nil)
	c := dial(t, in.addr)
	c.write(string(dubboFrame(0xc2, 0, 99, []byte("ping"))))
	c.expect(string(dubboFrame(0x02, 20, 99, []byte("reply to ping"))))

	in = run(t, `
pipy()
.listen('127.0.0.1:$PORT')
  .decodeDubbo()
  .replaceMessage(msg => new Message('x'))
  .encodeDubbo(() => ({ status: 70, isRequest: false }))
`, nil)
	c = dial(t, in.addr)
	c.write(string(dubboFrame(0xc2, 0, 99, nil)))
	c.write(string(dubboFrame(0xc2, 0, 99, nil)))
	// No id anywhere: ids count from 0.
	c.expect(string(dubboFrame(0x42, 70, 0, []byte("x"))))
	c.expect(string(dubboFrame(0x42, 70, 1, []byte("x"))))
}

func TestDubboMalformed(t *testing.T) {
	in := run(t, `pipy().listen('127.0.0.1:$PORT').decodeDubbo().encodeDubbo()`, nil)
	for _, wire := range [][]byte{
		append([]byte{0xca, 0xfe}, make([]byte, 14)...),
		{0xda, 0xbb, 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0x80, 0, 0, 0},
	} {
		c := dial(t, in.addr)
		c.write(string(wire))
		c.expectClosed()
	}
	msg := loadError(t, "pipy()\n.listen(8000)\n  .encodeDubbo(42)\n", nil)
	mustContain(t, "load error", msg, "main.js:3:", "head must be an object or a function")
}
