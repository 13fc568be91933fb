package filters_test

import (
	"bytes"
	"encoding/binary"
	"io"
	"strings"
	"testing"
	"time"
)

// Hand-built MQTT packets.

func mqStr(s string) []byte { return append(binary.BigEndian.AppendUint16(nil, uint16(len(s))), s...) }
func mqU16(n int) []byte    { return binary.BigEndian.AppendUint16(nil, uint16(n)) }
func mqU32(n int) []byte    { return binary.BigEndian.AppendUint32(nil, uint32(n)) }

func mqVarint(n int) []byte {
	var b []byte
	for {
		c := byte(n & 0x7f)
		n >>= 7
		if n > 0 {
			c |= 0x80
		}
		b = append(b, c)
		if n == 0 {
			return b
		}
	}
}

func mqCat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func mqPacket(first byte, body ...[]byte) []byte {
	b := mqCat(body...)
	return mqCat([]byte{first}, mqVarint(len(b)), b)
}

func mqProps(props ...[]byte) []byte {
	b := mqCat(props...)
	return mqCat(mqVarint(len(b)), b)
}

var (
	mq3Connect = mqPacket(0x10, mqStr("MQTT"), []byte{4, 0xee}, mqU16(60), mqStr("client-1"),
		mqStr("bye"), mqStr("gone"), mqStr("user"), mqStr("pw"))
	mq3Publish1  = mqPacket(0x3b, mqStr("a/b"), mqU16(7), []byte("hello"))
	mq3Publish0  = mqPacket(0x30, mqStr("t"))
	mq3Subscribe = mqPacket(0x82, mqU16(1), mqStr("a/#"), []byte{1}, mqStr("b"), []byte{0})
	mq3Suback    = mqPacket(0x90, mqU16(1), []byte{1, 0x80})
	mq3Unsub     = mqPacket(0xa2, mqU16(2), mqStr("a/#"))
	mq3Unsuback  = mqPacket(0xb0, mqU16(2))
	mq3Puback    = mqPacket(0x40, mqU16(7))
	mq3Pubrel    = mqPacket(0x62, mqU16(7))
	mq3Connack   = mqPacket(0x20, []byte{1, 0})
	mq3Ping      = []byte{0xc0, 0}
	mq3Pong      = []byte{0xd0, 0}
	mq3Disc      = []byte{0xe0, 0}

	mq5Connect = mqPacket(0x10, mqStr("MQTT"), []byte{5, 0x06}, mqU16(30),
		mqProps([]byte{17}, mqU32(3600), []byte{33}, mqU16(10), []byte{38}, mqStr("region"), mqStr("eu")),
		mqStr("c5"),
		mqProps([]byte{24}, mqU32(5)), mqStr("will/t"), mqStr("w"))
	mq5Publish = mqPacket(0x30, mqStr("x"),
		mqProps([]byte{3}, mqStr("text/plain"), []byte{9}, mqStr("cd"), []byte{11}, mqVarint(5), []byte{11}, mqVarint(300), []byte{35}, mqU16(3)),
		[]byte("payload"))
	mq5Subscribe = mqPacket(0x82, mqU16(9), mqProps([]byte{11}, mqVarint(9)), mqStr("s/+"), []byte{0x2e})
	mq5Puback    = mqPacket(0x40, mqU16(7), []byte{0x10}, mqProps([]byte{31}, mqStr("no subscribers")))
	mq5Connack   = mqPacket(0x20, []byte{1, 0}, mqProps([]byte{18}, mqStr("x"), []byte{36}, []byte{1}))
	mq5Unsuback  = mqPacket(0xb0, mqU16(2), mqProps(), []byte{0, 0x11})
	mq5Auth      = mqPacket(0xf0, []byte{0x18}, mqProps([]byte{21}, mqStr("SCRAM")))
	mq5Disc      = mqPacket(0xe0, []byte{0}, mqProps())
)

// mqttDescribe answers each packet with a line: the head as JSON (Data
// shown as text) and the body.
const mqttDescribe = `
pipy()
.listen('127.0.0.1:$PORT')
  .decodeMQTT($OPTS)
  .replaceMessage(
    msg => new Message(
      JSON.stringify(msg.head, (k, v) => v instanceof Data ? 'Data:' + v.toString() : v) +
      '|' + msg.body.toString() + '\n'
    )
  )
`

func mqttLines(t *testing.T, addr string, wire []byte, n int) []string {
	t.Helper()
	c := dial(t, addr)
	// In small pieces, to cross every boundary.
	for len(wire) > 0 {
		k := min(3, len(wire))
		c.write(string(wire[:k]))
		wire = wire[k:]
	}
	var lines []string
	for range n {
		l, err := c.br.ReadString('\n')
		if err != nil {
			t.Fatalf("read line %d: %v (got %q)", len(lines), err, lines)
		}
		lines = append(lines, strings.TrimSuffix(l, "\n"))
	}
	return lines
}

func TestMQTTDecode311(t *testing.T) {
	in := run(t, mqttDescribe, nil, "$OPTS", "")
	wire := mqCat(mq3Connect, mq3Publish1, mq3Publish0, mq3Subscribe, mq3Suback, mq3Unsub, mq3Unsuback,
		mq3Puback, mq3Pubrel, mq3Connack, mq3Ping, mq3Pong, mq3Disc)
	want := []string{
		`{"type":"CONNECT","protocolLevel":4,"keepAlive":60,"clientID":"client-1","cleanStart":true,"will":{"qos":1,"retain":true,"topic":"bye","payload":"Data:gone"},"username":"user","password":"Data:pw"}|`,
		`{"type":"PUBLISH","qos":1,"dup":true,"retain":true,"topicName":"a/b","packetIdentifier":7}|hello`,
		`{"type":"PUBLISH","qos":0,"dup":false,"retain":false,"topicName":"t"}|`,
		`{"type":"SUBSCRIBE","packetIdentifier":1,"topicFilters":[{"filter":"a/#","qos":1},{"filter":"b","qos":0}]}|`,
		`{"type":"SUBACK","packetIdentifier":1,"reasonCodes":[1,128]}|`,
		`{"type":"UNSUBSCRIBE","packetIdentifier":2,"topicFilters":["a/#"]}|`,
		`{"type":"UNSUBACK","packetIdentifier":2}|`,
		`{"type":"PUBACK","packetIdentifier":7,"reasonCode":0}|`,
		`{"type":"PUBREL","packetIdentifier":7,"reasonCode":0}|`,
		`{"type":"CONNACK","protocolLevel":4,"sessionPresent":true,"reasonCode":0}|`,
		`{"type":"PINGREQ"}|`,
		`{"type":"PINGRESP"}|`,
		`{"type":"DISCONNECT","reasonCode":0}|`,
	}
	got := mqttLines(t, in.addr, wire, len(want))
	for i := range want {
		mustEqual(t, "packet "+want[i][:min(20, len(want[i]))], got[i], want[i])
	}
}

func TestMQTTDecode5(t *testing.T) {
	in := run(t, mqttDescribe, nil, "$OPTS", "")
	wire := mqCat(mq5Connect, mq5Publish, mq5Subscribe, mq5Puback, mq5Unsuback, mq5Auth, mq5Disc)
	want := []string{
		`{"type":"CONNECT","protocolLevel":5,"keepAlive":30,"properties":{"sessionExpiryInterval":3600,"receiveMaximum":10,"region":"eu"},"clientID":"c5","cleanStart":true,"will":{"qos":0,"retain":false,"properties":{"willDelayInterval":5},"topic":"will/t","payload":"Data:w"}}|`,
		`{"type":"PUBLISH","qos":0,"dup":false,"retain":false,"topicName":"x","properties":{"contentType":"text/plain","correlationData":"Data:cd","subscriptionIdentifier":[5,300],"topicAlias":3}}|payload`,
		`{"type":"SUBSCRIBE","packetIdentifier":9,"properties":{"subscriptionIdentifier":9},"topicFilters":[{"filter":"s/+","qos":2,"noLocal":true,"retainAsPublished":true,"retainHandling":2}]}|`,
		`{"type":"PUBACK","packetIdentifier":7,"reasonCode":16,"properties":{"reasonString":"no subscribers"}}|`,
		`{"type":"UNSUBACK","packetIdentifier":2,"reasonCodes":[0,17]}|`,
		`{"type":"AUTH","reasonCode":24,"properties":{"authenticationMethod":"SCRAM"}}|`,
		`{"type":"DISCONNECT","reasonCode":0}|`,
	}
	got := mqttLines(t, in.addr, wire, len(want))
	for i := range want {
		mustEqual(t, "packet "+want[i][:min(20, len(want[i]))], got[i], want[i])
	}
}

func TestMQTTDecodeBrokerSideWithProtocolLevel(t *testing.T) {
	want := `{"type":"CONNACK","protocolLevel":5,"sessionPresent":true,"reasonCode":0,"properties":{"assignedClientIdentifier":"x","maximumQoS":1}}|`
	for _, opts := range []string{"{ protocolLevel: 5 }", "{ protocolLevel: () => 5 }"} {
		in := run(t, mqttDescribe, nil, "$OPTS", opts)
		got := mqttLines(t, in.addr, mq5Connack, 1)
		mustEqual(t, opts, got[0], want)
	}
}

// The codec pair reproduces canonical packets byte for byte.
func TestMQTTRoundTrip(t *testing.T) {
	in := run(t, `
pipy()
.listen('127.0.0.1:$PORT')
  .decodeMQTT()
  .encodeMQTT()
`, nil)
	for _, tc := range []struct {
		name string
		wire []byte
	}{
		{"3.1.1", mqCat(mq3Connect, mq3Publish1, mq3Publish0, mq3Subscribe, mq3Suback, mq3Unsub, mq3Unsuback,
			mq3Puback, mq3Pubrel, mq3Connack, mq3Ping, mq3Pong, mq3Disc)},
		{"5.0", mqCat(mq5Connect, mq5Publish, mq5Subscribe, mq5Puback, mq5Connack, mq5Unsuback, mq5Auth, mq5Disc)},
		{"big publish", mqPacket(0x32, mqStr("big"), mqU16(1), bigBody(300000))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, in.addr)
			go func() {
				for w := tc.wire; len(w) > 0; {
					k := min(1000, len(w))
					c.c.Write(w[:k])
					w = w[k:]
				}
			}()
			got := make([]byte, len(tc.wire))
			if _, err := io.ReadFull(c.br, got); err != nil {
				t.Fatalf("read: %v", err)
			}
			mustEqualBytes(t, "re-encoded packets", got, tc.wire)
		})
	}
}

// A tiny broker: encodeMQTT from heads a script builds.
func TestMQTTEncodeFromScript(t *testing.T) {
	in := run(t, `
pipy()
.listen('127.0.0.1:$PORT')
  .decodeMQTT()
  .replaceMessage(
    msg => (
      msg.head.type === 'CONNECT' ? new Message({ type: 'CONNACK', protocolLevel: msg.head.protocolLevel, sessionPresent: false, reasonCode: 0 }) :
      msg.head.type === 'SUBSCRIBE' ? new Message({ type: 'SUBACK', packetIdentifier: msg.head.packetIdentifier, reasonCodes: msg.head.topicFilters.map(f => f.qos) }) :
      msg.head.type === 'PUBLISH' ? new Message({ type: 'PUBLISH', topicName: 'echo/' + msg.head.topicName, qos: 1, packetIdentifier: 42, retain: true }, msg.body) :
      msg.head.type === 'PINGREQ' ? new Message({ type: 'PINGRESP' }) :
      msg.head.type === 'UNSUBSCRIBE' ? new Message({ type: 'BOGUS' }) :
      null
    )
  )
  .encodeMQTT()
`, nil)
	c := dial(t, in.addr)
	c.write(string(mqCat(mq3Connect, mq3Subscribe, mq3Publish1, mq3Unsub, mq3Ping)))
	want := mqCat(
		[]byte{0x20, 2, 0, 0},
		mqPacket(0x90, mqU16(1), []byte{1, 0}),
		mqPacket(0x33, mqStr("echo/a/b"), mqU16(42), []byte("hello")),
		// the BOGUS reply is dropped (with an error in the log)
		[]byte{0xd0, 0},
	)
	c.expect(string(want))

	// MQTT 5: properties, user properties, reason codes.
	c = dial(t, in.addr)
	c.write(string(mqCat(mq5Connect, mq5Publish)))
	// The script builds a fresh head without properties for the echo.
	c.expect(string(mqCat([]byte{0x20, 3, 0, 0, 0}, mqPacket(0x33, mqStr("echo/x"), mqU16(42), mqProps(), []byte("payload")))))
}

func TestMQTTEncodeProperties(t *testing.T) {
	in := run(t, `
pipy()
.listen('127.0.0.1:$PORT')
  .decodeMQTT()
  .replaceMessage(
    msg => new Message({
      type: 'PUBLISH', topicName: 't', qos: 0,
      properties: { contentType: 'a/b', correlationData: new Data('xy'), subscriptionIdentifier: [1, 2], trace: 'on' },
    }, 'p')
  )
  .encodeMQTT({ protocolLevel: 5 })
`, nil)
	c := dial(t, in.addr)
	c.write(string(mq3Ping))
	c.expect(string(mqPacket(0x30, mqStr("t"),
		mqProps([]byte{3}, mqStr("a/b"), []byte{9}, mqStr("xy"), []byte{11}, []byte{1}, []byte{11}, []byte{2}, []byte{38}, mqStr("trace"), mqStr("on")),
		[]byte("p"))))
}

func TestMQTTMalformedPacketsEndTheStream(t *testing.T) {
	in := run(t, mqttDescribe, nil, "$OPTS", "")
	for _, tc := range []struct {
		name string
		wire []byte
	}{
		{"reserved type 0", []byte{0x00, 0x00}},
		{"flags on CONNACK", []byte{0x21, 0x02, 0, 0}},
		{"QoS 3", []byte{0x36, 0x03, 0, 1, 't'}},
		{"SUBSCRIBE without flags 2", mqPacket(0x80, mqU16(1), mqStr("a"), []byte{0})},
		{"five-byte remaining length", []byte{0x30, 0xff, 0xff, 0xff, 0xff, 0x7f}},
		{"wrong protocol name", mqPacket(0x10, mqStr("MQTX"), []byte{4, 0}, mqU16(0), mqStr("c"))},
		{"unsupported level", mqPacket(0x10, mqStr("MQTT"), []byte{9, 0}, mqU16(0), mqStr("c"))},
		{"string past the end", mqPacket(0x30, mqU16(50), []byte("short"))},
		{"trailing bytes", mqPacket(0x40, mqU16(7), []byte{1, 2, 3})},
		{"unknown property", mqCat(mq5Connect, mqPacket(0x30, mqStr("x"), mqProps([]byte{99}, []byte{1})))},
		{"SUBSCRIBE with QoS 3", mqPacket(0x82, mqU16(1), mqStr("a"), []byte{3})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, in.addr)
			c.write(string(tc.wire))
			c.c.SetReadDeadline(time.Now().Add(5 * time.Second))
			b, err := io.ReadAll(c.br)
			if err != nil && !isReset(err) {
				t.Fatalf("want the connection closed: %v", err)
			}
			// A v5 CONNECT before the bad packet is still described.
			if n := strings.Count(string(b), "\n"); n > 1 {
				t.Fatalf("unexpected output %q", b)
			}
		})
	}
}

func TestMQTTBadOptions(t *testing.T) {
	for _, tc := range []struct{ filter, want string }{
		{"decodeMQTT({ protocolLevel: 6 })", "options.protocolLevel: expects 3, 4 (MQTT 3.1.1) or 5"},
		{"decodeMQTT(5)", "options must be an object"},
		{"encodeMQTT({ protocolLevel: 'five' })", "options.protocolLevel"},
		{"decodeMQTT({}, {})", "wrong number of arguments"},
	} {
		t.Run(tc.filter, func(t *testing.T) {
			msg := loadError(t, "pipy()\n.listen(8000)\n  ."+tc.filter+"\n", nil)
			mustContain(t, "load error", msg, "main.js:3:", tc.want)
		})
	}
}
