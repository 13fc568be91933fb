// Package event defines the four kinds of event that flow through pipelines:
// Data, MessageStart, MessageEnd and StreamEnd. A message is a MessageStart,
// any number of Data and a MessageEnd; a stream ends with one StreamEnd.
//
// Events are plain values owned by the worker that created them. They are not
// safe for concurrent use, and are never shared between workers.
package event

// Kind tells the four event kinds apart without a type switch.
type Kind uint8

const (
	KindData Kind = iota
	KindMessageStart
	KindMessageEnd
	KindStreamEnd
)

func (k Kind) String() string {
	switch k {
	case KindData:
		return "Data"
	case KindMessageStart:
		return "MessageStart"
	case KindMessageEnd:
		return "MessageEnd"
	case KindStreamEnd:
		return "StreamEnd"
	}
	return "Unknown"
}

// Event is one of *Data, *MessageStart, *MessageEnd or *StreamEnd.
type Event interface {
	Kind() Kind
}

// Target receives events. Filters, pipelines and connections are targets.
type Target interface {
	OnEvent(Event)
}

// Copier is a Target that, right now, keeps neither a Data it is given nor
// that Data's chunks once OnEvent returns: it copies what it needs. A
// sender that asks (see Copies) may then hand it a Data and bytes it will
// reuse, which saves two allocations per event on hot paths (a request
// read from a socket, a response written to one). The answer can change
// with the target's state (a tunnel passes Data on), so ask per event.
type Copier interface {
	CopiesData() bool
}

// Copies reports whether t is a Copier that copies now.
func Copies(t Target) bool {
	c, ok := t.(Copier)
	return ok && c.CopiesData()
}

// Lender sends bytes that its owner reuses (a read buffer, an encoder's
// buffer): lent, without a copy, to a target that copies them (Copier),
// and copied for any other. One send through a Lender at a time lends; a
// send made while one is under way (the target sent back) copies.
type Lender struct {
	d    Data
	busy bool
}

// Send sends b to t, lent or copied.
func (l *Lender) Send(t Target, b []byte) {
	if !l.lend(t, b) {
		t.OnEvent(NewData(append([]byte(nil), b...)))
	}
}

// SendShared sends b, which is never modified (a constant), to t: lent, or
// else passed on as it is.
func (l *Lender) SendShared(t Target, b []byte) {
	if !l.lend(t, b) {
		t.OnEvent(NewData(b))
	}
}

func (l *Lender) lend(t Target, b []byte) bool {
	if l.busy || !Copies(t) {
		return false
	}
	l.busy = true
	l.d.Push(b)
	t.OnEvent(&l.d)
	l.d.Clear()
	l.busy = false
	return true
}

// TargetFunc adapts a function to a Target.
type TargetFunc func(Event)

func (f TargetFunc) OnEvent(e Event) { f(e) }

// Discard is a Target that drops every event.
var Discard Target = TargetFunc(func(Event) {})

// MessageStart opens a message. Head is protocol specific: an
// *http1.RequestHead, an *http1.ResponseHead, a script object, or nil.
type MessageStart struct {
	Head any
}

func (*MessageStart) Kind() Kind { return KindMessageStart }

// MessageEnd closes a message. Tail carries trailers, when a protocol has them.
type MessageEnd struct {
	Tail any
}

func (*MessageEnd) Kind() Kind { return KindMessageEnd }

// sharedEnd is the MessageEnd used wherever no tail is needed: MessageEnd
// events are immutable once emitted, so one value serves every message.
var sharedEnd = &MessageEnd{}

// End returns a MessageEnd with no tail. It does not allocate.
func End() *MessageEnd { return sharedEnd }
