package tutorials

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// userAgent is what the requests say they are: the exchanges stand for the
// curl commands of the text.
const userAgent = "curl/8.5.0"

// request is one HTTP/1.1 request as curl writes it.
type request struct {
	method  string
	path    string
	host    string      // the Host header: localhost and the documented port
	headers [][2]string // extra headers, in order; they replace curl's own of the same name
	body    []byte
	hasBody bool
	form    bool // -d: curl adds a form content type unless a header gives one
}

func (r *request) bytes() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\n", r.method, r.path)
	given := map[string]bool{}
	for _, h := range r.headers {
		given[strings.ToLower(h[0])] = true
	}
	for _, h := range [][2]string{{"Host", r.host}, {"User-Agent", userAgent}, {"Accept", "*/*"}} {
		if !given[strings.ToLower(h[0])] {
			fmt.Fprintf(&b, "%s: %s\r\n", h[0], h[1])
		}
	}
	for _, h := range r.headers {
		fmt.Fprintf(&b, "%s: %s\r\n", h[0], h[1])
	}
	if r.hasBody {
		if !given["content-length"] {
			fmt.Fprintf(&b, "Content-Length: %d\r\n", len(r.body))
		}
		if r.form && !given["content-type"] {
			b.WriteString("Content-Type: application/x-www-form-urlencoded\r\n")
		}
	}
	b.WriteString("\r\n")
	b.Write(r.body)
	return b.Bytes()
}

// response is one HTTP response as read from the wire.
type response struct {
	status  int
	head    string      // the status line and header lines as received
	headers [][2]string // name as received, value
	body    []byte
	close   bool // the server will close the connection after it
}

func (r *response) header(name string) (string, bool) {
	for _, h := range r.headers {
		if strings.EqualFold(h[0], name) {
			return h[1], true
		}
	}
	return "", false
}

// conn is a client connection to one of the instance's ports.
type conn struct {
	nc   net.Conn
	r    *bufio.Reader
	port int // actual port
	tls  bool
	dead bool
	// baseline is how many inbound connections the server had before this
	// one: after closing, wait until it is back there.
	baseline int64
}

// dial connects to the actual port, over TLS for the server name localhost
// when tlsCA is not nil (empty: trust any certificate).
func dial(port int, useTLS bool, ca []byte) (*conn, error) {
	nc, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), 5*time.Second)
	if err != nil {
		return nil, err
	}
	if useTLS {
		cfg := &tls.Config{ServerName: "localhost"}
		if len(ca) == 0 {
			cfg.InsecureSkipVerify = true
		} else {
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(ca) {
				nc.Close()
				return nil, errors.New("the CA file holds no certificate")
			}
			cfg.RootCAs = pool
		}
		tc := tls.Client(nc, cfg)
		tc.SetDeadline(time.Now().Add(5 * time.Second))
		if err := tc.Handshake(); err != nil {
			nc.Close()
			return nil, fmt.Errorf("TLS handshake: %w", err)
		}
		tc.SetDeadline(time.Time{})
		nc = tc
	}
	return &conn{nc: nc, r: bufio.NewReader(nc), port: port, tls: useTLS}, nil
}

func (c *conn) close() { c.nc.Close() }

// roundTrip sends req and reads its response.
func (c *conn) roundTrip(req *request) (*response, error) {
	c.nc.SetDeadline(time.Now().Add(10 * time.Second))
	defer c.nc.SetDeadline(time.Time{})
	if _, err := c.nc.Write(req.bytes()); err != nil {
		c.dead = true
		return nil, err
	}
	for {
		res, err := c.readResponse(req.method == "HEAD")
		if err != nil {
			c.dead = true
			return nil, err
		}
		if res.status >= 100 && res.status < 200 && res.status != 101 {
			continue // 100 Continue and friends
		}
		if res.close {
			c.dead = true
		}
		return res, nil
	}
}

func (c *conn) readResponse(head bool) (*response, error) {
	var raw strings.Builder
	line, err := c.r.ReadString('\n')
	if err != nil {
		if err == io.EOF && line == "" {
			return nil, errors.New("the server closed the connection without a response")
		}
		return nil, err
	}
	raw.WriteString(line)
	parts := strings.SplitN(strings.TrimRight(line, "\r\n"), " ", 3)
	if len(parts) < 2 || !strings.HasPrefix(parts[0], "HTTP/") {
		return nil, fmt.Errorf("not an HTTP status line: %q", line)
	}
	res := &response{}
	if res.status, err = strconv.Atoi(parts[1]); err != nil {
		return nil, fmt.Errorf("bad status in %q", line)
	}
	for {
		line, err := c.r.ReadString('\n')
		if err != nil {
			return nil, err
		}
		raw.WriteString(line)
		t := strings.TrimRight(line, "\r\n")
		if t == "" {
			break
		}
		name, value, ok := strings.Cut(t, ":")
		if !ok {
			return nil, fmt.Errorf("bad header line %q", t)
		}
		res.headers = append(res.headers, [2]string{name, strings.TrimSpace(value)})
	}
	res.head = raw.String()
	if v, ok := res.header("connection"); ok && strings.EqualFold(v, "close") {
		res.close = true
	}
	switch {
	case head || res.status == 204 || res.status == 304 || (res.status >= 100 && res.status < 200):
	case hasToken(res, "transfer-encoding", "chunked"):
		for {
			line, err := c.r.ReadString('\n')
			if err != nil {
				return nil, err
			}
			size, _, _ := strings.Cut(strings.TrimSpace(line), ";")
			n, err := strconv.ParseInt(size, 16, 64)
			if err != nil {
				return nil, fmt.Errorf("bad chunk size %q", line)
			}
			if n == 0 {
				for { // trailers
					l, err := c.r.ReadString('\n')
					if err != nil {
						return nil, err
					}
					if strings.TrimRight(l, "\r\n") == "" {
						break
					}
				}
				break
			}
			chunk := make([]byte, n+2)
			if _, err := io.ReadFull(c.r, chunk); err != nil {
				return nil, err
			}
			res.body = append(res.body, chunk[:n]...)
		}
	default:
		if v, ok := res.header("content-length"); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				return nil, fmt.Errorf("bad content-length %q", v)
			}
			res.body = make([]byte, n)
			if _, err := io.ReadFull(c.r, res.body); err != nil {
				return nil, fmt.Errorf("reading a %d-byte body: %w", n, err)
			}
		} else {
			res.close = true
			if res.body, err = io.ReadAll(c.r); err != nil {
				return nil, err
			}
		}
	}
	return res, nil
}

func hasToken(res *response, name, token string) bool {
	v, _ := res.header(name)
	for _, t := range strings.Split(v, ",") {
		if strings.EqualFold(strings.TrimSpace(t), token) {
			return true
		}
	}
	return false
}

// Client sends a step's expected exchanges to a running instance.
type Client struct {
	in   *Instance
	name string // of the open named connection
	open *conn
}

// NewClient returns a client of the instance.
func (in *Instance) NewClient() *Client { return &Client{in: in} }

// Close closes the named connection still open, and waits until the
// server has seen it go.
func (c *Client) Close() {
	if c.open != nil {
		c.open.close()
		c.in.waitIdle(c.open.port, c.open.baseline)
		c.open, c.name = nil, ""
	}
}

// Check performs one expectation and says how the replies differ from it.
func (c *Client) Check(e Expectation) error {
	if e.Request == nil {
		time.Sleep(time.Duration(e.Sleep))
		return nil
	}
	n := max(e.Repeat, 1)
	began := time.Now()
	for i := range n {
		var err error
		deadline := time.Now().Add(time.Duration(e.RetryFor))
		for {
			err = c.once(e)
			if err == nil || time.Now().After(deadline) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if err != nil {
			if n > 1 {
				return fmt.Errorf("request %d of %d: %w", i+1, n, err)
			}
			return err
		}
	}
	if took := time.Since(began); took < time.Duration(e.TakesAtLeast) {
		return fmt.Errorf("%d requests took %v, want at least %v", n, took.Round(time.Millisecond), time.Duration(e.TakesAtLeast))
	}
	return nil
}

func (c *Client) once(e Expectation) error {
	rq := e.Request
	port := c.in.Port(rq.Port)
	req := &request{method: rq.Method, path: rq.Path, host: "localhost:" + strconv.Itoa(rq.Port), body: []byte(rq.Body)}
	if req.path == "" {
		req.path = "/"
	}
	if rq.Body != "" {
		req.hasBody = true
	}
	if req.method == "" {
		req.method = "GET"
		if req.hasBody {
			req.method = "POST"
		}
	}
	names := make([]string, 0, len(rq.Headers))
	for k := range rq.Headers {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		req.headers = append(req.headers, [2]string{k, rq.Headers[k]})
	}

	if e.Connection != c.name {
		c.Close()
	}
	cn := c.open
	if cn != nil && cn.dead {
		return fmt.Errorf("connection %q was closed by the server", e.Connection)
	}
	baseline := c.in.connections(port)
	if cn == nil {
		var ca []byte
		if rq.CA != "" {
			f := c.in.Codebase[rq.CA]
			if f == nil {
				return fmt.Errorf("CA file %s is not in the codebase", rq.CA)
			}
			ca = f.Data
		}
		var err error
		if cn, err = dial(port, rq.TLS, ca); err != nil {
			return fmt.Errorf("%s %s on port %d: %w", req.method, req.path, rq.Port, err)
		}
		cn.baseline = baseline
		if e.Connection != "" {
			c.name, c.open = e.Connection, cn
		} else {
			defer func() {
				cn.close()
				c.in.waitIdle(port, baseline)
			}()
		}
	}
	res, err := cn.roundTrip(req)
	if err != nil {
		return fmt.Errorf("%s %s on port %d: %w", req.method, req.path, rq.Port, err)
	}
	if err := match(e.Response, res); err != nil {
		return fmt.Errorf("%s %s on port %d: %w\ngot:\n%s%s", req.method, req.path, rq.Port, err, res.head, res.body)
	}
	return nil
}

func match(want *Response, res *response) error {
	if want == nil {
		want = &Response{}
	}
	status := want.Status
	if status == 0 {
		status = 200
	}
	if res.status != status {
		return fmt.Errorf("status %d, want %d", res.status, status)
	}
	body := string(res.body)
	if want.Body != nil && body != *want.Body {
		return fmt.Errorf("body %q, want %q", body, *want.Body)
	}
	for _, s := range want.BodyContains {
		if !strings.Contains(body, s) {
			return fmt.Errorf("the body does not contain %q", s)
		}
	}
	if want.BodyMatches != "" {
		re, err := regexp.Compile(want.BodyMatches)
		if err != nil {
			return fmt.Errorf("bodyMatches: %w", err)
		}
		if !re.MatchString(body) {
			return fmt.Errorf("the body does not match %s", want.BodyMatches)
		}
	}
	for name, v := range want.Headers {
		got, ok := res.header(name)
		if !ok {
			return fmt.Errorf("no %s header, want %q", name, v)
		}
		if got != v {
			return fmt.Errorf("header %s is %q, want %q", name, got, v)
		}
	}
	for _, name := range want.HeadersAbsent {
		if v, ok := res.header(name); ok {
			return fmt.Errorf("unexpected header %s: %s", name, v)
		}
	}
	return nil
}
