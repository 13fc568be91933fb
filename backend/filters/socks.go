package filters

import (
	"encoding/binary"
	"net"
	"strconv"

	"github.com/dop251/goja"

	"sluice/backend/engine"
	"sluice/backend/event"
	"sluice/backend/logging"
)

// SOCKS: acceptSOCKS is a SOCKS4/4a/5 server (CONNECT, no authentication),
// connectSOCKS a SOCKS5 client.

func init() {
	engine.Register(&engine.FilterKind{
		Name: "acceptSOCKS", Joint: true, Signature: "acceptSOCKS(pipeline: string, onConnect: (host: string, port: number, id?: string) => bool)",
		Help:  "Server side of SOCKS 4, 4a and 5 (CONNECT, no authentication). onConnect gets the requested host (an IP address or a domain name), port and SOCKS4 user id; when it returns true the client is told the connection is made and the rest of the stream goes both ways through the sub-pipeline, sharing the context. Otherwise the request is refused and the stream ends.",
		Parse: parseAcceptSOCKS,
	})
	engine.Register(&engine.FilterKind{
		Name: "connectSOCKS", Joint: true, Signature: "connectSOCKS(pipeline: string, target: string | () => string)",
		Help:  "Client side of SOCKS 5: asks, through the sub-pipeline (which shares the context and usually connects to the SOCKS server), for a connection to target ('host:port'), then pipes Data both ways. A refusal ends the stream with ConnectionRefused (Unauthorized when the server wants authentication).",
		Parse: parseConnectSOCKS,
	})
}

// ---- acceptSOCKS ----

type acceptSOCKSConfig struct {
	ref       *engine.LayoutRef
	onConnect goja.Callable
}

func parseAcceptSOCKS(b *engine.Builder, args []goja.Value) (engine.Config, error) {
	if err := argCount(args, 2, 2, "acceptSOCKS(pipeline, onConnect)"); err != nil {
		return nil, err
	}
	name, err := pipelineName(args, 0)
	if err != nil {
		return nil, err
	}
	fn, err := engine.Func(args[1], "onConnect")
	if err != nil {
		return nil, err
	}
	return &acceptSOCKSConfig{ref: b.Ref(name), onConnect: fn}, nil
}

func (c *acceptSOCKSConfig) Links() []string { return []string{c.ref.Name} }

func (c *acceptSOCKSConfig) New(p *engine.Pipeline, next event.Target) engine.Filter {
	return &socksServer{c: c, p: p, next: next}
}

// socksServer parses the request byte by byte, so it may arrive in pieces
// of any size.
type socksServer struct {
	c       *acceptSOCKSConfig
	p       *engine.Pipeline
	next    event.Target
	sub     *engine.Pipeline
	state   socksState
	version int
	need    int    // bytes still to read in the current field
	field   []byte // the current field's bytes
	methods int
	atyp    byte
	port    int
	ip      []byte
	id      []byte
	domain  []byte
	done    bool
}

type socksState int

const (
	socksVersion socksState = iota
	socks4Cmd
	socks4Port
	socks4IP
	socks4ID
	socks4Domain
	socks5NMethods
	socks5Methods
	socks5Head
	socks5AddrType
	socks5DomainLen
	socks5Addr
	socks5Port
	socksConnected
)

func (s *socksServer) Reset() {
	if s.sub != nil {
		s.sub.Release()
	}
	*s = socksServer{c: s.c, p: s.p, next: s.next}
}

func (s *socksServer) OnEvent(e event.Event) {
	if s.done {
		return
	}
	switch e := e.(type) {
	case *event.Data:
		if s.state == socksConnected {
			s.sub.OnEvent(e)
			return
		}
		b := e.Bytes()
		for i := 0; i < len(b); i++ {
			if !s.step(b[i]) {
				return
			}
			if s.state == socksConnected {
				if i+1 < len(b) {
					s.sub.OnEvent(event.NewData(b[i+1:]))
				}
				return
			}
		}
	case *event.StreamEnd:
		if s.sub != nil {
			s.sub.OnEvent(e)
			return
		}
		s.end(e.Error)
	}
}

// step takes one byte of the request; false when the stream has ended.
func (s *socksServer) step(c byte) bool {
	switch s.state {
	case socksVersion:
		switch c {
		case 4:
			s.version, s.state = 4, socks4Cmd
		case 5:
			s.version, s.state = 5, socks5NMethods
		default:
			s.end(event.ProtocolError)
			return false
		}
	case socks4Cmd:
		if c != 1 {
			return s.refuse(0)
		}
		s.state, s.field = socks4Port, s.field[:0]
	case socks4Port:
		s.field = append(s.field, c)
		if len(s.field) == 2 {
			s.port = int(binary.BigEndian.Uint16(s.field))
			s.state, s.ip = socks4IP, s.ip[:0]
		}
	case socks4IP:
		s.ip = append(s.ip, c)
		if len(s.ip) == 4 {
			s.state, s.id = socks4ID, s.id[:0]
		}
	case socks4ID:
		if c != 0 {
			if len(s.id) >= 255 {
				return s.refuse(0)
			}
			s.id = append(s.id, c)
			break
		}
		if s.ip[0] == 0 && s.ip[1] == 0 && s.ip[2] == 0 && s.ip[3] != 0 {
			s.state, s.domain = socks4Domain, s.domain[:0] // SOCKS4a
			break
		}
		return s.connect(net.IP(s.ip).String())
	case socks4Domain:
		if c != 0 {
			if len(s.domain) >= 255 {
				return s.refuse(0)
			}
			s.domain = append(s.domain, c)
			break
		}
		return s.connect(string(s.domain))
	case socks5NMethods:
		s.methods = int(c)
		s.state = socks5Methods
		if s.methods == 0 {
			return s.greeted()
		}
	case socks5Methods:
		if s.methods--; s.methods == 0 {
			return s.greeted()
		}
	case socks5Head:
		s.field = append(s.field, c)
		switch len(s.field) {
		case 1:
			if c != 5 {
				return s.refuse(1)
			}
		case 2:
			if c != 1 {
				return s.refuse(7) // command not supported
			}
		case 3:
			s.state = socks5AddrType
		}
	case socks5AddrType:
		s.atyp = c
		switch c {
		case 1:
			s.state, s.need, s.ip = socks5Addr, 4, s.ip[:0]
		case 4:
			s.state, s.need, s.ip = socks5Addr, 16, s.ip[:0]
		case 3:
			s.state = socks5DomainLen
		default:
			return s.refuse(8) // address type not supported
		}
	case socks5DomainLen:
		if c == 0 {
			return s.refuse(1)
		}
		s.state, s.need, s.domain = socks5Addr, int(c), s.domain[:0]
	case socks5Addr:
		if s.atyp == 3 {
			s.domain = append(s.domain, c)
		} else {
			s.ip = append(s.ip, c)
		}
		if s.need--; s.need == 0 {
			s.state, s.field = socks5Port, s.field[:0]
		}
	case socks5Port:
		s.field = append(s.field, c)
		if len(s.field) == 2 {
			s.port = int(binary.BigEndian.Uint16(s.field))
			host := string(s.domain)
			if s.atyp != 3 {
				host = net.IP(s.ip).String()
			}
			return s.connect(host)
		}
	}
	return true
}

// greeted answers a SOCKS5 greeting: no authentication.
func (s *socksServer) greeted() bool {
	s.next.OnEvent(event.NewData([]byte{5, 0}))
	s.state, s.field = socks5Head, s.field[:0]
	return true
}

// connect asks the script, then accepts or refuses.
func (s *socksServer) connect(host string) bool {
	w := s.p.W
	rt := w.Runtime()
	args := []goja.Value{rt.ToValue(host), rt.ToValue(s.port), goja.Undefined()}
	if len(s.id) > 0 {
		args[2] = rt.ToValue(string(s.id))
	}
	v, err := w.Call(s.p.Context, s.c.onConnect, args...)
	if err != nil {
		s.end(event.RuntimeError)
		return false
	}
	if !v.ToBoolean() {
		return s.refuse(2)
	}
	s.sub = s.p.Sub(s.c.ref, false, socksServerOut{s})
	if s.version == 4 {
		s.next.OnEvent(event.NewData([]byte{0, 0x5a, 0, 0, 0, 0, 0, 0}))
	} else {
		s.next.OnEvent(event.NewData([]byte{5, 0, 0, 1, 0, 0, 0, 0, 0, 0}))
	}
	s.state = socksConnected
	return !s.done
}

// refuse answers with a failure (a SOCKS5 reply code; SOCKS4 has one) and
// ends the stream.
func (s *socksServer) refuse(code byte) bool {
	if s.version == 4 {
		s.next.OnEvent(event.NewData([]byte{0, 0x5b, 0, 0, 0, 0, 0, 0}))
	} else {
		s.next.OnEvent(event.NewData([]byte{5, code, 0, 1, 0, 0, 0, 0, 0, 0}))
	}
	s.end(event.NoError)
	return false
}

func (s *socksServer) end(code event.ErrorCode) {
	if !s.done {
		s.done = true
		s.next.OnEvent(event.NewStreamEnd(code))
	}
}

type socksServerOut struct{ s *socksServer }

func (o socksServerOut) OnEvent(e event.Event) {
	s := o.s
	if s.done {
		return
	}
	if se, ok := e.(*event.StreamEnd); ok {
		s.end(se.Error)
		return
	}
	s.next.OnEvent(e)
}

// ---- connectSOCKS ----

type connectSOCKSConfig struct {
	ref    *engine.LayoutRef
	target engine.Value
}

func parseConnectSOCKS(b *engine.Builder, args []goja.Value) (engine.Config, error) {
	if err := argCount(args, 2, 2, "connectSOCKS(pipeline, target)"); err != nil {
		return nil, err
	}
	name, err := pipelineName(args, 0)
	if err != nil {
		return nil, err
	}
	c := &connectSOCKSConfig{ref: b.Ref(name), target: engine.NewValue(args[1])}
	if !c.target.IsFunc() {
		if _, err := socksRequest(args[1]); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// socksRequest encodes a SOCKS5 CONNECT request for 'host:port'.
func socksRequest(v goja.Value) ([]byte, error) {
	s, ok := v.Export().(string)
	if !ok {
		return nil, errorf("target must be 'host:port' or a function returning it, got %s", describeValue(v))
	}
	host, portStr, err := net.SplitHostPort(s)
	port, perr := strconv.Atoi(portStr)
	if err != nil || host == "" || perr != nil || port < 0 || port > 65535 {
		return nil, errorf("invalid target %q (want 'host:port')", s)
	}
	req := []byte{5, 1, 0}
	if ip := net.ParseIP(host); ip != nil {
		if ip4 := ip.To4(); ip4 != nil {
			req = append(append(req, 1), ip4...)
		} else {
			req = append(append(req, 4), ip.To16()...)
		}
	} else {
		if len(host) > 255 {
			return nil, errorf("domain name too long in %q", s)
		}
		req = append(append(req, 3, byte(len(host))), host...)
	}
	return binary.BigEndian.AppendUint16(req, uint16(port)), nil
}

func (c *connectSOCKSConfig) Links() []string { return []string{c.ref.Name} }

func (c *connectSOCKSConfig) New(p *engine.Pipeline, next event.Target) engine.Filter {
	return &socksClient{c: c, p: p, next: next}
}

type socksClientState int

const (
	scInit socksClientState = iota
	scAuth
	scReplyHead
	scReplyAddr
	scConnected
	scClosed
)

type socksClient struct {
	c     *connectSOCKSConfig
	p     *engine.Pipeline
	next  event.Target
	sub   *engine.Pipeline
	state socksClientState
	req   []byte
	read  []byte
	need  int
	held  event.Data // input waiting for the connection
	inEnd bool
}

func (s *socksClient) Reset() {
	if s.sub != nil {
		s.sub.Release()
	}
	*s = socksClient{c: s.c, p: s.p, next: s.next}
}

func (s *socksClient) OnEvent(e event.Event) {
	if s.state == scClosed {
		return
	}
	if s.state == scInit {
		v, err := s.c.target.Eval(s.p)
		if err != nil {
			s.close(event.RuntimeError)
			return
		}
		if s.req, err = socksRequest(v); err != nil {
			logging.Errorf("[connectSOCKS] %v", err)
			s.close(event.CannotResolve)
			return
		}
		s.state = scAuth
		s.sub = s.p.Sub(s.c.ref, false, socksClientIn{s})
		s.sub.OnEvent(event.NewData([]byte{5, 1, 0}))
		if s.state == scClosed {
			return
		}
	}
	switch e := e.(type) {
	case *event.Data:
		if s.state == scConnected {
			s.sub.OnEvent(e)
		} else {
			s.held.PushData(e)
		}
	case *event.StreamEnd:
		if s.state == scConnected || e.Error != event.NoError {
			s.sub.OnEvent(e)
		} else {
			s.inEnd = true
		}
	}
}

func (s *socksClient) close(code event.ErrorCode) {
	if s.state != scClosed {
		s.state = scClosed
		s.next.OnEvent(event.NewStreamEnd(code))
	}
}

// socksClientIn receives what the SOCKS server sends.
type socksClientIn struct{ s *socksClient }

func (in socksClientIn) OnEvent(e event.Event) {
	s := in.s
	if s.state == scClosed {
		return
	}
	switch e := e.(type) {
	case *event.StreamEnd:
		code := e.Error
		if s.state != scConnected && code == event.NoError {
			code = event.ConnectionReset
		}
		s.close(code)
	case *event.Data:
		if s.state == scConnected {
			s.next.OnEvent(e)
			return
		}
		b := e.Bytes()
		for i := 0; i < len(b); i++ {
			s.read = append(s.read, b[i])
			if !s.parse() {
				return
			}
			if s.state == scConnected {
				s.connected()
				if i+1 < len(b) && s.state == scConnected {
					s.next.OnEvent(event.NewData(b[i+1:]))
				}
				return
			}
		}
	}
}

// parse looks at the reply bytes read so far; false when the stream ended.
func (s *socksClient) parse() bool {
	r := s.read
	switch s.state {
	case scAuth:
		if len(r) < 2 {
			return true
		}
		if r[0] != 5 || r[1] != 0 {
			s.close(event.Unauthorized)
			return false
		}
		s.read = s.read[:0]
		s.state = scReplyHead
		s.sub.OnEvent(event.NewData(s.req))
	case scReplyHead:
		if len(r) < 5 {
			return true
		}
		if r[0] != 5 || r[1] != 0 {
			logging.Debugf("[connectSOCKS] the server refused the connection: reply %d", r[1])
			s.close(event.ConnectionRefused)
			return false
		}
		switch r[3] {
		case 1:
			s.need = 4 + 4 + 2
		case 4:
			s.need = 4 + 16 + 2
		case 3:
			s.need = 5 + int(r[4]) + 2
		default:
			s.close(event.ProtocolError)
			return false
		}
		s.state = scReplyAddr
		fallthrough
	case scReplyAddr:
		if len(s.read) >= s.need {
			s.state = scConnected
		}
	}
	return true
}

// connected sends what was held back.
func (s *socksClient) connected() {
	if s.held.Size() > 0 {
		d := s.held.Clone()
		s.held.Clear()
		s.sub.OnEvent(d)
	}
	if s.inEnd && s.state == scConnected {
		s.sub.OnEvent(event.NewStreamEnd(event.NoError))
	}
}
