package filters

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/dop251/goja"

	"sluice/backend/engine"
	"sluice/backend/event"
	"sluice/backend/logging"
)

// decodeMQTT turns MQTT 3.1.1 (protocol level 4, also 3) and MQTT 5
// packets into messages: the head holds the packet type ('CONNECT',
// 'PUBLISH', ...) and its fields under Pipy's names, the body is the
// PUBLISH payload. encodeMQTT does the reverse. Both follow the protocol
// level a CONNECT announces; the side that never sees the CONNECT (a
// broker's replies) is told with the protocolLevel option.

func init() {
	engine.Register(&engine.FilterKind{
		Name:      "decodeMQTT",
		Signature: "decodeMQTT(options?: {protocolLevel?: 3 | 4 | 5 | () => number})",
		Help: "Decodes MQTT packets from Data into messages. The head has type ('CONNECT', 'CONNACK', 'PUBLISH', 'PUBACK', 'SUBSCRIBE', ...) and the packet's fields " +
			"(qos, dup, retain, topicName, packetIdentifier, clientID, keepAlive, will, username, password, reasonCode(s), topicFilters, properties, ...); the body is a PUBLISH payload. " +
			"The protocol level is taken from CONNECT, or from protocolLevel (default 4, MQTT 3.1.1). A malformed packet ends the stream with a ProtocolError.",
		Parse: func(b *engine.Builder, args []goja.Value) (engine.Config, error) {
			lv, err := parseMQTTOptions(args, "decodeMQTT(options?: {protocolLevel})")
			if err != nil {
				return nil, err
			}
			return configFunc(func(p *engine.Pipeline, next event.Target) engine.Filter {
				return &mqttDecodeFilter{p: p, next: next, level: lv}
			}), nil
		},
	})
	engine.Register(&engine.FilterKind{
		Name:      "encodeMQTT",
		Signature: "encodeMQTT(options?: {protocolLevel?: 3 | 4 | 5 | () => number})",
		Help: "Encodes messages into MQTT packets: the head gives type and the packet's fields as decodeMQTT produces them, the body is a PUBLISH payload. " +
			"The protocol level comes from a CONNECT (or CONNACK) head's protocolLevel, else from the option (default 4). A message with an unknown type is dropped with an error in the log.",
		Parse: func(b *engine.Builder, args []goja.Value) (engine.Config, error) {
			lv, err := parseMQTTOptions(args, "encodeMQTT(options?: {protocolLevel})")
			if err != nil {
				return nil, err
			}
			return configFunc(func(p *engine.Pipeline, next event.Target) engine.Filter {
				return &mqttEncodeFilter{p: p, next: next, opt: lv}
			}), nil
		},
	})
}

func parseMQTTOptions(args []goja.Value, sig string) (engine.Value, error) {
	if err := argCount(args, 0, 1, sig); err != nil {
		return engine.Value{}, err
	}
	if len(args) == 0 || engine.IsNullish(args[0]) {
		return engine.Value{}, nil
	}
	o, ok := args[0].(*goja.Object)
	if !ok {
		return engine.Value{}, fmt.Errorf("options must be an object; usage: %s", sig)
	}
	v := o.Get("protocolLevel")
	if engine.IsNullish(v) {
		return engine.Value{}, nil
	}
	lv := engine.NewValue(v)
	if !lv.IsFunc() {
		if _, err := mqttLevel(v); err != nil {
			return engine.Value{}, fmt.Errorf("options.protocolLevel: %v", err)
		}
	}
	return lv, nil
}

func mqttLevel(v goja.Value) (int, error) {
	switch n := v.Export().(type) {
	case int64:
		if n >= 3 && n <= 5 {
			return int(n), nil
		}
	case float64:
		if n == math.Trunc(n) && n >= 3 && n <= 5 {
			return int(n), nil
		}
	}
	return 0, fmt.Errorf("expects 3, 4 (MQTT 3.1.1) or 5 (MQTT 5.0), got %s", v.String())
}

// evalLevel evaluates the protocolLevel option (0 when unset).
func evalLevel(p *engine.Pipeline, v engine.Value) (int, error) {
	if v.Const == nil && v.Fn == nil {
		return 0, nil
	}
	x, err := v.Eval(p)
	if err != nil {
		return 0, err
	}
	if engine.IsNullish(x) {
		return 0, nil
	}
	return mqttLevel(x)
}

// ---- packet model ----

const (
	mqttCONNECT = iota + 1
	mqttCONNACK
	mqttPUBLISH
	mqttPUBACK
	mqttPUBREC
	mqttPUBREL
	mqttPUBCOMP
	mqttSUBSCRIBE
	mqttSUBACK
	mqttUNSUBSCRIBE
	mqttUNSUBACK
	mqttPINGREQ
	mqttPINGRESP
	mqttDISCONNECT
	mqttAUTH
)

var mqttTypeNames = [...]string{"", "CONNECT", "CONNACK", "PUBLISH", "PUBACK", "PUBREC", "PUBREL", "PUBCOMP",
	"SUBSCRIBE", "SUBACK", "UNSUBSCRIBE", "UNSUBACK", "PINGREQ", "PINGRESP", "DISCONNECT", "AUTH"}

func mqttTypeOf(name string) int {
	for i, n := range mqttTypeNames {
		if i > 0 && n == name {
			return i
		}
	}
	return 0
}

// mqttMaxRemaining is the largest remaining length the protocol encodes.
const mqttMaxRemaining = 268435455

// mqttObj is a decoded head or sub-object, in field order. Values are int,
// bool, string, []byte (Data), mqttObj or []any.
type mqttObj []mqttField

type mqttField struct {
	k string
	v any
}

func (o *mqttObj) set(k string, v any) { *o = append(*o, mqttField{k, v}) }

// add sets k, turning repeated keys into arrays (user properties and
// subscription identifiers may repeat).
func (o *mqttObj) add(k string, v any) {
	for i := range *o {
		f := &(*o)[i]
		if f.k == k {
			if arr, ok := f.v.([]any); ok {
				f.v = append(arr, v)
			} else {
				f.v = []any{f.v, v}
			}
			return
		}
	}
	o.set(k, v)
}

type mqttPropType int

const (
	propByte mqttPropType = iota
	propU16
	propU32
	propVarint
	propString
	propBinary
	propPair
)

type mqttProp struct {
	id   byte
	name string
	t    mqttPropType
}

var mqttProps = []mqttProp{
	{1, "payloadFormatIndicator", propByte},
	{2, "messageExpiryInterval", propU32},
	{3, "contentType", propString},
	{8, "responseTopic", propString},
	{9, "correlationData", propBinary},
	{11, "subscriptionIdentifier", propVarint},
	{17, "sessionExpiryInterval", propU32},
	{18, "assignedClientIdentifier", propString},
	{19, "serverKeepAlive", propU16},
	{21, "authenticationMethod", propString},
	{22, "authenticationData", propBinary},
	{23, "requestProblemInfo", propByte},
	{24, "willDelayInterval", propU32},
	{25, "requestResponseInfo", propByte},
	{26, "responseInfo", propString},
	{28, "serverReference", propString},
	{31, "reasonString", propString},
	{33, "receiveMaximum", propU16},
	{34, "topicAliasMaximum", propU16},
	{35, "topicAlias", propU16},
	{36, "maximumQoS", propByte},
	{37, "retainAvailable", propByte},
	{38, "", propPair}, // user property: name and value go into properties as they are
	{39, "maximumPacketSize", propU32},
	{40, "wildcardSubscriptionAvailable", propByte},
	{41, "subscriptionIdentifierAvailable", propByte},
	{42, "sharedSubscriptionAvailable", propByte},
}

var (
	mqttPropByID   = map[byte]*mqttProp{}
	mqttPropByName = map[string]*mqttProp{}
)

func init() {
	for i := range mqttProps {
		p := &mqttProps[i]
		mqttPropByID[p.id] = p
		if p.name != "" {
			mqttPropByName[p.name] = p
		}
	}
}

// ---- decoding ----

var errMQTTMalformed = errors.New("mqtt: malformed packet")

type mqttReader struct {
	b     []byte
	err   error
	clash bool // a user property is named like a standard one
}

func (r *mqttReader) fail() {
	if r.err == nil {
		r.err = errMQTTMalformed
	}
}

func (r *mqttReader) left() int { return len(r.b) }

func (r *mqttReader) take(n int) []byte {
	if r.err != nil || n > len(r.b) {
		r.fail()
		return nil
	}
	b := r.b[:n]
	r.b = r.b[n:]
	return b
}

func (r *mqttReader) u8() int {
	b := r.take(1)
	if b == nil {
		return 0
	}
	return int(b[0])
}

func (r *mqttReader) u16() int {
	b := r.take(2)
	if b == nil {
		return 0
	}
	return int(binary.BigEndian.Uint16(b))
}

func (r *mqttReader) u32() int {
	b := r.take(4)
	if b == nil {
		return 0
	}
	return int(binary.BigEndian.Uint32(b))
}

func (r *mqttReader) varint() int {
	n, shift := 0, 0
	for i := 0; i < 4; i++ {
		c := r.u8()
		if r.err != nil {
			return 0
		}
		n |= (c & 0x7f) << shift
		if c&0x80 == 0 {
			return n
		}
		shift += 7
	}
	r.fail()
	return 0
}

func (r *mqttReader) bin() []byte {
	n := r.u16()
	return append([]byte(nil), r.take(n)...)
}

func (r *mqttReader) str() string { return string(r.take(r.u16())) }

func (r *mqttReader) props() mqttObj {
	n := r.varint()
	sub := &mqttReader{b: r.take(n)}
	if r.err != nil {
		return nil
	}
	props := mqttObj{}
	for sub.left() > 0 && sub.err == nil {
		id := sub.varint()
		p := mqttPropByID[byte(id)]
		if p == nil || id > 0x7f {
			sub.fail()
			break
		}
		switch p.t {
		case propByte:
			props.add(p.name, sub.u8())
		case propU16:
			props.add(p.name, sub.u16())
		case propU32:
			props.add(p.name, sub.u32())
		case propVarint:
			props.add(p.name, sub.varint())
		case propString:
			props.add(p.name, sub.str())
		case propBinary:
			props.add(p.name, sub.bin())
		case propPair:
			k := sub.str()
			v := sub.str()
			if sub.err == nil {
				props.add(k, v)
				r.clash = r.clash || mqttPropByName[k] != nil
			}
		}
	}
	if sub.err != nil {
		r.err = sub.err
	}
	return props
}

// mqttPacket is one decoded packet.
type mqttPacket struct {
	head    mqttObj
	payload []byte // PUBLISH only
	clash   bool   // a user property is named like a standard one
}

// mqttDecoder is a push parser of MQTT packets.
type mqttDecoder struct {
	level int // protocol level; 0 until known
	// levelDefault supplies the level when the first packet is not a CONNECT.
	levelDefault func() (int, error)

	state  int // 0: fixed header, 1: remaining length, 2: body
	fixed  byte
	remLen int
	shift  int
	buf    []byte
	err    error
}

func (d *mqttDecoder) reset() {
	ld := d.levelDefault
	*d = mqttDecoder{levelDefault: ld}
}

// feed parses b and calls emit for each complete packet.
func (d *mqttDecoder) feed(b []byte, emit func(*mqttPacket) error) error {
	if d.err != nil {
		return d.err
	}
	for len(b) > 0 {
		switch d.state {
		case 0:
			d.fixed = b[0]
			b = b[1:]
			if err := mqttCheckFixed(d.fixed); err != nil {
				d.err = err
				return err
			}
			d.remLen, d.shift, d.state = 0, 0, 1
		case 1:
			c := b[0]
			b = b[1:]
			if d.shift > 21 {
				d.err = errMQTTMalformed
				return d.err
			}
			d.remLen |= int(c&0x7f) << d.shift
			d.shift += 7
			if c&0x80 != 0 {
				continue
			}
			d.buf = d.buf[:0]
			d.state = 2
			if d.remLen == 0 {
				if err := d.packet(emit); err != nil {
					return err
				}
			}
		case 2:
			n := min(d.remLen-len(d.buf), len(b))
			d.buf = append(d.buf, b[:n]...)
			b = b[n:]
			if len(d.buf) == d.remLen {
				if err := d.packet(emit); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (d *mqttDecoder) packet(emit func(*mqttPacket) error) error {
	d.state = 0
	if d.level == 0 && d.fixed>>4 != mqttCONNECT {
		d.level = 4
		if d.levelDefault != nil {
			lv, err := d.levelDefault()
			if err != nil {
				d.err = err
				return err
			}
			if lv != 0 {
				d.level = lv
			}
		}
	}
	p, lv, err := mqttParse(d.fixed, d.buf, d.level)
	if err != nil {
		d.err = err
		return err
	}
	d.level = lv
	if err := emit(p); err != nil {
		d.err = err
		return err
	}
	return nil
}

// mqttCheckFixed validates the first byte of a packet.
func mqttCheckFixed(b byte) error {
	t, flags := int(b>>4), b&0x0f
	switch t {
	case 0:
		return fmt.Errorf("mqtt: reserved packet type 0")
	case mqttPUBLISH:
		if flags>>1&3 == 3 {
			return fmt.Errorf("mqtt: PUBLISH with QoS 3")
		}
	case mqttPUBREL, mqttSUBSCRIBE, mqttUNSUBSCRIBE:
		if flags != 2 {
			return fmt.Errorf("mqtt: %s with flags %d", mqttTypeNames[t], flags)
		}
	default:
		if flags != 0 {
			return fmt.Errorf("mqtt: %s with flags %d", mqttTypeNames[t], flags)
		}
	}
	return nil
}

// mqttParse decodes the body of one packet at a protocol level; it returns
// the level in force afterwards (a CONNECT sets it).
func mqttParse(fixed byte, body []byte, level int) (*mqttPacket, int, error) {
	t := int(fixed >> 4)
	r := &mqttReader{b: body}
	p := &mqttPacket{}
	h := &p.head
	h.set("type", mqttTypeNames[t])
	v5 := level >= 5
	switch t {
	case mqttCONNECT:
		name := r.str()
		lv := r.u8()
		if r.err != nil {
			break
		}
		if !(lv == 3 && name == "MQIsdp" || (lv == 4 || lv == 5) && name == "MQTT") {
			return nil, level, fmt.Errorf("mqtt: unsupported protocol %q level %d", name, lv)
		}
		level, v5 = lv, lv >= 5
		flags := r.u8()
		if flags&1 != 0 {
			r.fail()
		}
		h.set("protocolLevel", lv)
		h.set("keepAlive", r.u16())
		if v5 {
			if props := r.props(); len(props) > 0 {
				h.set("properties", props)
			}
		}
		h.set("clientID", r.str())
		h.set("cleanStart", flags&0x02 != 0)
		if flags&0x04 != 0 {
			will := mqttObj{}
			will.set("qos", int(flags>>3&3))
			will.set("retain", flags&0x20 != 0)
			if v5 {
				if props := r.props(); len(props) > 0 {
					will.set("properties", props)
				}
			}
			will.set("topic", r.str())
			will.set("payload", r.bin())
			h.set("will", will)
		} else if flags&0x38 != 0 {
			r.fail()
		}
		if flags&0x80 != 0 {
			h.set("username", r.str())
		}
		if flags&0x40 != 0 {
			h.set("password", r.bin())
		}
	case mqttCONNACK:
		h.set("protocolLevel", level)
		h.set("sessionPresent", r.u8()&1 != 0)
		h.set("reasonCode", r.u8())
		if v5 && r.left() > 0 {
			if props := r.props(); len(props) > 0 {
				h.set("properties", props)
			}
		}
	case mqttPUBLISH:
		qos := int(fixed >> 1 & 3)
		h.set("qos", qos)
		h.set("dup", fixed&0x08 != 0)
		h.set("retain", fixed&0x01 != 0)
		h.set("topicName", r.str())
		if qos > 0 {
			h.set("packetIdentifier", r.u16())
		}
		if v5 {
			if props := r.props(); len(props) > 0 {
				h.set("properties", props)
			}
		}
		if r.err == nil {
			p.payload = append([]byte(nil), r.b...)
			r.b = nil
		}
	case mqttPUBACK, mqttPUBREC, mqttPUBREL, mqttPUBCOMP:
		h.set("packetIdentifier", r.u16())
		rc := 0
		if v5 && r.left() > 0 {
			rc = r.u8()
		}
		h.set("reasonCode", rc)
		if v5 && r.left() > 0 {
			if props := r.props(); len(props) > 0 {
				h.set("properties", props)
			}
		}
	case mqttSUBSCRIBE:
		h.set("packetIdentifier", r.u16())
		if v5 {
			if props := r.props(); len(props) > 0 {
				h.set("properties", props)
			}
		}
		var filters []any
		for r.left() > 0 && r.err == nil {
			f := mqttObj{}
			f.set("filter", r.str())
			o := r.u8()
			f.set("qos", o&3)
			if v5 {
				f.set("noLocal", o&0x04 != 0)
				f.set("retainAsPublished", o&0x08 != 0)
				f.set("retainHandling", o>>4&3)
			}
			if o&3 == 3 || o&0xc0 != 0 || !v5 && o&0xfc != 0 {
				r.fail()
			}
			filters = append(filters, f)
		}
		h.set("topicFilters", filters)
	case mqttSUBACK, mqttUNSUBACK:
		h.set("packetIdentifier", r.u16())
		if v5 {
			if props := r.props(); len(props) > 0 {
				h.set("properties", props)
			}
		}
		if t == mqttSUBACK || v5 {
			var codes []any
			for r.left() > 0 && r.err == nil {
				codes = append(codes, r.u8())
			}
			h.set("reasonCodes", codes)
		}
	case mqttUNSUBSCRIBE:
		h.set("packetIdentifier", r.u16())
		if v5 {
			if props := r.props(); len(props) > 0 {
				h.set("properties", props)
			}
		}
		var filters []any
		for r.left() > 0 && r.err == nil {
			filters = append(filters, r.str())
		}
		h.set("topicFilters", filters)
	case mqttPINGREQ, mqttPINGRESP:
	case mqttDISCONNECT, mqttAUTH:
		rc := 0
		if v5 && r.left() > 0 {
			rc = r.u8()
		}
		h.set("reasonCode", rc)
		if v5 && r.left() > 0 {
			if props := r.props(); len(props) > 0 {
				h.set("properties", props)
			}
		}
	}
	if r.err == nil && r.left() > 0 {
		r.fail()
	}
	if r.err != nil {
		return nil, level, fmt.Errorf("mqtt: malformed %s packet", mqttTypeNames[t])
	}
	p.clash = r.clash
	return p, level, nil
}

// mqttToJS converts a decoded object; binary values become what data makes.
func mqttToJS(rt *goja.Runtime, o mqttObj, data func([]byte) goja.Value) *goja.Object {
	obj := rt.NewObject()
	for _, f := range o {
		obj.Set(f.k, mqttValueToJS(rt, f.v, data))
	}
	return obj
}

func mqttValueToJS(rt *goja.Runtime, v any, data func([]byte) goja.Value) goja.Value {
	switch v := v.(type) {
	case mqttObj:
		return mqttToJS(rt, v, data)
	case []byte:
		return data(v)
	case []any:
		vals := make([]any, len(v))
		for i, e := range v {
			vals[i] = mqttValueToJS(rt, e, data)
		}
		return rt.NewArray(vals...)
	}
	return rt.ToValue(v)
}

// ---- encoding ----

// mqttBin reads a binary field: Data, ArrayBuffer or string.
func mqttBin(v goja.Value) ([]byte, bool) {
	if engine.IsNullish(v) {
		return nil, false
	}
	if d, ok := engine.AsData(v); ok {
		return d.Bytes(), true
	}
	if ab, ok := v.Export().(goja.ArrayBuffer); ok {
		return ab.Bytes(), true
	}
	return []byte(v.String()), true
}

type mqttWriter struct{ b []byte }

func (w *mqttWriter) u8(n int)  { w.b = append(w.b, byte(n)) }
func (w *mqttWriter) u16(n int) { w.b = binary.BigEndian.AppendUint16(w.b, uint16(n)) }
func (w *mqttWriter) u32(n int) { w.b = binary.BigEndian.AppendUint32(w.b, uint32(n)) }
func (w *mqttWriter) varint(n int) {
	for {
		c := byte(n & 0x7f)
		n >>= 7
		if n > 0 {
			c |= 0x80
		}
		w.b = append(w.b, c)
		if n == 0 {
			return
		}
	}
}
func (w *mqttWriter) str(s string) {
	if len(s) > 0xffff {
		s = s[:0xffff]
	}
	w.u16(len(s))
	w.b = append(w.b, s...)
}
func (w *mqttWriter) bin(b []byte) {
	if len(b) > 0xffff {
		b = b[:0xffff]
	}
	w.u16(len(b))
	w.b = append(w.b, b...)
}

func mqttGet(o *goja.Object, k string) goja.Value {
	if o == nil {
		return nil
	}
	v := o.Get(k)
	if engine.IsNullish(v) {
		return nil
	}
	return v
}

func mqttInt(o *goja.Object, k string, def int) int {
	if v := mqttGet(o, k); v != nil {
		return int(v.ToInteger())
	}
	return def
}

func mqttBool(o *goja.Object, k string) bool {
	v := mqttGet(o, k)
	return v != nil && v.ToBoolean()
}

func mqttStr(o *goja.Object, k string) (string, bool) {
	if v := mqttGet(o, k); v != nil {
		return v.String(), true
	}
	return "", false
}

func mqttObjOf(o *goja.Object, k string) *goja.Object {
	if v, ok := mqttGet(o, k).(*goja.Object); ok {
		return v
	}
	return nil
}

// each calls fn for each element of an array value (or the value itself).
func mqttEach(v goja.Value, fn func(goja.Value)) {
	if o, ok := v.(*goja.Object); ok && o.ClassName() == "Array" {
		n := int(o.Get("length").ToInteger())
		for i := range n {
			fn(o.Get(fmt.Sprint(i)))
		}
		return
	}
	fn(v)
}

// props writes the properties object of o (MQTT 5 only).
func (w *mqttWriter) props(o *goja.Object) {
	pw := &mqttWriter{}
	if po := mqttObjOf(o, "properties"); po != nil {
		for _, k := range po.Keys() {
			v := po.Get(k)
			if engine.IsNullish(v) {
				continue
			}
			p := mqttPropByName[k]
			mqttEach(v, func(v goja.Value) {
				if p == nil {
					pw.varint(38)
					pw.str(k)
					pw.str(v.String())
					return
				}
				pw.varint(int(p.id))
				switch p.t {
				case propByte:
					pw.u8(int(v.ToInteger()))
				case propU16:
					pw.u16(int(v.ToInteger()))
				case propU32:
					pw.u32(int(v.ToInteger()))
				case propVarint:
					pw.varint(int(min(max(v.ToInteger(), 0), mqttMaxRemaining)))
				case propString:
					pw.str(v.String())
				case propBinary:
					b, _ := mqttBin(v)
					pw.bin(b)
				}
			})
		}
	}
	w.varint(len(pw.b))
	w.b = append(w.b, pw.b...)
}

// mqttEncode appends the packet for head (and payload, for PUBLISH) to
// dst. level is the protocol level in force; CONNECT and CONNACK heads may
// change it.
func mqttEncode(dst []byte, level *int, head *goja.Object, payload []byte) ([]byte, error) {
	name, _ := mqttStr(head, "type")
	t := mqttTypeOf(name)
	if t == 0 {
		return dst, fmt.Errorf("invalid packet type %q", name)
	}
	if t == mqttCONNECT || t == mqttCONNACK {
		if v := mqttGet(head, "protocolLevel"); v != nil {
			lv, err := mqttLevel(v)
			if err != nil {
				return dst, fmt.Errorf("protocolLevel %v", err)
			}
			*level = lv
		} else if t == mqttCONNECT {
			*level = 4
		}
	}
	v5 := *level >= 5
	w := &mqttWriter{}
	flags := 0
	switch t {
	case mqttCONNECT:
		if *level == 3 {
			w.str("MQIsdp")
		} else {
			w.str("MQTT")
		}
		w.u8(*level)
		cf := 0
		if mqttBool(head, "cleanStart") {
			cf |= 0x02
		}
		will := mqttObjOf(head, "will")
		if will != nil {
			cf |= 0x04 | (mqttInt(will, "qos", 0)&3)<<3
			if mqttBool(will, "retain") {
				cf |= 0x20
			}
		}
		user, hasUser := mqttStr(head, "username")
		pass, hasPass := mqttBin(mqttGet(head, "password"))
		if hasUser {
			cf |= 0x80
		}
		if hasPass {
			cf |= 0x40
		}
		w.u8(cf)
		w.u16(mqttInt(head, "keepAlive", 0))
		if v5 {
			w.props(head)
		}
		id, _ := mqttStr(head, "clientID")
		w.str(id)
		if will != nil {
			if v5 {
				w.props(will)
			}
			topic, _ := mqttStr(will, "topic")
			w.str(topic)
			b, _ := mqttBin(mqttGet(will, "payload"))
			w.bin(b)
		}
		if hasUser {
			w.str(user)
		}
		if hasPass {
			w.bin(pass)
		}
	case mqttCONNACK:
		if mqttBool(head, "sessionPresent") {
			w.u8(1)
		} else {
			w.u8(0)
		}
		w.u8(mqttInt(head, "reasonCode", 0))
		if v5 {
			w.props(head)
		}
	case mqttPUBLISH:
		qos := mqttInt(head, "qos", 0) & 3
		if qos == 3 {
			return dst, fmt.Errorf("PUBLISH with qos 3")
		}
		flags = qos << 1
		if mqttBool(head, "dup") {
			flags |= 0x08
		}
		if mqttBool(head, "retain") {
			flags |= 0x01
		}
		topic, _ := mqttStr(head, "topicName")
		w.str(topic)
		if qos > 0 {
			w.u16(mqttInt(head, "packetIdentifier", 0))
		}
		if v5 {
			w.props(head)
		}
		w.b = append(w.b, payload...)
	case mqttPUBACK, mqttPUBREC, mqttPUBREL, mqttPUBCOMP:
		if t == mqttPUBREL {
			flags = 2
		}
		w.u16(mqttInt(head, "packetIdentifier", 0))
		if v5 {
			w.u8(mqttInt(head, "reasonCode", 0))
			w.props(head)
		}
	case mqttSUBSCRIBE, mqttUNSUBSCRIBE:
		flags = 2
		w.u16(mqttInt(head, "packetIdentifier", 0))
		if v5 {
			w.props(head)
		}
		if fs := mqttGet(head, "topicFilters"); fs != nil {
			mqttEach(fs, func(v goja.Value) {
				f, isObj := v.(*goja.Object)
				if !isObj || f.ClassName() == "String" {
					w.str(v.String())
					if t == mqttSUBSCRIBE {
						w.u8(0)
					}
					return
				}
				s, _ := mqttStr(f, "filter")
				w.str(s)
				if t == mqttUNSUBSCRIBE {
					return
				}
				o := mqttInt(f, "qos", 0) & 3
				if v5 {
					if mqttBool(f, "noLocal") {
						o |= 0x04
					}
					if mqttBool(f, "retainAsPublished") {
						o |= 0x08
					}
					o |= (mqttInt(f, "retainHandling", 0) & 3) << 4
				}
				w.u8(o)
			})
		}
	case mqttSUBACK, mqttUNSUBACK:
		w.u16(mqttInt(head, "packetIdentifier", 0))
		if v5 {
			w.props(head)
		}
		if t == mqttSUBACK || v5 {
			if cs := mqttGet(head, "reasonCodes"); cs != nil {
				mqttEach(cs, func(v goja.Value) { w.u8(int(v.ToInteger())) })
			}
		}
	case mqttPINGREQ, mqttPINGRESP:
	case mqttDISCONNECT, mqttAUTH:
		if v5 {
			w.u8(mqttInt(head, "reasonCode", 0))
			w.props(head)
		}
	}
	if len(w.b) > mqttMaxRemaining {
		return dst, fmt.Errorf("%s packet of %d bytes is over the protocol's limit", name, len(w.b))
	}
	dst = append(dst, byte(t<<4|flags))
	fw := &mqttWriter{b: dst}
	fw.varint(len(w.b))
	return append(fw.b, w.b...), nil
}

// ---- filters ----

type mqttDecodeFilter struct {
	p      *engine.Pipeline
	next   event.Target
	level  engine.Value
	dec    mqttDecoder
	failed bool
}

func (f *mqttDecodeFilter) Reset() {
	f.dec.reset()
	f.failed = false
}

func (f *mqttDecodeFilter) OnEvent(e event.Event) {
	if f.failed {
		return
	}
	switch e := e.(type) {
	case *event.Data:
		if f.dec.levelDefault == nil {
			f.dec.levelDefault = func() (int, error) { return evalLevel(f.p, f.level) }
		}
		w := f.p.W
		rt := w.Runtime()
		data := func(b []byte) goja.Value { return w.DataObject(event.NewData(b)) }
		for _, c := range e.Chunks() {
			err := f.dec.feed(c, func(p *mqttPacket) error {
				f.next.OnEvent(&event.MessageStart{Head: mqttToJS(rt, p.head, data)})
				if len(p.payload) > 0 {
					f.next.OnEvent(event.NewData(p.payload))
				}
				f.next.OnEvent(event.End())
				return nil
			})
			if err != nil {
				logging.Warnf("[decodeMQTT] %v", err)
				f.failed = true
				f.next.OnEvent(event.NewStreamEnd(event.ProtocolError))
				return
			}
		}
	case *event.StreamEnd:
		f.next.OnEvent(e)
	}
}

type mqttEncodeFilter struct {
	p      *engine.Pipeline
	next   event.Target
	opt    engine.Value
	level  int
	in     bool
	head   any
	body   event.Data
	failed bool
}

func (f *mqttEncodeFilter) Reset() {
	f.level, f.in, f.head, f.failed = 0, false, nil, false
	f.body.Clear()
}

func (f *mqttEncodeFilter) OnEvent(e event.Event) {
	if f.failed {
		return
	}
	switch e := e.(type) {
	case *event.MessageStart:
		f.in, f.head = true, e.Head
		f.body.Clear()
	case *event.Data:
		if f.in {
			f.body.PushData(e)
		}
	case *event.MessageEnd:
		if !f.in {
			return
		}
		f.in = false
		if f.level == 0 {
			lv, err := evalLevel(f.p, f.opt)
			if err != nil {
				f.failed = true
				f.next.OnEvent(event.NewStreamEnd(event.RuntimeError))
				return
			}
			if f.level = lv; lv == 0 {
				f.level = 4
			}
		}
		head, _ := f.head.(*goja.Object)
		if head == nil {
			logging.Errorf("[encodeMQTT] a message without a head {type, ...} is dropped")
			return
		}
		out, err := mqttEncode(nil, &f.level, head, f.body.Bytes())
		f.head = nil
		f.body.Clear()
		if err != nil {
			logging.Errorf("[encodeMQTT] %v; the message is dropped", err)
			return
		}
		f.next.OnEvent(event.NewData(out))
	case *event.StreamEnd:
		f.in = false
		f.next.OnEvent(e)
	}
}
