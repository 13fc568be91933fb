package filters

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/dop251/goja"

	"sluice/backend/crypto"
	"sluice/backend/engine"
	"sluice/backend/event"
	"sluice/backend/logging"
)

func init() {
	engine.Register(&engine.FilterKind{
		Name: "acceptTLS", Joint: true,
		Signature: "acceptTLS(pipeline: string, options: {certificate: {cert: crypto.Certificate | crypto.CertificateChain, key: crypto.PrivateKey} | (sni: string) => {cert, key}, trusted?: crypto.Certificate[], alpn?: string[] | (names: string[]) => number})",
		Help: "TLS server. Its input is the client's encrypted Data: once the handshake is done, the decrypted Data goes to the sub-pipeline (sharing the context), and the sub-pipeline's output is encrypted back. " +
			"certificate may be a function of the SNI name. With trusted, clients must present a certificate that chains to one of them (mutual TLS). " +
			"alpn lists the protocols accepted (the first one the client offers that is listed wins) or picks an index into the client's list. " +
			"Without it the client's first protocol is taken, except that h2 is agreed on only when the sub-pipeline speaks HTTP/2, that is when it has a demuxHTTP or serveHTTP filter (which detect the HTTP/2 preface); so tutorial 18's shape answers curl --http2 with HTTP/2 and plain curl with HTTP/1.1. " +
			"A TLS server whose sub-pipeline is not HTTP never gets h2 unless its alpn option lists it. A failed handshake ends the stream with Unauthorized.",
		Parse: parseAcceptTLS,
	})
	engine.Register(&engine.FilterKind{
		Name: "connectTLS", Joint: true,
		Signature: "connectTLS(pipeline: string, options?: {certificate?: {cert, key} | () => {cert, key}, trusted?: crypto.Certificate[], sni?: string | () => string, alpn?: string | string[]})",
		Help: "TLS client. Its input is Data to encrypt: the encrypted Data goes to the sub-pipeline (usually a connect), whose output is decrypted and passed on. " +
			"With trusted, the server's certificate must chain to one of them; without it the server's certificate is not checked (as in Pipy 0.30). Host names are never checked against the certificate. " +
			"certificate is the client certificate for mutual TLS. A failed handshake ends the stream with Unauthorized, or with the sub-pipeline's error when the connection failed.",
		Parse: parseConnectTLS,
	})
}

// ---- options ----

// tlsCert is a certificate option: a fixed pair, or a function returning one.
type tlsCert struct {
	fixed *tls.Certificate
	fn    goja.Callable
}

// parseCertOption reads {cert, key} (or a function) from options.certificate.
func parseCertOption(v goja.Value) (*tlsCert, error) {
	if engine.IsNullish(v) {
		return nil, nil
	}
	if fn, ok := goja.AssertFunction(v); ok {
		return &tlsCert{fn: fn}, nil
	}
	if _, ok := v.(*goja.Object); !ok {
		return nil, fmt.Errorf("options.certificate expects an object {cert, key} or a function, got %s", crypto.TypeName(v))
	}
	c, err := certPair(v)
	if err != nil {
		return nil, fmt.Errorf("options.certificate: %v", err)
	}
	return &tlsCert{fixed: c}, nil
}

// certPair converts {cert, key} to a tls.Certificate.
func certPair(v goja.Value) (*tls.Certificate, error) {
	o, ok := v.(*goja.Object)
	if !ok || engine.IsNullish(v) {
		return nil, fmt.Errorf("expects an object {cert, key}, got %s", crypto.TypeName(v))
	}
	certV, keyV := o.Get("cert"), o.Get("key")
	chain, ok := crypto.CertificatesOf(certV)
	if !ok {
		return nil, fmt.Errorf("cert must be a crypto.Certificate or a crypto.CertificateChain, got %s", crypto.TypeName(certV))
	}
	key, ok := crypto.PrivateKeyOf(keyV)
	if !ok {
		return nil, fmt.Errorf("key must be a crypto.PrivateKey, got %s", crypto.TypeName(keyV))
	}
	return crypto.TLSCertificate(chain, key)
}

// resolve returns the certificate for a stream, calling the function in
// p's context with arg.
func (c *tlsCert) resolve(p *engine.Pipeline, arg goja.Value) (*tls.Certificate, error) {
	if c == nil {
		return nil, nil
	}
	if c.fn == nil {
		return c.fixed, nil
	}
	v, err := p.W.Call(p.Context, c.fn, arg)
	if err != nil {
		return nil, err
	}
	if engine.IsNullish(v) {
		return nil, nil
	}
	cert, err := certPair(v)
	if err != nil {
		return nil, fmt.Errorf("the certificate callback's result: %v", err)
	}
	return cert, nil
}

func parseTrusted(v goja.Value) (*x509.CertPool, error) {
	if engine.IsNullish(v) {
		return nil, nil
	}
	o, ok := v.(*goja.Object)
	if !ok || o.ClassName() != "Array" {
		return nil, fmt.Errorf("options.trusted expects an array of crypto.Certificate, got %s", crypto.TypeName(v))
	}
	n := int(o.Get("length").ToInteger())
	if n == 0 {
		return nil, nil // as in Pipy: no peer is asked for a certificate
	}
	pool := x509.NewCertPool()
	for i := range n {
		e := o.Get(fmt.Sprint(i))
		c, ok := crypto.CertificateOf(e)
		if !ok {
			chain, isChain := crypto.CertificatesOf(e)
			if !isChain {
				return nil, fmt.Errorf("options.trusted[%d] expects a crypto.Certificate, got %s", i, crypto.TypeName(e))
			}
			for _, c := range chain {
				pool.AddCert(c)
			}
			continue
		}
		pool.AddCert(c)
	}
	return pool, nil
}

func stringList(v goja.Value, what string) ([]string, error) {
	if s, ok := v.Export().(string); ok {
		return []string{s}, nil
	}
	o, ok := v.(*goja.Object)
	if !ok || o.ClassName() != "Array" {
		return nil, fmt.Errorf("%s expects a string or an array of strings, got %s", what, crypto.TypeName(v))
	}
	var out []string
	n := int(o.Get("length").ToInteger())
	for i := range n {
		s, ok := o.Get(fmt.Sprint(i)).Export().(string)
		if !ok || s == "" || len(s) > 255 {
			return nil, fmt.Errorf("%s[%d] expects a protocol name (a string of 1 to 255 characters)", what, i)
		}
		out = append(out, s)
	}
	return out, nil
}

func optionsObject(args []goja.Value, i int) (*goja.Object, error) {
	if len(args) <= i || engine.IsNullish(args[i]) {
		return nil, nil
	}
	o, ok := args[i].(*goja.Object)
	if !ok {
		return nil, fmt.Errorf("options must be an object, got %s", crypto.TypeName(args[i]))
	}
	return o, nil
}

func checkKeys(o *goja.Object, known ...string) error {
	for _, k := range o.Keys() {
		ok := false
		for _, n := range known {
			ok = ok || n == k
		}
		if !ok {
			return fmt.Errorf("unknown option %q", k)
		}
	}
	return nil
}

func optionGet(o *goja.Object, name string) goja.Value {
	if o == nil {
		return goja.Undefined()
	}
	if v := o.Get(name); v != nil {
		return v
	}
	return goja.Undefined()
}

// ---- acceptTLS ----

type acceptTLSConfig struct {
	base     *tls.Config // shared by the workers: its session ticket keys make resumption work
	ref      *engine.LayoutRef
	cert     *tlsCert
	trusted  *x509.CertPool
	alpnSet  []string
	alpnFn   goja.Callable
	hasAlpns bool
}

func parseAcceptTLS(b *engine.Builder, args []goja.Value) (engine.Config, error) {
	if err := argCount(args, 1, 2, "acceptTLS(pipeline, options)"); err != nil {
		return nil, err
	}
	name, ok := args[0].Export().(string)
	if !ok || name == "" {
		return nil, fmt.Errorf("argument 1: expected a sub-pipeline name, got %s", crypto.TypeName(args[0]))
	}
	c := &acceptTLSConfig{ref: b.Ref(name)}
	key := struct {
		kind string
		site engine.Site
	}{"acceptTLS", b.Site()}
	c.base = b.W.Program.Shared(key, func() any {
		// Each connection's settings (its certificate, its protocol) were
		// decided on the worker before the handshake started.
		return &tls.Config{GetConfigForClient: func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
			if mc, ok := hello.Conn.(*memConn); ok {
				return mc.s.cfg, nil
			}
			return nil, errors.New("not a Sluice TLS session")
		}}
	}).(*tls.Config)
	o, err := optionsObject(args, 1)
	if err != nil {
		return nil, err
	}
	if o != nil {
		if err := checkKeys(o, "certificate", "trusted", "alpn"); err != nil {
			return nil, err
		}
	}
	if c.cert, err = parseCertOption(optionGet(o, "certificate")); err != nil {
		return nil, err
	}
	if c.trusted, err = parseTrusted(optionGet(o, "trusted")); err != nil {
		return nil, err
	}
	if v := optionGet(o, "alpn"); !engine.IsNullish(v) {
		c.hasAlpns = true
		if fn, ok := goja.AssertFunction(v); ok {
			c.alpnFn = fn
		} else if c.alpnSet, err = stringList(v, "options.alpn"); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (c *acceptTLSConfig) Links() []string { return []string{c.ref.Name} }

func (c *acceptTLSConfig) New(p *engine.Pipeline, next event.Target) engine.Filter {
	f := &acceptTLS{c: c, p: p, next: next}
	f.out.f = f
	return f
}

// acceptTLS is a TLS server on one stream. Until the ClientHello is in,
// the encrypted input is held, so that the certificate and ALPN callbacks
// run here on the worker with the SNI name and protocol list; then a
// tlsSession takes over.
type acceptTLS struct {
	c       *acceptTLSConfig
	p       *engine.Pipeline
	next    event.Target
	out     acceptTLSOut
	hello   helloReader
	held    [][]byte
	s       *tlsSession
	sub     *engine.Pipeline
	inEnded bool
	inCode  event.ErrorCode
	done    bool
}

// acceptTLSOut receives the sub-pipeline's output: plaintext to encrypt.
type acceptTLSOut struct{ f *acceptTLS }

func (o *acceptTLSOut) OnEvent(e event.Event) {
	f := o.f
	if f.done || f.s == nil {
		return
	}
	switch e := e.(type) {
	case *event.Data:
		f.s.writePlain(e)
	case *event.StreamEnd:
		f.s.closeWrite(e.Error)
	}
}

func (f *acceptTLS) OnEvent(e event.Event) {
	if f.done {
		return
	}
	switch e := e.(type) {
	case *event.Data:
		if f.s != nil {
			f.s.feed(e)
			return
		}
		chunks := e.Chunks()
		for i, c := range chunks {
			f.held = append(f.held, append([]byte(nil), c...))
			if hello, done := f.hello.feed(c); done {
				for _, rest := range chunks[i+1:] {
					f.held = append(f.held, append([]byte(nil), rest...))
				}
				f.start(hello)
				return
			}
		}
	case *event.StreamEnd:
		f.inEnded, f.inCode = true, e.Error
		if f.s != nil {
			f.s.feedEOF()
			return
		}
		// The client left before its hello was complete.
		f.finish(e.Error)
	}
}

// start sets up the session for the client's hello (nil when the input is
// not a readable ClientHello: the handshake then fails by itself).
func (f *acceptTLS) start(hello *clientHello) {
	cfg := &tls.Config{}
	if f.c.trusted != nil {
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
		cfg.ClientCAs = f.c.trusted
	}
	sni := goja.Undefined()
	var offered []string
	if hello != nil {
		if len(hello.serverNames) > 0 {
			sni = f.p.W.Runtime().ToValue(hello.serverNames[0])
		}
		offered = hello.protocolNames
	}
	cert, err := f.c.cert.resolve(f.p, sni)
	if err != nil {
		if _, ok := err.(*engine.ScriptError); !ok {
			logging.Errorf("[acceptTLS] %v", err)
		}
		f.finish(event.RuntimeError)
		return
	}
	if cert == nil {
		logging.Errorf("[acceptTLS] no certificate for the handshake (options.certificate is missing or returned nothing)")
		f.finish(event.Unauthorized)
		return
	}
	cfg.Certificates = []tls.Certificate{*cert}
	if len(offered) > 0 {
		proto, err := f.selectALPN(offered)
		if err != nil {
			f.finish(event.RuntimeError)
			return
		}
		if proto != "" {
			cfg.NextProtos = []string{proto}
		}
	}
	f.s = newTLSSession(f.p.W, (*acceptSide)(f))
	f.s.cfg = cfg
	f.s.start(tls.Server(f.s.conn, f.c.base))
	for _, c := range f.held {
		f.s.feedBytes(c)
	}
	f.held = nil
	if f.inEnded {
		f.s.feedEOF()
	}
}

// selectALPN picks the protocol to agree on among those the client offers
// ("" for none).
func (f *acceptTLS) selectALPN(offered []string) (string, error) {
	switch {
	case f.c.alpnFn != nil:
		names := make([]any, len(offered))
		for i, n := range offered {
			names[i] = n
		}
		v, err := f.p.W.Call(f.p.Context, f.c.alpnFn, f.p.W.Runtime().ToValue(names))
		if err != nil {
			return "", err
		}
		if i := v.ToInteger(); !engine.IsNullish(v) && i >= 0 && int(i) < len(offered) {
			return offered[i], nil
		}
		return "", nil
	case f.c.hasAlpns:
		for _, o := range offered {
			for _, s := range f.c.alpnSet {
				if o == s {
					return o, nil
				}
			}
		}
		return "", nil
	}
	h2 := speaksH2(f.c.ref)
	for _, o := range offered {
		if o != "h2" || h2 {
			return o, nil
		}
	}
	return "", nil
}

// speaksH2 reports whether the sub-pipeline takes HTTP/2: it has an HTTP
// server filter (demuxHTTP or serveHTTP), which detects the preface. The
// filters before it (use, handleStreamStart, ...) may only watch the Data.
func speaksH2(ref *engine.LayoutRef) bool {
	if ref == nil || ref.Layout == nil {
		return false
	}
	for _, name := range ref.Layout.FilterNames() {
		if name == "demuxHTTP" || name == "serveHTTP" {
			return true
		}
	}
	return false
}

// finish ends the stream toward the client.
func (f *acceptTLS) finish(code event.ErrorCode) {
	if f.done {
		return
	}
	f.done = true
	if f.s != nil {
		f.s.close()
	}
	f.next.OnEvent(event.NewStreamEnd(code))
}

func (f *acceptTLS) Reset() {
	if f.s != nil {
		f.s.close()
	}
	if f.sub != nil {
		f.sub.Release()
	}
	f.hello.reset()
	*f = acceptTLS{c: f.c, p: f.p, next: f.next, hello: f.hello}
	f.out.f = f
}

// acceptSide is how the session reaches an acceptTLS: ciphertext goes to
// the client, plaintext to the sub-pipeline.
type acceptSide acceptTLS

func (a *acceptSide) f() *acceptTLS { return (*acceptTLS)(a) }

func (a *acceptSide) subPipeline() *engine.Pipeline {
	f := a.f()
	if f.sub == nil {
		f.sub = f.p.Sub(f.c.ref, false, &f.out)
	}
	return f.sub
}

func (a *acceptSide) cipherOut(d *event.Data) { a.f().next.OnEvent(d) }
func (a *acceptSide) plainOut(d *event.Data)  { a.subPipeline().OnEvent(d) }

func (a *acceptSide) handshakeFailed(err error) {
	f := a.f()
	if f.inEnded {
		logging.Debugf("[acceptTLS] the client left during the handshake: %v", err)
		f.finish(f.inCode)
		return
	}
	logging.Warnf("[acceptTLS] handshake failed: %v", err)
	f.finish(event.Unauthorized)
}

func (a *acceptSide) readEnded(err error) {
	f := a.f()
	switch {
	case f.inEnded:
		a.subPipeline().OnEvent(event.NewStreamEnd(f.inCode))
	case errors.Is(err, io.EOF):
		a.subPipeline().OnEvent(event.NewStreamEnd(event.NoError)) // close_notify
	default:
		logging.Debugf("[acceptTLS] %v", err)
		a.subPipeline().OnEvent(event.NewStreamEnd(event.ReadError))
		f.finish(event.ReadError)
	}
}

func (a *acceptSide) plainClosed(code event.ErrorCode) { a.f().finish(code) }

// ---- connectTLS ----

type connectTLSConfig struct {
	ref     *engine.LayoutRef
	cert    *tlsCert
	trusted *x509.CertPool
	sni     engine.Value
	hasSNI  bool
	alpn    []string
}

func parseConnectTLS(b *engine.Builder, args []goja.Value) (engine.Config, error) {
	if err := argCount(args, 1, 2, "connectTLS(pipeline, options?)"); err != nil {
		return nil, err
	}
	name, ok := args[0].Export().(string)
	if !ok || name == "" {
		return nil, fmt.Errorf("argument 1: expected a sub-pipeline name, got %s", crypto.TypeName(args[0]))
	}
	c := &connectTLSConfig{ref: b.Ref(name)}
	o, err := optionsObject(args, 1)
	if err != nil {
		return nil, err
	}
	if o != nil {
		if err := checkKeys(o, "certificate", "trusted", "sni", "alpn"); err != nil {
			return nil, err
		}
	}
	if c.cert, err = parseCertOption(optionGet(o, "certificate")); err != nil {
		return nil, err
	}
	if c.trusted, err = parseTrusted(optionGet(o, "trusted")); err != nil {
		return nil, err
	}
	if v := optionGet(o, "sni"); !engine.IsNullish(v) {
		if _, isFn := goja.AssertFunction(v); !isFn {
			if _, isStr := v.Export().(string); !isStr {
				return nil, fmt.Errorf("options.sni expects a string or a function, got %s", crypto.TypeName(v))
			}
		}
		c.sni, c.hasSNI = engine.NewValue(v), true
	}
	if v := optionGet(o, "alpn"); !engine.IsNullish(v) {
		if c.alpn, err = stringList(v, "options.alpn"); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (c *connectTLSConfig) Links() []string { return []string{c.ref.Name} }

func (c *connectTLSConfig) New(p *engine.Pipeline, next event.Target) engine.Filter {
	f := &connectTLS{c: c, p: p, next: next}
	f.out.f = f
	return f
}

// connectTLS is a TLS client on one stream; the sub-pipeline carries the
// encrypted bytes to and from the server.
type connectTLS struct {
	c        *connectTLSConfig
	p        *engine.Pipeline
	next     event.Target
	out      connectTLSOut
	started  bool
	s        *tlsSession
	sub      *engine.Pipeline
	subEnded bool
	subCode  event.ErrorCode
	done     bool
}

// connectTLSOut receives the sub-pipeline's output: the server's bytes.
type connectTLSOut struct{ f *connectTLS }

func (o *connectTLSOut) OnEvent(e event.Event) {
	f := o.f
	if f.done || f.s == nil {
		return
	}
	switch e := e.(type) {
	case *event.Data:
		f.s.feed(e)
	case *event.StreamEnd:
		f.subEnded, f.subCode = true, e.Error
		f.s.feedEOF()
	}
}

func (f *connectTLS) OnEvent(e event.Event) {
	if f.done {
		return
	}
	if !f.started {
		f.started = true
		if se, ok := e.(*event.StreamEnd); ok {
			f.done = true
			f.next.OnEvent(se)
			return
		}
		if !f.start() {
			return
		}
	}
	switch e := e.(type) {
	case *event.Data:
		f.s.writePlain(e)
	case *event.StreamEnd:
		f.s.closeWrite(e.Error)
	}
}

func (f *connectTLS) start() bool {
	cfg := &tls.Config{InsecureSkipVerify: true, NextProtos: f.c.alpn}
	if f.c.hasSNI {
		v, err := f.c.sni.Eval(f.p)
		if err != nil {
			f.fail(event.RuntimeError)
			return false
		}
		if s, ok := v.Export().(string); ok {
			cfg.ServerName = s
		} else if !engine.IsNullish(v) {
			logging.Errorf("[connectTLS] the sni callback returned %s, not a string", crypto.TypeName(v))
		}
	}
	cert, err := f.c.cert.resolve(f.p, goja.Undefined())
	if err != nil {
		if _, ok := err.(*engine.ScriptError); !ok {
			logging.Errorf("[connectTLS] %v", err)
		}
		f.fail(event.RuntimeError)
		return false
	}
	// The configured certificate is sent whenever the server asks, as
	// OpenSSL does, whatever CA names the server lists.
	cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
		if cert == nil {
			return &tls.Certificate{}, nil
		}
		return cert, nil
	}
	if roots := f.c.trusted; roots != nil {
		cfg.VerifyPeerCertificate = func(raw [][]byte, _ [][]*x509.Certificate) error {
			return verifyChain(raw, roots, x509.ExtKeyUsageServerAuth)
		}
	}
	f.sub = f.p.Sub(f.c.ref, false, &f.out)
	f.s = newTLSSession(f.p.W, (*connectSide)(f))
	f.s.start(tls.Client(f.s.conn, cfg))
	return true
}

// verifyChain checks a peer's certificates against roots, without looking
// at host names (Pipy checks none either).
func verifyChain(raw [][]byte, roots *x509.CertPool, usage x509.ExtKeyUsage) error {
	if len(raw) == 0 {
		return errors.New("the peer sent no certificate")
	}
	certs := make([]*x509.Certificate, len(raw))
	for i, b := range raw {
		c, err := x509.ParseCertificate(b)
		if err != nil {
			return err
		}
		certs[i] = c
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	_, err := certs[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{usage}})
	return err
}

// fail ends the stream both ways with code.
func (f *connectTLS) fail(code event.ErrorCode) {
	if f.done {
		return
	}
	f.done = true
	if f.s != nil {
		f.s.close()
	}
	if f.sub != nil && !f.subEnded {
		f.sub.OnEvent(event.NewStreamEnd(code))
	}
	f.next.OnEvent(event.NewStreamEnd(code))
}

func (f *connectTLS) Reset() {
	if f.s != nil {
		f.s.close()
	}
	if f.sub != nil {
		f.sub.Release()
	}
	*f = connectTLS{c: f.c, p: f.p, next: f.next}
	f.out.f = f
}

// connectSide is how the session reaches a connectTLS: ciphertext goes to
// the sub-pipeline, plaintext out of the filter.
type connectSide connectTLS

func (c *connectSide) f() *connectTLS { return (*connectTLS)(c) }

func (c *connectSide) cipherOut(d *event.Data) { c.f().sub.OnEvent(d) }
func (c *connectSide) plainOut(d *event.Data)  { c.f().next.OnEvent(d) }

func (c *connectSide) handshakeFailed(err error) {
	f := c.f()
	if f.subEnded && f.subCode != event.NoError {
		f.fail(f.subCode) // the connection failed: say why (502, 504...)
		return
	}
	logging.Warnf("[connectTLS] handshake failed: %v", err)
	f.fail(event.Unauthorized)
}

func (c *connectSide) readEnded(err error) {
	f := c.f()
	switch {
	case f.subEnded:
		f.fail(f.subCode)
	case errors.Is(err, io.EOF):
		f.fail(event.NoError) // close_notify
	default:
		logging.Debugf("[connectTLS] %v", err)
		f.fail(event.ReadError)
	}
}

func (c *connectSide) plainClosed(code event.ErrorCode) {
	f := c.f()
	if !f.subEnded {
		f.sub.OnEvent(event.NewStreamEnd(code))
	}
}

// ---- the session ----

// tlsSide is the filter a session serves. Its methods run on the worker.
type tlsSide interface {
	cipherOut(d *event.Data)          // encrypted bytes for the peer
	plainOut(d *event.Data)           // decrypted bytes from the peer
	handshakeFailed(err error)        // the session is over
	readEnded(err error)              // no more plaintext: io.EOF after close_notify, or why not
	plainClosed(code event.ErrorCode) // closeWrite has sent close_notify
}

// tlsSession runs crypto/tls for a filter over an in-memory connection:
// the worker feeds the peer's bytes in (feed), and a reader goroutine runs
// the handshake and then reads plaintext. Everything the goroutine and
// crypto/tls produce — encrypted bytes to send, decrypted bytes, the
// handshake's outcome — is queued and delivered to the side on the worker,
// in order, by drain. The worker writes plaintext itself once the
// handshake is done (crypto/tls allows a Write concurrent with a Read, and
// writes to the in-memory connection never block).
//
// Threading: the fields under mu are shared with the reader goroutine;
// the rest are worker-only.
type tlsSession struct {
	w    *engine.Worker
	side tlsSide
	conn *memConn
	tls  *tls.Conn
	cfg  *tls.Config // a server's settings for this connection; set before start

	mu        sync.Mutex
	cond      sync.Cond
	in        []byte
	inEOF     bool
	closed    bool
	queue     []sessionItem
	scheduled bool // a drain is posted
	writing   bool // the worker is in tls.Write: it drains afterwards

	// worker only
	draining   bool
	handshaken bool
	dead       bool
	pending    []*event.Data // plaintext written before the handshake finished
	closing    bool          // closeWrite waits for the handshake
	closeCode  event.ErrorCode
}

type sessionItemKind uint8

const (
	itemCipher sessionItemKind = iota
	itemPlain
	itemHandshake
	itemHandshakeFailed
	itemReadEnded
	itemWriteClosed
)

type sessionItem struct {
	kind sessionItemKind
	b    []byte
	err  error
}

func newTLSSession(w *engine.Worker, side tlsSide) *tlsSession {
	s := &tlsSession{w: w, side: side}
	s.cond.L = &s.mu
	s.conn = &memConn{s: s}
	return s
}

func (s *tlsSession) start(c *tls.Conn) {
	s.tls = c
	go s.run()
}

// run is the reader goroutine.
func (s *tlsSession) run() {
	if err := s.tls.Handshake(); err != nil {
		s.push(sessionItem{kind: itemHandshakeFailed, err: err}, true)
		return
	}
	s.push(sessionItem{kind: itemHandshake}, true)
	buf := make([]byte, 16<<10)
	for {
		n, err := s.tls.Read(buf)
		if n > 0 {
			s.push(sessionItem{kind: itemPlain, b: append([]byte(nil), buf[:n]...)}, true)
		}
		if err != nil {
			s.push(sessionItem{kind: itemReadEnded, err: err}, true)
			return
		}
	}
}

// push queues an item for the worker. direct says the caller holds no
// crypto/tls lock, so it may post the drain itself: Post can run the task
// on the calling goroutine, and a drain that writes must not run inside
// crypto/tls.
func (s *tlsSession) push(it sessionItem, direct bool) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.queue = append(s.queue, it)
	post := !s.scheduled && !(it.kind == itemCipher && s.writing)
	if post {
		s.scheduled = true
	}
	s.mu.Unlock()
	switch {
	case !post:
	case direct:
		s.w.Post(s.drain)
	default:
		go s.w.Post(s.drain)
	}
}

// drain delivers the queued items. Worker only. A drain started while one
// is running returns at once: the running one loops until the queue is
// empty, so items keep their order.
func (s *tlsSession) drain() {
	if s.draining {
		return
	}
	s.draining = true
	defer func() { s.draining = false }()
	for !s.dead {
		s.mu.Lock()
		items := s.queue
		s.queue, s.scheduled = nil, false
		s.mu.Unlock()
		if len(items) == 0 {
			return
		}
		var cipher *event.Data
		flush := func() {
			if cipher != nil && !s.dead {
				s.side.cipherOut(cipher)
			}
			cipher = nil
		}
		for _, it := range items {
			if s.dead {
				return
			}
			if it.kind == itemCipher {
				if cipher == nil {
					cipher = &event.Data{}
				}
				cipher.Push(it.b)
				continue
			}
			flush()
			if s.dead {
				return
			}
			switch it.kind {
			case itemPlain:
				s.side.plainOut(event.NewData(it.b))
			case itemHandshake:
				s.handshaken = true
				for _, d := range s.pending {
					s.write(d)
				}
				s.pending = nil
				if s.closing {
					s.finishWrite()
				}
			case itemHandshakeFailed:
				s.side.handshakeFailed(it.err)
			case itemReadEnded:
				s.side.readEnded(it.err)
			case itemWriteClosed:
				s.side.plainClosed(s.closeCode)
			}
		}
		flush()
	}
}

// feed passes the peer's bytes to crypto/tls. Worker only.
func (s *tlsSession) feed(d *event.Data) {
	for _, c := range d.Chunks() {
		s.feedBytes(c)
	}
}

func (s *tlsSession) feedBytes(b []byte) {
	s.mu.Lock()
	s.in = append(s.in, b...)
	s.cond.Signal()
	s.mu.Unlock()
}

// feedEOF says the peer's bytes have ended.
func (s *tlsSession) feedEOF() {
	s.mu.Lock()
	s.inEOF = true
	s.cond.Broadcast()
	s.mu.Unlock()
}

// writePlain encrypts d for the peer, or holds it until the handshake is
// done. Worker only.
func (s *tlsSession) writePlain(d *event.Data) {
	if s.dead || s.closing {
		return
	}
	if !s.handshaken {
		s.pending = append(s.pending, d)
		return
	}
	s.write(d)
	s.drain()
}

func (s *tlsSession) write(d *event.Data) {
	s.mu.Lock()
	s.writing = true
	s.mu.Unlock()
	for _, c := range d.Chunks() {
		if _, err := s.tls.Write(c); err != nil {
			break
		}
	}
	s.mu.Lock()
	s.writing = false
	s.mu.Unlock()
}

// closeWrite sends close_notify once everything written is out, then
// tells the side. Worker only.
func (s *tlsSession) closeWrite(code event.ErrorCode) {
	if s.dead || s.closing {
		return
	}
	s.closing, s.closeCode = true, code
	if s.handshaken {
		s.finishWrite()
		s.drain()
	}
}

func (s *tlsSession) finishWrite() {
	s.mu.Lock()
	s.writing = true
	s.mu.Unlock()
	s.tls.CloseWrite()
	s.mu.Lock()
	s.writing = false
	s.mu.Unlock()
	// Queued behind close_notify and whatever was written before it.
	s.push(sessionItem{kind: itemWriteClosed}, true)
}

// close stops the session: the reader goroutine ends and nothing more is
// delivered. Worker only.
func (s *tlsSession) close() {
	if s.dead {
		return
	}
	s.dead = true
	s.mu.Lock()
	s.closed = true
	s.queue = nil
	s.cond.Broadcast()
	s.mu.Unlock()
}

// memConn is the net.Conn crypto/tls sees.
type memConn struct{ s *tlsSession }

func (c *memConn) Read(p []byte) (int, error) {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.in) == 0 && !s.inEOF && !s.closed {
		s.cond.Wait()
	}
	if s.closed {
		return 0, net.ErrClosed
	}
	if len(s.in) == 0 {
		return 0, io.EOF
	}
	n := copy(p, s.in)
	s.in = s.in[n:]
	if len(s.in) == 0 {
		s.in = nil
	}
	return n, nil
}

func (c *memConn) Write(p []byte) (int, error) {
	c.s.push(sessionItem{kind: itemCipher, b: append([]byte(nil), p...)}, false)
	return len(p), nil
}

func (c *memConn) Close() error {
	c.s.mu.Lock()
	c.s.closed = true
	c.s.cond.Broadcast()
	c.s.mu.Unlock()
	return nil
}

type memAddr struct{}

func (memAddr) Network() string { return "memory" }
func (memAddr) String() string  { return "tls" }

func (c *memConn) LocalAddr() net.Addr              { return memAddr{} }
func (c *memConn) RemoteAddr() net.Addr             { return memAddr{} }
func (c *memConn) SetDeadline(time.Time) error      { return nil }
func (c *memConn) SetReadDeadline(time.Time) error  { return nil }
func (c *memConn) SetWriteDeadline(time.Time) error { return nil }
