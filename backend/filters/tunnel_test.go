package filters_test

import (
	"encoding/binary"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
)

// tunnelServerScript accepts CONNECT requests (refusing targets on port 1)
// and connects the tunnel to the requested target.
const tunnelServerScript = `
pipy({ _target: '' })
.listen('127.0.0.1:$PORT')
  .acceptHTTPTunnel(
    'tunnel',
    msg => msg.head.path.endsWith(':1')
      ? new Message({ status: 403 }, 'no\n')
      : (_target = msg.head.path, new Message({ status: 200 }))
  )
.pipeline('tunnel')
  .connect(() => _target)
`

// TestAcceptHTTPTunnel: a CONNECT tunnel to a TCP echo server, with bytes
// sent right behind the request; a refused CONNECT gets its response and
// the connection serves the next request.
func TestAcceptHTTPTunnel(t *testing.T) {
	t.Parallel()
	echo := tcpEcho(t)
	in := run(t, tunnelServerScript, nil)

	c := dial(t, in.addr)
	c.write("CONNECT " + echo + " HTTP/1.1\r\nHost: " + echo + "\r\n\r\nhello")
	head := readHead(t, c)
	if !strings.HasPrefix(head, "HTTP/1.1 200 OK\r\n") || strings.Contains(head, "content-length") || strings.Contains(head, "chunked") {
		t.Fatalf("CONNECT response head %q", head)
	}
	c.expect("hello")
	c.write(" again")
	c.expect(" again")
	c.halfClose()
	mustEqual(t, "after the end", c.readToEnd(), "")

	c2 := dial(t, in.addr)
	c2.write("CONNECT 127.0.0.1:1 HTTP/1.1\r\nHost: 127.0.0.1:1\r\n\r\n")
	r2 := c2.response("CONNECT")
	mustEqual(t, "refused", r2.StatusCode, 403)
	mustEqual(t, "refusal body", r2.body, "no\n")
	c2.write("CONNECT " + echo + " HTTP/1.1\r\nHost: " + echo + "\r\n\r\n")
	if head := readHead(t, c2); !strings.HasPrefix(head, "HTTP/1.1 200 OK\r\n") {
		t.Fatalf("second CONNECT response head %q", head)
	}
	c2.write("ping")
	c2.expect("ping")
}

// TestConnectHTTPTunnel: a client-side tunnel through the server above:
// bytes sent to the first instance come back from the echo server.
func TestConnectHTTPTunnel(t *testing.T) {
	t.Parallel()
	echo := tcpEcho(t)
	server := run(t, tunnelServerScript, []runOpt{asUpstream()})
	client := run(t, `
pipy()
.listen('127.0.0.1:$PORT')
  .connectHTTPTunnel('proxy', '$TARGET')
.pipeline('proxy')
  .encodeHTTPRequest()
  .connect('$PROXY')
  .decodeHTTPResponse()
`, nil, "$TARGET", echo, "$PROXY", server.addr)
	c := dial(t, client.addr)
	c.write("through the tunnel")
	c.expect("through the tunnel")
	c.write("!")
	c.expect("!")

	refused := run(t, `
pipy()
.listen('127.0.0.1:$PORT')
  .connectHTTPTunnel('proxy', () => '127.0.0.1:1')
.pipeline('proxy')
  .encodeHTTPRequest()
  .connect('$PROXY')
  .decodeHTTPResponse()
`, nil, "$PROXY", server.addr)
	c2 := dial(t, refused.addr)
	c2.write("x")
	c2.expectClosed()
}

// socksClient is a minimal SOCKS5 client: no authentication, CONNECT to
// host:port (an IPv4 address or a domain name). It returns the reply code.
func socks5Connect(t *testing.T, c *rawConn, host string, port int) byte {
	t.Helper()
	c.write("\x05\x01\x00")
	mustEqual(t, "method reply", []byte(c.readN(2)), []byte{5, 0})
	req := []byte{5, 1, 0}
	if ip := net.ParseIP(host).To4(); ip != nil {
		req = append(append(req, 1), ip...)
	} else {
		req = append(append(req, 3, byte(len(host))), host...)
	}
	req = binary.BigEndian.AppendUint16(req, uint16(port))
	c.write(string(req))
	reply := []byte(c.readN(10))
	if reply[0] != 5 {
		t.Fatalf("reply % x: not SOCKS5", reply)
	}
	return reply[1]
}

const socksServerScript = `
pipy({ _target: '', _g: { log: [] } })
.listen('127.0.0.1:$PORT')
  .acceptSOCKS(
    'tunnel',
    (host, port, id) => (
      _g.log.push(host + ' ' + port + ' ' + id),
      port !== 1 && (_target = host + ':' + port, true)
    )
  )
.pipeline('tunnel')
  .connect(() => _target)
`

// TestAcceptSOCKS: SOCKS5 (by IP address and by name), SOCKS4 and 4a
// clients reach a TCP echo server; a refused request gets its reply.
func TestAcceptSOCKS(t *testing.T) {
	t.Parallel()
	echo := tcpEcho(t)
	host, portStr, _ := net.SplitHostPort(echo)
	port, _ := strconv.Atoi(portStr)
	in := run(t, socksServerScript, nil)

	t.Run("socks5 ip", func(t *testing.T) {
		c := dial(t, in.addr)
		mustEqual(t, "reply", socks5Connect(t, c, host, port), byte(0))
		c.write("five")
		c.expect("five")
	})
	t.Run("socks5 name", func(t *testing.T) {
		c := dial(t, in.addr)
		mustEqual(t, "reply", socks5Connect(t, c, "localhost", port), byte(0))
		c.write("by name")
		c.expect("by name")
	})
	t.Run("socks5 refused", func(t *testing.T) {
		c := dial(t, in.addr)
		mustEqual(t, "reply", socks5Connect(t, c, host, 1), byte(2))
		c.expectClosed()
	})
	t.Run("socks4", func(t *testing.T) {
		c := dial(t, in.addr)
		req := binary.BigEndian.AppendUint16([]byte{4, 1}, uint16(port))
		req = append(append(req, net.ParseIP(host).To4()...), "user\x00hi"...)
		c.write(string(req))
		reply := []byte(c.readN(8))
		mustEqual(t, "reply", reply[1], byte(0x5a))
		c.expect("hi") // the bytes behind the request went through
	})
	t.Run("socks4a", func(t *testing.T) {
		c := dial(t, in.addr)
		req := binary.BigEndian.AppendUint16([]byte{4, 1}, uint16(port))
		req = append(append(req, 0, 0, 0, 9), "\x00localhost\x00"...)
		c.write(string(req))
		mustEqual(t, "reply", []byte(c.readN(8))[1], byte(0x5a))
		c.write("4a")
		c.expect("4a")
	})
	t.Run("not socks", func(t *testing.T) {
		c := dial(t, in.addr)
		c.write("GET / HTTP/1.1\r\n\r\n")
		c.expectClosed()
	})
}

// TestConnectSOCKS: a SOCKS5 client filter through the server above, with
// bytes sent before the SOCKS handshake has finished.
func TestConnectSOCKS(t *testing.T) {
	t.Parallel()
	echo := tcpEcho(t)
	server := run(t, socksServerScript, []runOpt{asUpstream()})
	for _, target := range []string{echo, strings.Replace(echo, "127.0.0.1", "localhost", 1)} {
		client := run(t, `
pipy()
.listen('127.0.0.1:$PORT')
  .connectSOCKS('socks', '$TARGET')
.pipeline('socks')
  .connect('$SOCKS')
`, nil, "$TARGET", target, "$SOCKS", server.addr)
		c := dial(t, client.addr)
		c.write("early bytes")
		c.expect("early bytes")
		c.write(fmt.Sprint(" to ", target))
		c.expect(fmt.Sprint(" to ", target))
	}
	refused := run(t, `
pipy()
.listen('127.0.0.1:$PORT')
  .connectSOCKS('socks', '127.0.0.1:1')
.pipeline('socks')
  .connect('$SOCKS')
`, nil, "$SOCKS", server.addr)
	c := dial(t, refused.addr)
	c.write("x")
	c.expectClosed()
}
