package crypto

import (
	"crypto/x509"
	"encoding/pem"
	"io"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/dop251/goja"

	"sluice/backend/engine"
	"sluice/backend/logging"
)

func TestMain(m *testing.M) {
	if os.Getenv("SLUICE_TEST_LOG") == "" {
		logging.SetOutput(io.Discard)
	}
	os.Exit(m.Run())
}

// jsEnv is a loaded program whose worker runs test snippets.
type jsEnv struct {
	t *testing.T
	w *engine.Worker
}

func newJSEnv(t *testing.T, globals map[string]string) *jsEnv {
	t.Helper()
	p, err := engine.Load(engine.Options{FS: fstest.MapFS{"main.js": {Data: []byte("pipy()")}}, Main: "/main.js", Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Stop)
	e := &jsEnv{t: t, w: p.Workers[0]}
	e.w.Do(func() {
		for k, v := range globals {
			e.w.Runtime().Set(k, v)
		}
	})
	return e
}

// eval runs src on the worker and returns its value exported to Go, or the
// text of what it threw.
func (e *jsEnv) eval(src string) (v any, thrown string) {
	e.w.Do(func() {
		r, err := e.w.Runtime().RunString(src)
		if err != nil {
			if ex, ok := err.(*goja.Exception); ok {
				thrown = ex.Value().String()
			} else {
				thrown = err.Error()
			}
			return
		}
		v = r.Export()
	})
	return
}

func (e *jsEnv) expect(src string, want any) {
	e.t.Helper()
	got, thrown := e.eval(src)
	if thrown != "" {
		e.t.Errorf("%s: threw %s", src, thrown)
		return
	}
	if got != want {
		e.t.Errorf("%s = %#v, want %#v", src, got, want)
	}
}

func (e *jsEnv) expectThrow(src, want string) {
	e.t.Helper()
	_, thrown := e.eval(src)
	if !strings.Contains(thrown, want) {
		e.t.Errorf("%s: threw %q, want %q", src, thrown, want)
	}
}

func jsGlobals(t *testing.T) map[string]string {
	k := getKeys(t)
	ecDER, _ := x509.MarshalECPrivateKey(k.ec256)
	return map[string]string{
		"rsaPriv":  pkcs8(t, k.rsa),
		"rsaPub":   pkixPEM(t, k.rsa.Public()),
		"ecPriv":   string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: ecDER})),
		"ecPub":    pkixPEM(t, k.ec256.Public()),
		"certPEM":  k.certPEM,
		"rsTok":    signJWT(t, "RS256", map[string]any{"kid": "key-1"}, `{"sub":"alice"}`, rs256(k.rsa)),
		"esTok":    signJWT(t, "ES256", map[string]any{"kid": "key-2"}, `{}`, es256(k.ec256)),
		"hsTok":    signJWT(t, "HS256", nil, `{"n":1}`, hs256("secret")),
		"rsTamper": tamper(signJWT(t, "RS256", nil, `{}`, rs256(k.rsa))),
		"esTamper": tamper(signJWT(t, "ES256", nil, `{}`, es256(k.ec256))),
	}
}

func TestJSHashHmac(t *testing.T) {
	e := newJSEnv(t, nil)
	e.expect(`var h = new crypto.Hash('sha256'); h.update('ab'); h.update(new Data('c')); h.digest('hex')`,
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
	e.expect(`var h = new crypto.Hash('md5'); h.update('616263', 'hex'); h.digest().toString('hex')`,
		"900150983cd24fb0d6963f7d28e17f72")
	e.expect(`var h = new crypto.Hash('sha1'); h.update('abc'); h.digest('base64')`, "qZk+NkcGgWq6PiVxeFDCbJzQ2J0=")
	e.expect(`var h = new crypto.Hmac('sha256', 'Jefe'); h.update('what do ya want for nothing?'); h.digest('hex')`,
		"5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
	e.expect(`var h = new crypto.Hmac('sha256', new Data('Jefe')); h.update('what do ya want for nothing?'); h.digest().size`, int64(32))
	e.expectThrow(`var h = new crypto.Hash('sha1'); h.digest(); h.digest()`, "digest() was already called")
}

func TestJSCipher(t *testing.T) {
	e := newJSEnv(t, nil)
	e.expect(`
		var key = new Data('2b7e151628aed2a6abf7158809cf4f3c', 'hex'), iv = new Data('000102030405060708090a0b0c0d0e0f', 'hex');
		var c = new crypto.Cipher('aes-128-cbc', {key, iv});
		var out = c.update(new Data('6bc1bee22e409f96e93d7e117393172a', 'hex'));
		out.push(c.final());
		out.toString('hex').substring(0, 32)`, "7649abac8119b246cee98e9b12e9197d")
	e.expect(`
		var opts = {key: '0123456789abcdef0123456789abcdef', iv: '0123456789abcdef'};
		var c = new crypto.Cipher('aes-256-cbc', opts), d = new crypto.Decipher('aes-256-cbc', opts);
		var ct = c.update('Hello, '); ct.push(c.update('world!')); ct.push(c.final());
		var pt = d.update(ct); pt.push(d.final()); pt.toString()`, "Hello, world!")
	e.expect(`
		var opts = {key: '0123456789abcdef', iv: '0123456789ab'};
		var c = new crypto.Cipher('aes-128-gcm', opts), d = new crypto.Decipher('aes-128-gcm', opts);
		c.update('sealed'); var ct = c.final(); d.update(ct); [ct.size, d.final().toString()].join()`, "22,sealed")
	e.expectThrow(`
		var opts = {key: '0123456789abcdef', iv: '0123456789abcdef'};
		var d = new crypto.Decipher('aes-128-cbc', opts); d.update(new Data('00112233445566778899aabbccddeeff', 'hex')); d.final()`,
		"bad decrypt")
}

func TestJSSignVerify(t *testing.T) {
	e := newJSEnv(t, jsGlobals(t))
	for _, pair := range [][2]string{{"rsaPriv", "rsaPub"}, {"ecPriv", "ecPub"}} {
		e.expect(`
			var s = new crypto.Sign('sha256'); s.update('hello');
			var sig = s.sign(new crypto.PrivateKey(`+pair[0]+`), 'base64');
			var v = new crypto.Verify('sha256'); v.update('hello');
			var w = new crypto.Verify('sha256'); w.update('hellO');
			[v.verify(new crypto.PublicKey(`+pair[1]+`), sig, 'base64'), w.verify(new crypto.PublicKey(`+pair[1]+`), sig, 'base64')].join()`,
			"true,false")
	}
	e.expect(`
		var s = new crypto.Sign('sha384'); s.update(new Data('x'));
		var sig = s.sign(new crypto.PrivateKey(rsaPriv));
		var v = new crypto.Verify('sha384'); v.update('x'); v.verify(new crypto.PublicKey(rsaPub), sig)`, true)
}

func TestJSJWT(t *testing.T) {
	e := newJSEnv(t, jsGlobals(t))
	e.expect(`var j = new crypto.JWT(rsTok); [j.isValid, j.header.alg, j.header.kid, j.payload.sub].join()`, "true,RS256,key-1,alice")
	e.expect(`var j = new crypto.JWT(rsTok); j.header === j.header`, true)
	// The key forms JWT.verify accepts.
	e.expect(`new crypto.JWT(rsTok).verify(new crypto.PublicKey(rsaPub))`, true)
	e.expect(`new crypto.JWT(rsTok).verify(new crypto.PrivateKey(rsaPriv))`, true) // tutorial 12
	e.expect(`new crypto.JWT(rsTok).verify(rsaPub)`, true)
	e.expect(`new crypto.JWT(rsTok).verify(new Data(rsaPriv))`, true)
	e.expect(`new crypto.JWT(rsTamper).verify(new crypto.PrivateKey(rsaPriv))`, false)
	e.expect(`new crypto.JWT(rsTok).verify(new crypto.PrivateKey(ecPriv))`, false)
	e.expect(`new crypto.JWT(esTok).verify(new crypto.PrivateKey(ecPriv))`, true)
	e.expect(`new crypto.JWT(esTok).verify(ecPub)`, true)
	e.expect(`new crypto.JWT(esTamper).verify(new crypto.PublicKey(ecPub))`, false)
	e.expect(`new crypto.JWT(hsTok).verify('secret')`, true)
	e.expect(`new crypto.JWT(hsTok).verify('wrong')`, false)
	e.expect(`new crypto.JWT(hsTok).verify(new crypto.PublicKey(rsaPub))`, false)
	e.expect(`var j = new crypto.JWT('not.a.token'); [j.isValid, j.header, j.payload, j.verify('x')].join()`, "false,,,false")
	e.expect(`new crypto.JWT('') .header?.kid === undefined`, true)
	e.expect(`var n = new crypto.JWT(rsTok).header; var k = new crypto.JWK({kty: 'RSA', n: 'AQAB', e: 'AQAB'}); typeof k.isValid`, "boolean")
}

func TestJSCertificate(t *testing.T) {
	e := newJSEnv(t, jsGlobals(t))
	e.expect(`var c = new crypto.Certificate(certPEM); [c.subject.commonName, c.issuer.organizationName, c.subjectAltNames.join('|'), c.notBefore, c.serialNumber].join()`,
		"localhost,Sluice,localhost|example.test,1700000000000,1234")
	e.expect(`new crypto.CertificateChain(new Data(certPEM + certPEM)) instanceof crypto.CertificateChain`, true)
}

// Bad input throws a TypeError that names the class and the problem.
func TestJSBadInput(t *testing.T) {
	e := newJSEnv(t, jsGlobals(t))
	tests := []struct{ src, want string }{
		{`new crypto.PrivateKey('garbage')`, "TypeError: crypto.PrivateKey: not a PEM private key"},
		{`new crypto.PrivateKey(42)`, "TypeError: crypto.PrivateKey: expects PEM text as a string or a Data object, got a number"},
		{`new crypto.PrivateKey(rsaPriv, {aliasType: 'sm2'})`, "'sm2' is not supported"},
		{`new crypto.PublicKey(rsaPriv)`, "TypeError: crypto.PublicKey: no PUBLIC KEY block"},
		{`new crypto.Certificate('')`, "TypeError: crypto.Certificate: not a PEM certificate"},
		{`new crypto.CertificateChain()`, "TypeError: crypto.CertificateChain: expects PEM text as a string or a Data object, got undefined"},
		{`new crypto.Hash('sha257')`, `TypeError: crypto.Hash: unknown digest algorithm "sha257"`},
		{`new crypto.Hash()`, "TypeError: crypto.Hash: the algorithm must be a string"},
		{`new crypto.Hmac('sha256')`, "TypeError: crypto.Hmac: the key must be a string or a Data object, got undefined"},
		{`new crypto.Hmac('whirlpool', 'k')`, `unknown digest algorithm "whirlpool"`},
		{`new crypto.Cipher('aes-128-xyz', {key: 'k'})`, `TypeError: crypto.Cipher: unknown cipher "aes-128-xyz"`},
		{`new crypto.Cipher('aes-128-cbc')`, "TypeError: crypto.Cipher: options {key, iv} are required"},
		{`new crypto.Decipher('aes-128-cbc', {key: 'short', iv: '0123456789abcdef'})`, "options.key length should be 16"},
		{`new crypto.Cipher('aes-128-cbc', {key: '0123456789abcdef'})`, "options.iv requires a Data object or a string"},
		{`new crypto.Hash('sha1').update(42)`, "TypeError: Hash.update: expects a string or a Data object, got a number"},
		{`new crypto.Hash('sha1').update('zz', 'hex')`, "Hash.update: invalid hex"},
		{`new crypto.Hash('sha1').digest('base32')`, `Hash.digest: unknown encoding "base32"`},
		{`new crypto.Sign('sha256').sign('key')`, "TypeError: Sign.sign: the key must be a crypto.PrivateKey, got a string"},
		{`new crypto.Verify('sha256').verify(new crypto.Certificate(certPEM).x, 'sig')`, "TypeError: Verify.verify: the key must be a crypto.PublicKey, got undefined"},
		{`new crypto.Verify('sha256').verify(new crypto.PublicKey(rsaPub), 42)`, "the signature must be a Data object or a string, got a number"},
		{`new crypto.Sign('md4')`, `unknown digest algorithm "md4"`},
		{`new crypto.JWT(123)`, "TypeError: crypto.JWT: expects the token as a string, got a number"},
		{`new crypto.JWT(rsTok).verify(42)`, "TypeError: JWT.verify: the key must be a string or Data"},
		{`new crypto.JWT(rsTok).verify({})`, "got an object"},
		{`new crypto.JWT(rsTok).verify('not a pem')`, "TypeError: JWT.verify: the token is signed with RS256, and the key is not a PEM public key"},
		{`new crypto.JWK({})`, `TypeError: crypto.JWK: missing "kty"`},
		{`new crypto.JWK('x')`, "TypeError: crypto.JWK: expects a JSON Web Key object, got a string"},
	}
	for _, tt := range tests {
		e.expectThrow(tt.src, tt.want)
	}
}

// A bad argument at load fails the load with the script's location.
func TestJSErrorAtLoadHasLocation(t *testing.T) {
	src := "pipy({\n  _key: new crypto.PrivateKey(pipy.load('secret/key.pem')),\n})\n"
	_, err := engine.Load(engine.Options{
		FS:   fstest.MapFS{"main.js": {Data: []byte(src)}, "secret/key.pem": {Data: []byte("not a key")}},
		Main: "/main.js", Threads: 1,
	})
	if err == nil {
		t.Fatal("load succeeded")
	}
	want := "/main.js:2:9: TypeError: crypto.PrivateKey: not a PEM private key"
	if !strings.Contains(err.Error(), want) {
		t.Errorf("got %q, want it to contain %q", err, want)
	}
}
