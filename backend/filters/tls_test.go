package filters_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"sluice/backend/engine"
)

// ---- certificates made for the tests ----

type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  string
}

var certSerial atomic.Int64

func newCA(t testing.TB, name string) *testCA {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(certSerial.Add(1)),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key, pem: pemBlock("CERTIFICATE", der)}
}

func pemBlock(typ string, der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
}

func (ca *testCA) pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.cert)
	return p
}

// issuedCert is a certificate with its key, as PEM and for Go clients.
type issuedCert struct {
	certPEM, keyPEM string
	tls             tls.Certificate
}

// issue makes a certificate for names (DNS names or IP addresses); an
// intermediate CA, when given, signs it and is appended to certPEM.
func (ca *testCA) issue(t testing.TB, cn string, names []string, useRSA bool, inter *testCA) issuedCert {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(certSerial.Add(1)),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	var key any
	var pub any
	if useRSA {
		k, _ := rsa.GenerateKey(rand.Reader, 2048)
		key, pub = k, k.Public()
	} else {
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		key, pub = k, k.Public()
	}
	signer := ca
	if inter != nil {
		signer = inter
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer.cert, pub, signer.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
	l := issuedCert{certPEM: pemBlock("CERTIFICATE", der), keyPEM: pemBlock("PRIVATE KEY", keyDER)}
	chain := [][]byte{der}
	if inter != nil {
		l.certPEM += inter.pem
		chain = append(chain, inter.cert.Raw)
	}
	l.tls = tls.Certificate{Certificate: chain, PrivateKey: key}
	return l
}

// intermediate makes a CA signed by ca.
func (ca *testCA) intermediate(t testing.TB, name string) *testCA {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(certSerial.Add(1)),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, key.Public(), ca.key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key, pem: pemBlock("CERTIFICATE", der)}
}

// tlsClient is an HTTPS client trusting roots; it offers h2 and http/1.1
// as browsers and curl do.
func tlsClient(t testing.TB, roots *x509.CertPool, serverName string, certs ...tls.Certificate) (*http.Client, *http.Transport) {
	cfg := &tls.Config{RootCAs: roots, ServerName: serverName}
	if len(certs) > 0 {
		// Sent whatever CAs the server names, so that untrusted ones reach
		// the server's check.
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &certs[0], nil }
	}
	tr := &http.Transport{TLSClientConfig: cfg, ForceAttemptHTTP2: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: ioTimeout}, tr
}

// checkSessionsEnd makes the test fail if a TLS session's goroutine is
// still running once everything else has been cleaned up. Call it before
// run, so that its cleanup runs after run's.
func checkSessionsEnd(t *testing.T) {
	t.Cleanup(func() {
		if t.Failed() {
			return
		}
		waitFor(t, "the TLS sessions' goroutines to end", 3*time.Second, func() bool {
			buf := make([]byte, 1<<20)
			return !strings.Contains(string(buf[:runtime.Stack(buf, true)]), "(*tlsSession).run")
		})
	})
}

const certScript = `
  cert: new crypto.CertificateChain(pipy.load('secret/server-cert.pem')),
  key: new crypto.PrivateKey(pipy.load('secret/server-key.pem')),
`

// ---- acceptTLS ----

func TestAcceptTLSTermination(t *testing.T) {
	checkSessionsEnd(t)
	ca := newCA(t, "Test Root")
	inter := ca.intermediate(t, "Test Intermediate")
	srv := ca.issue(t, "localhost", []string{"localhost", "127.0.0.1"}, true, inter)
	inst := run(t, `
pipy()
.listen($PORT)
  .acceptTLS('tls-offloaded', {
    certificate: {`+certScript+`},
  })
.pipeline('tls-offloaded')
  .serveHTTP(msg => msg.head.method === 'POST' ? new Message(msg.body) : new Message('Hello, TLS!\n'))
`, []runOpt{files(map[string]string{"secret/server-cert.pem": srv.certPEM, "secret/server-key.pem": srv.keyPEM})})

	c, _ := tlsClient(t, ca.pool(), "")
	url := "https://" + inst.addr + "/"
	for range 3 { // keep-alive: one connection, several requests
		res, err := c.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || string(b) != "Hello, TLS!\n" {
			t.Fatalf("got %d %q", res.StatusCode, b)
		}
		// The client offered h2 first and the sub-pipeline is an HTTP
		// server, which speaks HTTP/2: h2 it is.
		if res.Proto != "HTTP/2.0" || res.TLS.NegotiatedProtocol != "h2" {
			t.Fatalf("protocol %s, ALPN %q", res.Proto, res.TLS.NegotiatedProtocol)
		}
		if len(res.TLS.PeerCertificates) != 2 {
			t.Fatalf("the server sent %d certificates, want the issuedCert and the intermediate", len(res.TLS.PeerCertificates))
		}
	}
	// A second connection resumes the first one's session.
	cfg := &tls.Config{RootCAs: ca.pool(), ClientSessionCache: tls.NewLRUClientSessionCache(4)}
	for i := range 2 {
		conn, err := tls.Dial("tcp", inst.addr, cfg)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(conn, "GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
		io.ReadAll(conn)
		if resumed := conn.ConnectionState().DidResume; resumed != (i == 1) {
			t.Errorf("connection %d: resumed=%v", i+1, resumed)
		}
		conn.Close()
	}

	body := bigBody(1 << 20)
	res, err := c.Post(url, "application/octet-stream", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(res.Body)
	res.Body.Close()
	mustEqualBytes(t, "echoed 1 MiB body", got, body)
}

// A client that speaks no TLS is turned away; the listener keeps working.
func TestAcceptTLSNotTLS(t *testing.T) {
	checkSessionsEnd(t)
	ca := newCA(t, "Test Root")
	srv := ca.issue(t, "localhost", []string{"127.0.0.1"}, false, nil)
	inst := run(t, `
pipy()
.listen($PORT)
  .acceptTLS('tls', {certificate: {`+certScript+`}})
.pipeline('tls')
  .serveHTTP(new Message('ok'))
`, []runOpt{files(map[string]string{"secret/server-cert.pem": srv.certPEM, "secret/server-key.pem": srv.keyPEM})})
	r := dial(t, inst.addr)
	r.write("GET / HTTP/1.1\r\nhost: x\r\n\r\n")
	b, _ := io.ReadAll(r.br)
	if bytes.Contains(b, []byte("HTTP/1.1")) {
		t.Fatalf("a plaintext request got an HTTP answer: %q", b)
	}
	// A client that connects and leaves at once.
	c, _ := net.Dial("tcp", inst.addr)
	c.Close()
	cl, _ := tlsClient(t, ca.pool(), "")
	status, body, _ := get(t, cl, "https://"+inst.addr+"/")
	if status != 200 || body != "ok" {
		t.Fatalf("got %d %q", status, body)
	}
}

// The certificate can depend on the SNI name; handleTLSClientHello sees
// the names and protocols first, in the context acceptTLS's sub-pipeline
// shares.
func TestAcceptTLSSNIAndClientHello(t *testing.T) {
	ca := newCA(t, "Test Root")
	a := ca.issue(t, "a.test", []string{"a.test"}, false, nil)
	b := ca.issue(t, "b.test", []string{"b.test"}, false, nil)
	inst := run(t, `
pipy({
  _a: {cert: new crypto.Certificate(pipy.load('a.pem')), key: new crypto.PrivateKey(pipy.load('a.key'))},
  _b: {cert: new crypto.Certificate(pipy.load('b.pem')), key: new crypto.PrivateKey(pipy.load('b.key'))},
  _hello: '',
  _sni: '',
})
.listen($PORT)
  .handleTLSClientHello(h => _hello = h.serverNames.join(',') + '|' + h.protocolNames.join(','))
  .acceptTLS('tls', {
    certificate: sni => (_sni = sni, sni === 'b.test' ? _b : _a),
    alpn: ['x-test', 'http/1.1'],
  })
.pipeline('tls')
  .serveHTTP(() => new Message(_hello + '|' + _sni))
`, []runOpt{files(map[string]string{"a.pem": a.certPEM, "a.key": a.keyPEM, "b.pem": b.certPEM, "b.key": b.keyPEM})})

	for _, name := range []string{"a.test", "b.test"} {
		conn, err := tls.Dial("tcp", inst.addr, &tls.Config{RootCAs: ca.pool(), ServerName: name, NextProtos: []string{"h2", "http/1.1"}})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		st := conn.ConnectionState()
		if cn := st.PeerCertificates[0].Subject.CommonName; cn != name {
			t.Errorf("SNI %s got the certificate of %s", name, cn)
		}
		if st.NegotiatedProtocol != "http/1.1" {
			t.Errorf("ALPN %q", st.NegotiatedProtocol)
		}
		fmt.Fprintf(conn, "GET / HTTP/1.1\r\nhost: %s\r\nconnection: close\r\n\r\n", name)
		resp, err := io.ReadAll(conn)
		conn.Close()
		want := name + "|h2,http/1.1|" + name
		if err != nil || !strings.HasSuffix(string(resp), "\r\n\r\n"+want) {
			t.Errorf("%s: got %q (%v), want the body %q", name, resp, err, want)
		}
	}
}

func TestAcceptTLSMutual(t *testing.T) {
	checkSessionsEnd(t)
	ca := newCA(t, "Server Root")
	clientCA := newCA(t, "Client Root")
	otherCA := newCA(t, "Other Root")
	srv := ca.issue(t, "localhost", []string{"127.0.0.1"}, false, nil)
	good := clientCA.issue(t, "alice", nil, false, nil)
	bad := otherCA.issue(t, "mallory", nil, false, nil)
	inst := run(t, `
pipy()
.listen($PORT)
  .acceptTLS('tls', {
    certificate: {`+certScript+`},
    trusted: [new crypto.Certificate(pipy.load('client-ca.pem'))],
  })
.pipeline('tls')
  .serveHTTP(new Message('welcome'))
`, []runOpt{files(map[string]string{"secret/server-cert.pem": srv.certPEM, "secret/server-key.pem": srv.keyPEM, "client-ca.pem": clientCA.pem})})
	url := "https://" + inst.addr + "/"

	c, _ := tlsClient(t, ca.pool(), "", good.tls)
	if status, body, _ := get(t, c, url); status != 200 || body != "welcome" {
		t.Fatalf("trusted client: %d %q", status, body)
	}
	for _, tt := range []struct {
		name  string
		certs []tls.Certificate
	}{{"no certificate", nil}, {"untrusted certificate", []tls.Certificate{bad.tls}}} {
		c, _ := tlsClient(t, ca.pool(), "", tt.certs...)
		res, err := c.Get(url)
		if err == nil {
			res.Body.Close()
			t.Errorf("%s: got %d, want a failed handshake", tt.name, res.StatusCode)
		}
	}
}

// ---- connectTLS ----

// tlsUpstream is a Go HTTPS server; it answers with the SNI name it saw and
// the client certificate's name.
func tlsUpstream(t testing.TB, cert tls.Certificate, clientCAs *x509.CertPool) string {
	t.Helper()
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		client := "-"
		if len(r.TLS.PeerCertificates) > 0 {
			client = r.TLS.PeerCertificates[0].Subject.CommonName
		}
		b, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "sni=%s client=%s body=%d", r.TLS.ServerName, client, len(b))
	}))
	s.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	if clientCAs != nil {
		s.TLS.ClientAuth = tls.RequireAndVerifyClientCert
		s.TLS.ClientCAs = clientCAs
	}
	s.StartTLS()
	t.Cleanup(s.Close)
	return s.Listener.Addr().String()
}

func TestConnectTLS(t *testing.T) {
	checkSessionsEnd(t)
	ca := newCA(t, "Upstream Root")
	otherCA := newCA(t, "Other Root")
	clientCA := newCA(t, "Client Root")
	up := tlsUpstream(t, ca.issue(t, "upstream.test", []string{"upstream.test"}, false, nil).tls, clientCA.pool())
	client := clientCA.issue(t, "sluice-client", nil, false, nil)
	closed := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	ports := map[string]int{"$BAD": freePort(t), "$DOWN": freePort(t)}
	inst := run(t, `
pipy({
  _client: {cert: new crypto.Certificate(pipy.load('client.pem')), key: new crypto.PrivateKey(pipy.load('client.key'))},
})
.listen($PORT)
  .demuxHTTP('good')
.listen($BAD)
  .demuxHTTP('bad')
.listen($DOWN)
  .demuxHTTP('down')

.pipeline('good')
  .muxHTTP('good-conn', () => 'up')
.pipeline('good-conn')
  .connectTLS('tcp', {
    sni: () => 'upstream.test',
    trusted: [new crypto.Certificate(pipy.load('ca.pem'))],
    certificate: () => _client,
    alpn: 'http/1.1',
  })
.pipeline('tcp')
  .connect('$UP')

.pipeline('bad')
  .muxHTTP('bad-conn', () => 'up')
.pipeline('bad-conn')
  .connectTLS('tcp', {sni: 'upstream.test', trusted: [new crypto.Certificate(pipy.load('other-ca.pem'))], certificate: () => _client})

.pipeline('down')
  .muxHTTP('down-conn', () => 'up')
.pipeline('down-conn')
  .connectTLS('closed')
.pipeline('closed')
  .connect('$CLOSED')
`, []runOpt{files(map[string]string{"ca.pem": ca.pem, "other-ca.pem": otherCA.pem, "client.pem": client.certPEM, "client.key": client.keyPEM})},
		"$UP", up, "$CLOSED", closed, "$BAD", ports["$BAD"], "$DOWN", ports["$DOWN"])

	c := newClient(t)
	for range 2 {
		if status, body, _ := get(t, c, inst.url("/")); status != 200 || body != "sni=upstream.test client=sluice-client body=0" {
			t.Fatalf("got %d %q", status, body)
		}
	}
	body := bigBody(1 << 20)
	if status, got := post(t, c, inst.url("/"), bytes.NewReader(body), int64(len(body))); status != 200 || got != fmt.Sprintf("sni=upstream.test client=sluice-client body=%d", len(body)) {
		t.Fatalf("post: %d %q", status, got)
	}
	// The upstream's certificate is not signed by the trusted CA.
	status, _, _ := get(t, c, fmt.Sprintf("http://127.0.0.1:%d/", ports["$BAD"]))
	mustEqual(t, "status with an untrusted upstream", status, 401)
	// Nothing listens: the connection's error comes through the TLS layer.
	res, err := c.Get(fmt.Sprintf("http://127.0.0.1:%d/", ports["$DOWN"]))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	mustEqual(t, "status with the upstream down", res.Status, "502 Connection Refused")
}

// Sluice on both ends: a plaintext port tunnels through connectTLS to an
// acceptTLS port of the same program, with big bodies both ways.
func TestTLSTunnelBothEnds(t *testing.T) {
	checkSessionsEnd(t)
	ca := newCA(t, "Test Root")
	srv := ca.issue(t, "tunnel.test", []string{"tunnel.test"}, false, nil)
	inner := freePort(t)
	inst := run(t, `
pipy({_n: 0})
.listen($PORT)
  .connectTLS('outbound', {sni: 'tunnel.test', trusted: [new crypto.Certificate(pipy.load('ca.pem'))]})
.pipeline('outbound')
  .connect('127.0.0.1:$INNER')

.listen($INNER)
  .acceptTLS('inside', {certificate: {`+certScript+`}})
.pipeline('inside')
  .serveHTTP(msg => new Message(msg.body))
`, []runOpt{files(map[string]string{"ca.pem": ca.pem, "secret/server-cert.pem": srv.certPEM, "secret/server-key.pem": srv.keyPEM})},
		"$INNER", inner)
	c := newClient(t)
	for _, n := range []int{0, 10, 300 << 10, 2 << 20} {
		body := bigBody(n)
		status, got := post(t, c, inst.url("/"), bytes.NewReader(body), int64(n))
		if status != 200 {
			t.Fatalf("%d bytes: status %d", n, status)
		}
		mustEqualBytes(t, fmt.Sprintf("%d bytes echoed", n), []byte(got), body)
	}
}

// ---- detectProtocol ----

func TestDetectProtocol(t *testing.T) {
	ca := newCA(t, "Test Root")
	srv := ca.issue(t, "localhost", []string{"127.0.0.1"}, false, nil)
	inst := run(t, `
pipy({_proto: 'none'})
.listen($PORT)
  .detectProtocol(p => _proto = p)
  .link('tls', () => _proto === 'TLS', 'http', () => _proto === 'HTTP', 'other')
.pipeline('tls')
  .acceptTLS('http', {certificate: {`+certScript+`}})
.pipeline('http')
  .serveHTTP(() => new Message('protocol: ' + _proto))
.pipeline('other')
  .replaceData(d => new Data('protocol: "' + _proto + '", data: ' + d.toString()))
`, []runOpt{files(map[string]string{"secret/server-cert.pem": srv.certPEM, "secret/server-key.pem": srv.keyPEM})})

	if status, body, _ := get(t, newClient(t), inst.url("/")); status != 200 || body != "protocol: HTTP" {
		t.Errorf("http: %d %q", status, body)
	}
	c, _ := tlsClient(t, ca.pool(), "")
	if status, body, _ := get(t, c, "https://"+inst.addr+"/"); status != 200 || body != "protocol: TLS" {
		t.Errorf("tls: %d %q", status, body)
	}
	r := dial(t, inst.addr)
	r.write("SSH-2.0-client\r\n")
	r.expect(`protocol: "", data: SSH-2.0-client` + "\r\n")
}

// ---- load-time errors ----

func tlsLoadError(t *testing.T, src string, fs map[string]string) string {
	t.Helper()
	fsys := fstest.MapFS{"main.js": {Data: []byte(src)}}
	for name, body := range fs {
		fsys[name] = &fstest.MapFile{Data: []byte(body)}
	}
	prog, err := engine.Load(engine.Options{FS: fsys, Main: "/main.js", Threads: 1})
	if err == nil {
		prog.Stop()
		t.Fatalf("loaded; want an error:\n%s", src)
	}
	return err.Error()
}

// Bad options fail the load, located at the filter's call.
func TestTLSOptionErrors(t *testing.T) {
	ca := newCA(t, "Test Root")
	a := ca.issue(t, "a", []string{"a"}, false, nil)
	b := ca.issue(t, "b", []string{"b"}, false, nil)
	fs := map[string]string{"a.pem": a.certPEM, "a.key": a.keyPEM, "b.key": b.keyPEM, "ca.pem": ca.pem}
	const (
		cert = "new crypto.Certificate(pipy.load('a.pem'))"
		key  = "new crypto.PrivateKey(pipy.load('a.key'))"
	)
	tests := []struct{ filter, want string }{
		{".acceptTLS('x', {certificate: {cert: 'a.pem', key: " + key + "}})", "options.certificate: cert must be a crypto.Certificate or a crypto.CertificateChain, got a string"},
		{".acceptTLS('x', {certificate: {cert: " + cert + ", key: " + cert + "}})", "options.certificate: key must be a crypto.PrivateKey, got a crypto.Certificate"},
		{".acceptTLS('x', {certificate: {cert: " + cert + ", key: new crypto.PrivateKey(pipy.load('b.key'))}})", "the private key does not match the certificate's public key"},
		{".acceptTLS('x', {certificate: 42})", "options.certificate expects an object {cert, key} or a function, got a number"},
		{".acceptTLS('x', {trusted: " + cert + "})", "options.trusted expects an array of crypto.Certificate, got a crypto.Certificate"},
		{".acceptTLS('x', {trusted: [" + cert + ", 'ca.pem']})", "options.trusted[1] expects a crypto.Certificate, got a string"},
		{".acceptTLS('x', {alpn: ['h2', '']})", "options.alpn[1] expects a protocol name"},
		{".acceptTLS('x', {certs: {}})", `unknown option "certs"`},
		{".acceptTLS('x', 'options')", "options must be an object, got a string"},
		{".acceptTLS('')", "expected a sub-pipeline name"},
		{".connectTLS('x', {sni: 42})", "options.sni expects a string or a function, got a number"},
		{".connectTLS('x', {alpn: 1})", "options.alpn expects a string or an array of strings, got a number"},
		{".connectTLS()", "wrong number of arguments"},
		{".detectProtocol('TLS')", "the callback must be a function"},
		{".handleTLSClientHello()", "wrong number of arguments"},
	}
	for _, tt := range tests {
		src := "pipy()\n.listen(0)\n  " + tt.filter + "\n.pipeline('x')\n  .dummy()\n"
		err := tlsLoadError(t, src, fs)
		if !strings.Contains(err, "/main.js:3:") || !strings.Contains(err, tt.want) {
			t.Errorf("%s:\n got %s\nwant /main.js:3: ... %s", tt.filter, err, tt.want)
		}
	}
}

// Many clients at once, on two workers: every one gets its own answer.
func TestAcceptTLSConcurrentClients(t *testing.T) {
	checkSessionsEnd(t)
	ca := newCA(t, "Test Root")
	srv := ca.issue(t, "localhost", []string{"127.0.0.1"}, false, nil)
	inst := run(t, `
pipy()
.listen($PORT)
  .acceptTLS('tls', {certificate: {`+certScript+`}})
.pipeline('tls')
  .demuxHTTP('req')
.pipeline('req')
  .replaceMessage(msg => new Message(msg.head.path + ':' + msg.body.toString()))
`, []runOpt{threads(2), files(map[string]string{"secret/server-cert.pem": srv.certPEM, "secret/server-key.pem": srv.keyPEM})})
	const clients, requests = 16, 5
	errs := make(chan error, clients)
	for i := range clients {
		go func() {
			c, tr := tlsClient(t, ca.pool(), "")
			defer tr.CloseIdleConnections()
			for j := range requests {
				path := fmt.Sprintf("/c%d/r%d", i, j)
				body := strings.Repeat("x", i*1000+j)
				res, err := c.Post("https://"+inst.addr+path, "text/plain", strings.NewReader(body))
				if err != nil {
					errs <- err
					return
				}
				b, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if string(b) != path+":"+body {
					errs <- fmt.Errorf("%s: got %d bytes", path, len(b))
					return
				}
			}
			errs <- nil
		}()
	}
	for range clients {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

func BenchmarkAcceptTLSRequests(b *testing.B) {
	ca := newCA(b, "Test Root")
	srv := ca.issue(b, "localhost", []string{"127.0.0.1"}, false, nil)
	inst := run(b, `
pipy()
.listen($PORT)
  .acceptTLS('tls', {certificate: {`+certScript+`}})
.pipeline('tls')
  .serveHTTP(new Message('Hi, there!\n'))
`, []runOpt{files(map[string]string{"secret/server-cert.pem": srv.certPEM, "secret/server-key.pem": srv.keyPEM})})
	c, _ := tlsClient(b, ca.pool(), "")
	url := "https://" + inst.addr + "/"
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		res, err := c.Get(url)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
}
