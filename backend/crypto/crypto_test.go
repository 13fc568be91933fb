package crypto

import (
	stdcrypto "crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"
)

// ---- key material, generated once per test binary ----

type testKeys struct {
	rsa     *rsa.PrivateKey
	ec256   *ecdsa.PrivateKey
	ec521   *ecdsa.PrivateKey
	ed      ed25519.PrivateKey
	certPEM string
	cert    *x509.Certificate
}

var (
	keysOnce sync.Once
	keys     testKeys
)

func getKeys(t testing.TB) *testKeys {
	keysOnce.Do(func() {
		var err error
		if keys.rsa, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		keys.ec256, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		keys.ec521, _ = ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
		_, keys.ed, _ = ed25519.GenerateKey(rand.Reader)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(0x1234),
			Subject:      pkix.Name{CommonName: "localhost", Organization: []string{"Sluice"}},
			NotBefore:    time.Unix(1700000000, 0),
			NotAfter:     time.Unix(1900000000, 0),
			DNSNames:     []string{"localhost", "example.test"},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, keys.ec256.Public(), keys.ec256)
		if err != nil {
			panic(err)
		}
		keys.certPEM = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
		keys.cert, _ = x509.ParseCertificate(der)
	})
	return &keys
}

func pemOf(typ string, der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
}

func pkcs8(t testing.TB, k any) string {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pemOf("PRIVATE KEY", der)
}

func pkixPEM(t testing.TB, k any) string {
	der, err := x509.MarshalPKIXPublicKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pemOf("PUBLIC KEY", der)
}

// ---- keys and certificates ----

func TestParsePrivateKeyForms(t *testing.T) {
	k := getKeys(t)
	ecDER, _ := x509.MarshalECPrivateKey(k.ec521)
	tests := []struct {
		name string
		pem  string
	}{
		{"pkcs8 rsa", pkcs8(t, k.rsa)},
		{"pkcs1 rsa", pemOf("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(k.rsa))},
		{"sec1 ec p521", pemOf("EC PRIVATE KEY", ecDER)},
		{"sec1 ec after EC PARAMETERS", pemOf("EC PARAMETERS", []byte{6, 5, 43, 129, 4, 0, 35}) + pemOf("EC PRIVATE KEY", ecDER)},
		{"pkcs8 ed25519", pkcs8(t, k.ed)},
	}
	for _, tt := range tests {
		if _, err := ParsePrivateKey([]byte(tt.pem)); err != nil {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
}

func TestParseBadPEM(t *testing.T) {
	k := getKeys(t)
	tests := []struct {
		name  string
		parse func([]byte) error
		in    string
		want  string
	}{
		{"private: not PEM", func(b []byte) error { _, err := ParsePrivateKey(b); return err }, "hello", "not a PEM private key"},
		{"private: a certificate", func(b []byte) error { _, err := ParsePrivateKey(b); return err }, k.certPEM, "no private key block"},
		{"private: garbage body", func(b []byte) error { _, err := ParsePrivateKey(b); return err }, pemOf("PRIVATE KEY", []byte{1, 2, 3}), "invalid private key"},
		{"private: encrypted", func(b []byte) error { _, err := ParsePrivateKey(b); return err }, pemOf("ENCRYPTED PRIVATE KEY", []byte{1}), "encrypted private keys are not supported"},
		{"public: not PEM", func(b []byte) error { _, err := ParsePublicKey(b); return err }, "", "not a PEM public key"},
		{"public: private key", func(b []byte) error { _, err := ParsePublicKey(b); return err }, pkcs8(t, k.rsa), "no PUBLIC KEY block"},
		{"certificate: not PEM", func(b []byte) error { _, err := ParseCertificate(b); return err }, "-----BEGIN", "not a PEM certificate"},
		{"certificate: garbage body", func(b []byte) error { _, err := ParseCertificate(b); return err }, pemOf("CERTIFICATE", []byte{0x30, 1, 2}), "invalid certificate #1"},
		{"chain: empty", func(b []byte) error { _, err := ParseCertificateChain(b); return err }, pkixPEM(t, k.rsa.Public()), "not a PEM certificate"},
	}
	for _, tt := range tests {
		err := tt.parse([]byte(tt.in))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want an error containing %q", tt.name, err, tt.want)
		}
	}
}

func TestCertificateFieldsAndTLSPair(t *testing.T) {
	k := getKeys(t)
	chain, err := ParseCertificateChain([]byte("junk before\n" + k.certPEM + k.certPEM))
	if err != nil || len(chain.Certs) != 2 {
		t.Fatalf("chain: %v, %d certs", err, len(chain.Certs))
	}
	fields := NameFields(chain.Certs[0].Subject)
	got := map[string]string{}
	for _, f := range fields {
		got[f[0]] = f[1]
	}
	if got["commonName"] != "localhost" || got["organizationName"] != "Sluice" {
		t.Errorf("subject fields: %v", fields)
	}
	if _, err := TLSCertificate(chain.Certs, &PrivateKey{Key: k.ec256}); err != nil {
		t.Errorf("matching pair: %v", err)
	}
	if _, err := TLSCertificate(chain.Certs, &PrivateKey{Key: k.rsa}); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Errorf("mismatched pair: %v", err)
	}
}

// ---- digests ----

func TestDigestVectors(t *testing.T) {
	tests := []struct{ alg, in, want string }{
		{"md5", "abc", "900150983cd24fb0d6963f7d28e17f72"},
		{"sha1", "abc", "a9993e364706816aba3e25717850c26c9cd0d89d"},
		{"SHA256", "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
		{"sha-384", "abc", "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7"},
		{"sha512", "abc", "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"},
		{"RSA-SHA256", "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{"sha3-256", "abc", "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532"},
	}
	for _, tt := range tests {
		d, err := LookupDigest(tt.alg)
		if err != nil {
			t.Fatalf("%s: %v", tt.alg, err)
		}
		h := d.New()
		h.Write([]byte(tt.in))
		if got := hex.EncodeToString(h.Sum(nil)); got != tt.want {
			t.Errorf("%s(%q) = %s, want %s", tt.alg, tt.in, got, tt.want)
		}
	}
	if _, err := LookupDigest("sha257"); err == nil || !strings.Contains(err.Error(), `unknown digest algorithm "sha257"`) {
		t.Errorf("unknown digest: %v", err)
	}
}

func TestHmacVectors(t *testing.T) {
	// RFC 4231 test case 2 and RFC 2104's example.
	tests := []struct{ alg, want string }{
		{"sha256", "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
		{"md5", "750c783e6ab0b503eaa86e310a5db738"},
	}
	for _, tt := range tests {
		h, err := NewHmac(tt.alg, []byte("Jefe"))
		if err != nil {
			t.Fatal(err)
		}
		h.Write([]byte("what do ya want for nothing?"))
		if got := hex.EncodeToString(h.Sum(nil)); got != tt.want {
			t.Errorf("hmac-%s = %s, want %s", tt.alg, got, tt.want)
		}
	}
}

// ---- ciphers ----

func unhex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// NIST SP 800-38A vectors (the first block of each).
func TestCipherVectors(t *testing.T) {
	key := unhex("2b7e151628aed2a6abf7158809cf4f3c")
	pt := unhex("6bc1bee22e409f96e93d7e117393172a")
	tests := []struct{ alg, iv, want string }{
		{"aes-128-cbc", "000102030405060708090a0b0c0d0e0f", "7649abac8119b246cee98e9b12e9197d"},
		{"AES-128-ECB", "", "3ad77bb40d7a3660a89ecaf32466ef97"},
		{"aes-128-ctr", "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff", "874d6191b620e3261bef6864990db6ce"},
		{"aes-128-cfb", "000102030405060708090a0b0c0d0e0f", "3b3fd92eb72dad20333449f8e83cfb4a"},
		{"aes-128-ofb", "000102030405060708090a0b0c0d0e0f", "3b3fd92eb72dad20333449f8e83cfb4a"},
	}
	for _, tt := range tests {
		spec, err := LookupCipher(tt.alg)
		if err != nil {
			t.Fatal(err)
		}
		c, err := NewCipher(spec, key, unhex(tt.iv), true)
		if err != nil {
			t.Fatalf("%s: %v", tt.alg, err)
		}
		// Fed in two uneven pieces: the output must not depend on them.
		a, _ := c.Update(pt[:5])
		b, _ := c.Update(pt[5:])
		f, err := c.Final()
		if err != nil {
			t.Fatal(err)
		}
		out := append(append(a, b...), f...)
		if got := hex.EncodeToString(out[:16]); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.alg, got, tt.want)
		}
		d, _ := NewCipher(spec, key, unhex(tt.iv), false)
		var back []byte
		for i := 0; i < len(out); i += 7 {
			p, err := d.Update(out[i:min(i+7, len(out))])
			if err != nil {
				t.Fatal(err)
			}
			back = append(back, p...)
		}
		f, err = d.Final()
		if err != nil {
			t.Fatalf("%s decrypt: %v", tt.alg, err)
		}
		if back = append(back, f...); hex.EncodeToString(back) != hex.EncodeToString(pt) {
			t.Errorf("%s round trip: %x", tt.alg, back)
		}
	}
}

func TestCipherPaddingAndGCM(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	iv := []byte("0123456789ab")
	for _, msg := range []string{"", "short", "exactly sixteen!", strings.Repeat("x", 100)} {
		for _, alg := range []string{"aes-256-cbc", "aes-256-gcm", "aes256"} {
			spec, _ := LookupCipher(alg)
			ivx := iv
			if spec.IVSize == 16 {
				ivx = append(iv, "cdef"...)
			}
			enc, _ := NewCipher(spec, key, ivx, true)
			a, _ := enc.Update([]byte(msg))
			b, _ := enc.Final()
			ct := append(a, b...)
			dec, _ := NewCipher(spec, key, ivx, false)
			c, _ := dec.Update(ct)
			d, err := dec.Final()
			if err != nil || string(append(c, d...)) != msg {
				t.Errorf("%s %q: %v %q", alg, msg, err, append(c, d...))
			}
			// A flipped bit in the last block breaks the padding or the tag.
			ct[len(ct)-1] ^= 0x55
			dec, _ = NewCipher(spec, key, ivx, false)
			dec.Update(ct)
			if _, err := dec.Final(); err == nil || !strings.Contains(err.Error(), "bad decrypt") {
				t.Errorf("%s %q tampered: %v", alg, msg, err)
			}
		}
	}
}

func TestCipherBadInput(t *testing.T) {
	if _, err := LookupCipher("des-ede3-cbc"); err == nil || !strings.Contains(err.Error(), `unknown cipher "des-ede3-cbc"`) {
		t.Errorf("unknown cipher: %v", err)
	}
	spec, _ := LookupCipher("aes-128-cbc")
	if _, err := NewCipher(spec, make([]byte, 15), make([]byte, 16), true); err == nil || !strings.Contains(err.Error(), "options.key length should be 16") {
		t.Errorf("short key: %v", err)
	}
	if _, err := NewCipher(spec, make([]byte, 16), make([]byte, 8), true); err == nil || !strings.Contains(err.Error(), "options.iv length should be 16") {
		t.Errorf("short iv: %v", err)
	}
	c, _ := NewCipher(spec, make([]byte, 16), make([]byte, 16), false)
	c.Update(make([]byte, 20))
	if _, err := c.Final(); err == nil || !strings.Contains(err.Error(), "wrong final block length") {
		t.Errorf("partial block: %v", err)
	}
	if _, err := c.Final(); err != errFinished {
		t.Errorf("second final: %v", err)
	}
}

// ---- signatures ----

func TestSignVerify(t *testing.T) {
	k := getKeys(t)
	for _, key := range []stdcrypto.Signer{k.rsa, k.ec256, k.ec521} {
		s, _ := NewSigner("sha256")
		s.Update([]byte("hello"))
		sig, err := s.Sign(&PrivateKey{Key: key})
		if err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct {
			msg  string
			want bool
		}{{"hello", true}, {"hellO", false}} {
			v, _ := NewSigner("sha256")
			v.Update([]byte(tt.msg))
			if ok, err := v.Verify(key.Public(), sig); err != nil || ok != tt.want {
				t.Errorf("%T %q: %v %v", key, tt.msg, ok, err)
			}
		}
	}
	// What OpenSSL produces for RSA is PKCS #1 v1.5, which is deterministic.
	s, _ := NewSigner("sha256")
	s.Update([]byte("hello"))
	sig, _ := s.Sign(&PrivateKey{Key: k.rsa})
	sum := sha256.Sum256([]byte("hello"))
	if err := rsa.VerifyPKCS1v15(&k.rsa.PublicKey, stdcrypto.SHA256, sum[:], sig); err != nil {
		t.Errorf("not PKCS #1 v1.5: %v", err)
	}
	s, _ = NewSigner("sha256")
	if _, err := s.Sign(&PrivateKey{Key: k.ed}); err == nil || !strings.Contains(err.Error(), "Ed25519") {
		t.Errorf("ed25519 sign: %v", err)
	}
}

// ---- JWT ----

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// signJWT makes a compact token the way an identity provider would.
func signJWT(t testing.TB, alg string, header map[string]any, payload string, sign func(input []byte) []byte) string {
	t.Helper()
	if header == nil {
		header = map[string]any{}
	}
	header["alg"] = alg
	header["typ"] = "JWT"
	h, _ := json.Marshal(header)
	input := b64(h) + "." + b64([]byte(payload))
	return input + "." + b64(sign([]byte(input)))
}

func rs256(key *rsa.PrivateKey) func([]byte) []byte {
	return func(in []byte) []byte {
		sum := sha256.Sum256(in)
		sig, _ := rsa.SignPKCS1v15(rand.Reader, key, stdcrypto.SHA256, sum[:])
		return sig
	}
}

func es256(key *ecdsa.PrivateKey) func([]byte) []byte {
	return func(in []byte) []byte {
		sum := sha256.Sum256(in)
		r, s, _ := ecdsa.Sign(rand.Reader, key, sum[:])
		out := make([]byte, 64)
		r.FillBytes(out[:32])
		s.FillBytes(out[32:])
		return out
	}
}

func hs256(secret string) func([]byte) []byte {
	return func(in []byte) []byte {
		m := hmac.New(sha256.New, []byte(secret))
		m.Write(in)
		return m.Sum(nil)
	}
}

// tamper changes one character of the payload part.
func tamper(token string) string {
	parts := strings.Split(token, ".")
	parts[1] = b64([]byte(`{"sub":"mallory"}`))
	return strings.Join(parts, ".")
}

func TestJWTVerify(t *testing.T) {
	k := getKeys(t)
	rsTok := signJWT(t, "RS256", map[string]any{"kid": "key-1"}, `{"sub":"alice"}`, rs256(k.rsa))
	esTok := signJWT(t, "ES256", nil, `{}`, es256(k.ec256))
	hsTok := signJWT(t, "HS256", nil, `{"n":1}`, hs256("secret"))
	edTok := signJWT(t, "EdDSA", nil, `{}`, func(in []byte) []byte { return ed25519.Sign(k.ed, in) })

	tests := []struct {
		name  string
		token string
		check func(*JWT) bool
		want  bool
	}{
		{"RS256 valid", rsTok, func(j *JWT) bool { return j.VerifyKey(k.rsa.Public()) }, true},
		{"RS256 tampered", tamper(rsTok), func(j *JWT) bool { return j.VerifyKey(k.rsa.Public()) }, false},
		{"RS256 with an EC key", rsTok, func(j *JWT) bool { return j.VerifyKey(k.ec256.Public()) }, false},
		{"ES256 valid", esTok, func(j *JWT) bool { return j.VerifyKey(k.ec256.Public()) }, true},
		{"ES256 tampered", tamper(esTok), func(j *JWT) bool { return j.VerifyKey(k.ec256.Public()) }, false},
		{"ES256 other key", esTok, func(j *JWT) bool { return j.VerifyKey(k.ec521.Public()) }, false},
		{"HS256 valid", hsTok, func(j *JWT) bool { return j.VerifySecret([]byte("secret")) }, true},
		{"HS256 wrong secret", hsTok, func(j *JWT) bool { return j.VerifySecret([]byte("Secret")) }, false},
		{"HS256 with a public key", hsTok, func(j *JWT) bool { return j.VerifyKey(k.rsa.Public()) }, false},
		{"RS256 with a secret", rsTok, func(j *JWT) bool { return j.VerifySecret([]byte("secret")) }, false},
		{"EdDSA valid", edTok, func(j *JWT) bool { return j.VerifyKey(k.ed.Public()) }, true},
	}
	for _, tt := range tests {
		j := ParseJWT(tt.token)
		if !j.Valid {
			t.Fatalf("%s: token did not parse", tt.name)
		}
		if got := tt.check(j); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestJWTInvalidTokens(t *testing.T) {
	h := b64([]byte(`{"alg":"RS256"}`))
	p := b64([]byte(`{}`))
	for _, tok := range []string{
		"", "a.b", h + "." + p, h + "." + p + ".x.y",
		h + "." + p + ".!!!",
		b64([]byte(`{"alg":"none"}`)) + "." + p + ".",
		b64([]byte(`[1]`)) + "." + p + ".",
		h + "." + b64([]byte(`"str"`)) + ".",
		b64([]byte(`{"typ":"JWT"}`)) + "." + p + ".",
	} {
		if j := ParseJWT(tok); j.Valid || j.VerifyKey(getKeys(t).rsa.Public()) || j.VerifySecret(nil) {
			t.Errorf("token %q: valid", tok)
		}
	}
	// Padding is tolerated.
	if j := ParseJWT(h + "==." + p + "." + b64([]byte{1})); !j.Valid {
		t.Error("padded base64url rejected")
	}
}

func TestJWK(t *testing.T) {
	k := getKeys(t)
	field := func(m map[string]string) func(string) (string, bool) {
		return func(n string) (string, bool) { s, ok := m[n]; return s, ok }
	}
	rsaJWK := map[string]string{"kty": "RSA", "n": b64(k.rsa.N.Bytes()), "e": b64(big.NewInt(int64(k.rsa.E)).Bytes())}
	pub, err := ParseJWK(field(rsaJWK))
	if err != nil || pub == nil {
		t.Fatalf("rsa jwk: %v", err)
	}
	tok := signJWT(t, "RS256", nil, `{}`, rs256(k.rsa))
	if !ParseJWT(tok).VerifyKey(pub.Key) {
		t.Error("rsa jwk does not verify")
	}
	ecJWK := map[string]string{"kty": "EC", "crv": "P-256", "x": b64(k.ec256.X.Bytes()), "y": b64(k.ec256.Y.Bytes())}
	pub, err = ParseJWK(field(ecJWK))
	if err != nil || pub == nil {
		t.Fatalf("ec jwk: %v", err)
	}
	if !ParseJWT(signJWT(t, "ES256", nil, `{}`, es256(k.ec256))).VerifyKey(pub.Key) {
		t.Error("ec jwk does not verify")
	}
	offCurve := map[string]string{"kty": "EC", "crv": "P-256", "x": b64([]byte{1}), "y": b64([]byte{2})}
	if pub, err := ParseJWK(field(offCurve)); err != nil || pub != nil {
		t.Errorf("point off the curve: %v %v", pub, err)
	}
	for _, bad := range []struct {
		m    map[string]string
		want string
	}{
		{map[string]string{}, `missing "kty"`},
		{map[string]string{"kty": "oct"}, `unknown "kty"`},
		{map[string]string{"kty": "RSA", "e": "AQAB"}, `missing "n"`},
		{map[string]string{"kty": "RSA", "n": "!", "e": "AQAB"}, `invalid "n"`},
		{map[string]string{"kty": "EC", "crv": "P-192", "x": "AQ", "y": "AQ"}, `unknown "crv"`},
	} {
		if _, err := ParseJWK(field(bad.m)); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%v: %v, want %q", bad.m, err, bad.want)
		}
	}
}
