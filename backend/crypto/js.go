package crypto

import (
	"crypto/x509"
	"fmt"
	"hash"

	"github.com/dop251/goja"

	"sluice/backend/engine"
	"sluice/backend/event"
)

// The crypto.* classes scripts use.
func init() { engine.RegisterGlobal(install) }

// Instances of the classes, as scripts hold them. Go code (the TLS
// filters) reaches the keys and certificates with the *Of functions.
type (
	jsPublicKey struct {
		engine.Props
		k *PublicKey
	}
	jsPrivateKey struct {
		engine.Props
		k *PrivateKey
	}
	jsCertificate struct {
		c     *Certificate
		rt    *goja.Runtime
		cache map[string]goja.Value
	}
	jsCertificateChain struct {
		engine.Props
		c *CertificateChain
	}
	jsCipher struct {
		engine.Props
		c *Cipher
	}
	jsHash struct {
		engine.Props
		h    hash.Hash
		done bool
	}
	jsSigner struct {
		engine.Props
		s *Signer
	}
	jsJWK struct {
		k  *PublicKey // nil when the key is not valid
		rt *goja.Runtime
	}
	jsJWT struct {
		j               *JWT
		rt              *goja.Runtime
		header, payload goja.Value
	}
)

// PrivateKeyOf returns the key behind a crypto.PrivateKey object.
func PrivateKeyOf(v goja.Value) (*PrivateKey, bool) {
	if k, ok := exported(v).(*jsPrivateKey); ok {
		return k.k, true
	}
	return nil, false
}

// CertificateOf returns the certificate behind a crypto.Certificate object.
func CertificateOf(v goja.Value) (*x509.Certificate, bool) {
	if c, ok := exported(v).(*jsCertificate); ok {
		return c.c.X509, true
	}
	return nil, false
}

// CertificatesOf returns the certificates behind a crypto.Certificate or
// crypto.CertificateChain object, the leaf first.
func CertificatesOf(v goja.Value) ([]*x509.Certificate, bool) {
	switch c := exported(v).(type) {
	case *jsCertificate:
		return []*x509.Certificate{c.c.X509}, true
	case *jsCertificateChain:
		return c.c.Certs, true
	}
	return nil, false
}

func exported(v goja.Value) any {
	if o, ok := v.(*goja.Object); ok {
		return o.Export()
	}
	return nil
}

// TypeName describes a script value for error messages: "a string",
// "undefined", "a crypto.PublicKey", ...
func TypeName(v goja.Value) string {
	switch exported(v).(type) {
	case *jsPublicKey:
		return "a crypto.PublicKey"
	case *jsPrivateKey:
		return "a crypto.PrivateKey"
	case *jsCertificate:
		return "a crypto.Certificate"
	case *jsCertificateChain:
		return "a crypto.CertificateChain"
	case *jsJWK:
		return "a crypto.JWK"
	case *jsJWT:
		return "a crypto.JWT"
	}
	if _, ok := engine.AsData(v); ok {
		return "a Data object"
	}
	switch {
	case v == nil || goja.IsUndefined(v):
		return "undefined"
	case goja.IsNull(v):
		return "null"
	}
	switch v.ExportType().Kind().String() {
	case "string":
		return "a string"
	case "int64", "float64":
		return "a number"
	case "bool":
		return "a boolean"
	}
	if _, ok := goja.AssertFunction(v); ok {
		return "a function"
	}
	if o, ok := v.(*goja.Object); ok && o.ClassName() == "Array" {
		return "an array"
	}
	return "an object"
}

// BytesOf converts a string (in encoding: 'utf8' unless given), a Data
// object or an ArrayBuffer to bytes.
func BytesOf(v goja.Value, enc Encoding) ([]byte, bool, error) {
	if d, ok := engine.AsData(v); ok {
		return d.Bytes(), true, nil
	}
	if engine.IsNullish(v) {
		return nil, false, nil
	}
	switch x := v.Export().(type) {
	case string:
		b, err := enc.Decode(x)
		return b, true, err
	case goja.ArrayBuffer:
		return append([]byte(nil), x.Bytes()...), true, nil
	}
	return nil, false, nil
}

func install(w *engine.Worker, g *goja.Object) {
	rt := w.Runtime()
	ns := rt.NewObject()
	g.Set("crypto", ns)

	typeErr := func(format string, a ...any) { panic(rt.NewTypeError(fmt.Sprintf(format, a...))) }
	fail := func(format string, a ...any) { panic(rt.NewGoError(fmt.Errorf(format, a...))) }
	data := func(b []byte) goja.Value { return w.DataObject(event.NewData(b)) }

	// pemArg reads a constructor's PEM argument.
	pemArg := func(class string, v goja.Value) []byte {
		b, ok, _ := BytesOf(v, UTF8)
		if !ok {
			typeErr("crypto.%s: expects PEM text as a string or a Data object, got %s", class, TypeName(v))
		}
		return b
	}
	encodingArg := func(what string, v goja.Value) (Encoding, bool) {
		if engine.IsNullish(v) {
			return UTF8, false
		}
		s, ok := v.Export().(string)
		if !ok {
			typeErr("%s: the encoding must be a string, got %s", what, TypeName(v))
		}
		e, err := ParseEncoding(s)
		if err != nil {
			typeErr("%s: %v", what, err)
		}
		return e, true
	}
	// input reads the data argument of update(data, encoding?).
	input := func(what string, call goja.FunctionCall) []byte {
		enc, _ := encodingArg(what, call.Argument(1))
		b, ok, err := BytesOf(call.Argument(0), enc)
		if !ok {
			typeErr("%s: expects a string or a Data object, got %s", what, TypeName(call.Argument(0)))
		}
		if err != nil {
			typeErr("%s: %v", what, err)
		}
		return b
	}
	keyOptions := func(class string, v goja.Value) {
		o, ok := v.(*goja.Object)
		if engine.IsNullish(v) {
			return
		}
		if !ok {
			typeErr("crypto.%s: options must be an object, got %s", class, TypeName(v))
		}
		if a := o.Get("aliasType"); !engine.IsNullish(a) {
			if a.String() == "sm2" {
				typeErr("crypto.%s: options.aliasType 'sm2' is not supported (SM2 keys are not available)", class)
			}
			typeErr("crypto.%s: invalid options.aliasType %q", class, a.String())
		}
	}
	noIDOption := func(what string, v goja.Value) {
		if o, ok := v.(*goja.Object); ok && !engine.IsNullish(o.Get("id")) {
			typeErr("%s: options.id is for SM2 keys, which are not supported", what)
		}
	}

	// PublicKey, PrivateKey
	w.Class(ns, "PublicKey", func(call goja.ConstructorCall) *goja.Object {
		k, err := ParsePublicKey(pemArg("PublicKey", call.Argument(0)))
		if err != nil {
			typeErr("crypto.PublicKey: %v", err)
		}
		keyOptions("PublicKey", call.Argument(1))
		return w.NewInstance(call.This.Prototype(), &jsPublicKey{k: k})
	})
	w.Class(ns, "PrivateKey", func(call goja.ConstructorCall) *goja.Object {
		k, err := ParsePrivateKey(pemArg("PrivateKey", call.Argument(0)))
		if err != nil {
			typeErr("crypto.PrivateKey: %v", err)
		}
		keyOptions("PrivateKey", call.Argument(1))
		return w.NewInstance(call.This.Prototype(), &jsPrivateKey{k: k})
	})

	// Certificate, CertificateChain
	w.Class(ns, "Certificate", func(call goja.ConstructorCall) *goja.Object {
		c, err := ParseCertificate(pemArg("Certificate", call.Argument(0)))
		if err != nil {
			typeErr("crypto.Certificate: %v", err)
		}
		return w.NewInstance(call.This.Prototype(), &jsCertificate{c: c, rt: rt})
	})
	w.Class(ns, "CertificateChain", func(call goja.ConstructorCall) *goja.Object {
		c, err := ParseCertificateChain(pemArg("CertificateChain", call.Argument(0)))
		if err != nil {
			typeErr("crypto.CertificateChain: %v", err)
		}
		return w.NewInstance(call.This.Prototype(), &jsCertificateChain{c: c})
	})

	// Cipher, Decipher
	newCipher := func(class string, encrypt bool) func(goja.ConstructorCall) *goja.Object {
		return func(call goja.ConstructorCall) *goja.Object {
			alg, ok := call.Argument(0).Export().(string)
			if !ok {
				typeErr("crypto.%s: the algorithm must be a string such as 'aes-256-cbc', got %s", class, TypeName(call.Argument(0)))
			}
			spec, err := LookupCipher(alg)
			if err != nil {
				typeErr("crypto.%s: %v", class, err)
			}
			opts, ok := call.Argument(1).(*goja.Object)
			if !ok || engine.IsNullish(call.Argument(1)) {
				typeErr("crypto.%s: options {key, iv} are required", class)
			}
			key, ok, _ := BytesOf(opts.Get("key"), UTF8)
			if !ok {
				typeErr("crypto.%s: options.key requires a Data object or a string", class)
			}
			var iv []byte
			if spec.IVSize > 0 {
				iv, ok, _ = BytesOf(opts.Get("iv"), UTF8)
				if !ok {
					typeErr("crypto.%s: options.iv requires a Data object or a string", class)
				}
			}
			c, err := NewCipher(spec, key, iv, encrypt)
			if err != nil {
				typeErr("crypto.%s: %v", class, err)
			}
			return w.NewInstance(call.This.Prototype(), &jsCipher{c: c})
		}
	}
	for _, class := range []string{"Cipher", "Decipher"} {
		pro := w.Class(ns, class, newCipher(class, class == "Cipher"))
		get := func(this *goja.Object) *Cipher {
			c, ok := this.Export().(*jsCipher)
			if !ok {
				typeErr("not a crypto.%s", class)
			}
			return c.c
		}
		w.Method(pro, "update", func(this *goja.Object, call goja.FunctionCall) goja.Value {
			out, err := get(this).Update(input(class+".update", call))
			if err != nil {
				fail("%s.update: %v", class, err)
			}
			return data(out)
		})
		w.Method(pro, "final", func(this *goja.Object, call goja.FunctionCall) goja.Value {
			out, err := get(this).Final()
			if err != nil {
				fail("%s.final: %v", class, err)
			}
			return data(out)
		})
	}

	// Hash, Hmac
	digestMethods := func(class string, pro *goja.Object) {
		get := func(this *goja.Object) *jsHash {
			h, ok := this.Export().(*jsHash)
			if !ok {
				typeErr("not a crypto.%s", class)
			}
			if h.done {
				fail("%s: digest() was already called", class)
			}
			return h
		}
		w.Method(pro, "update", func(this *goja.Object, call goja.FunctionCall) goja.Value {
			h := get(this)
			h.h.Write(input(class+".update", call))
			return goja.Undefined()
		})
		w.Method(pro, "digest", func(this *goja.Object, call goja.FunctionCall) goja.Value {
			h := get(this)
			enc, text := encodingArg(class+".digest", call.Argument(0))
			h.done = true
			sum := h.h.Sum(nil)
			if text {
				return rt.ToValue(enc.Encode(sum))
			}
			return data(sum)
		})
	}
	algorithmArg := func(class string, v goja.Value) string {
		s, ok := v.Export().(string)
		if !ok {
			typeErr("crypto.%s: the algorithm must be a string such as 'sha256', got %s", class, TypeName(v))
		}
		return s
	}
	hashPro := w.Class(ns, "Hash", func(call goja.ConstructorCall) *goja.Object {
		d, err := LookupDigest(algorithmArg("Hash", call.Argument(0)))
		if err != nil {
			typeErr("crypto.Hash: %v", err)
		}
		return w.NewInstance(call.This.Prototype(), &jsHash{h: d.New()})
	})
	digestMethods("Hash", hashPro)
	hmacPro := w.Class(ns, "Hmac", func(call goja.ConstructorCall) *goja.Object {
		alg := algorithmArg("Hmac", call.Argument(0))
		key, ok, _ := BytesOf(call.Argument(1), UTF8)
		if !ok {
			typeErr("crypto.Hmac: the key must be a string or a Data object, got %s", TypeName(call.Argument(1)))
		}
		h, err := NewHmac(alg, key)
		if err != nil {
			typeErr("crypto.Hmac: %v", err)
		}
		return w.NewInstance(call.This.Prototype(), &jsHash{h: h})
	})
	digestMethods("Hmac", hmacPro)

	// Sign, Verify
	for _, class := range []string{"Sign", "Verify"} {
		pro := w.Class(ns, class, func(call goja.ConstructorCall) *goja.Object {
			s, err := NewSigner(algorithmArg(class, call.Argument(0)))
			if err != nil {
				typeErr("crypto.%s: %v", class, err)
			}
			return w.NewInstance(call.This.Prototype(), &jsSigner{s: s})
		})
		get := func(this *goja.Object) *Signer {
			s, ok := this.Export().(*jsSigner)
			if !ok {
				typeErr("not a crypto.%s", class)
			}
			return s.s
		}
		w.Method(pro, "update", func(this *goja.Object, call goja.FunctionCall) goja.Value {
			if err := get(this).Update(input(class+".update", call)); err != nil {
				fail("%s.update: %v", class, err)
			}
			return goja.Undefined()
		})
		if class == "Sign" {
			w.Method(pro, "sign", func(this *goja.Object, call goja.FunctionCall) goja.Value {
				s := get(this)
				key, ok := PrivateKeyOf(call.Argument(0))
				if !ok {
					typeErr("Sign.sign: the key must be a crypto.PrivateKey, got %s", TypeName(call.Argument(0)))
				}
				encV, optV := call.Argument(1), call.Argument(2)
				if _, isObj := encV.(*goja.Object); isObj {
					encV, optV = goja.Undefined(), encV
				}
				enc, text := encodingArg("Sign.sign", encV)
				noIDOption("Sign.sign", optV)
				sig, err := s.Sign(key)
				if err != nil {
					fail("Sign.sign: %v", err)
				}
				if text {
					return rt.ToValue(enc.Encode(sig))
				}
				return data(sig)
			})
			continue
		}
		w.Method(pro, "verify", func(this *goja.Object, call goja.FunctionCall) goja.Value {
			s := get(this)
			var pub any
			switch k := exported(call.Argument(0)).(type) {
			case *jsPublicKey:
				pub = k.k.Key
			case *jsPrivateKey:
				pub = k.k.Key.Public()
			case *jsCertificate:
				pub = k.c.X509.PublicKey
			default:
				typeErr("Verify.verify: the key must be a crypto.PublicKey, got %s", TypeName(call.Argument(0)))
			}
			encV, optV := call.Argument(2), call.Argument(3)
			if _, isObj := encV.(*goja.Object); isObj {
				encV, optV = goja.Undefined(), encV
			}
			enc, _ := encodingArg("Verify.verify", encV)
			sig, ok, err := BytesOf(call.Argument(1), enc)
			if !ok {
				typeErr("Verify.verify: the signature must be a Data object or a string, got %s", TypeName(call.Argument(1)))
			}
			if err != nil {
				typeErr("Verify.verify: %v", err)
			}
			noIDOption("Verify.verify", optV)
			valid, err := s.Verify(pub, sig)
			if err != nil {
				fail("Verify.verify: %v", err)
			}
			return rt.ToValue(valid)
		})
	}

	// JWK
	w.Class(ns, "JWK", func(call goja.ConstructorCall) *goja.Object {
		o, ok := call.Argument(0).(*goja.Object)
		if !ok {
			typeErr("crypto.JWK: expects a JSON Web Key object, got %s", TypeName(call.Argument(0)))
		}
		k, err := ParseJWK(func(name string) (string, bool) {
			v := o.Get(name)
			if v == nil {
				return "", false
			}
			s, ok := v.Export().(string)
			return s, ok
		})
		if err != nil {
			typeErr("crypto.JWK: %v", err)
		}
		return w.NewInstance(call.This.Prototype(), &jsJWK{k: k, rt: rt})
	})

	// JWT
	parse, _ := goja.AssertFunction(rt.GlobalObject().Get("JSON").(*goja.Object).Get("parse"))
	jsonValue := func(b []byte) goja.Value {
		if b == nil {
			return goja.Undefined()
		}
		v, err := parse(goja.Undefined(), rt.ToValue(string(b)))
		if err != nil {
			return goja.Undefined()
		}
		return v
	}
	jwtPro := w.Class(ns, "JWT", func(call goja.ConstructorCall) *goja.Object {
		token, ok := call.Argument(0).Export().(string)
		if !ok {
			typeErr("crypto.JWT: expects the token as a string, got %s", TypeName(call.Argument(0)))
		}
		j := ParseJWT(token)
		return w.NewInstance(call.This.Prototype(), &jsJWT{j: j, rt: rt, header: jsonValue(j.Header), payload: jsonValue(j.Payload)})
	})
	w.Method(jwtPro, "verify", func(this *goja.Object, call goja.FunctionCall) goja.Value {
		t, ok := this.Export().(*jsJWT)
		if !ok {
			typeErr("not a crypto.JWT")
		}
		j, arg := t.j, call.Argument(0)
		switch k := exported(arg).(type) {
		case *jsPublicKey:
			return rt.ToValue(j.VerifyKey(k.k.Key))
		case *jsPrivateKey:
			// Pipy's tutorial verifies with the configured private key:
			// its public half is what checks the signature.
			return rt.ToValue(j.VerifyKey(k.k.Key.Public()))
		case *jsCertificate:
			return rt.ToValue(j.VerifyKey(k.c.X509.PublicKey))
		case *jsJWK:
			return rt.ToValue(k.k != nil && j.VerifyKey(k.k.Key))
		}
		b, ok, _ := BytesOf(arg, UTF8)
		if !ok {
			typeErr("JWT.verify: the key must be a string or Data (a secret or PEM key), a crypto.JWK, a crypto.PublicKey or a crypto.PrivateKey, got %s", TypeName(arg))
		}
		if !j.Valid {
			return rt.ToValue(false)
		}
		if j.IsHMAC() {
			return rt.ToValue(j.VerifySecret(b))
		}
		if k, err := ParsePublicKey(b); err == nil {
			return rt.ToValue(j.VerifyKey(k.Key))
		}
		if k, err := ParsePrivateKey(b); err == nil {
			return rt.ToValue(j.VerifyKey(k.Key.Public()))
		}
		if c, err := ParseCertificate(b); err == nil {
			return rt.ToValue(j.VerifyKey(c.X509.PublicKey))
		}
		typeErr("JWT.verify: the token is signed with %s, and the key is not a PEM public key, private key or certificate", j.Alg.Name)
		return nil
	})
}

// ---- properties ----

func (c *jsCertificate) Get(key string) goja.Value {
	if v, ok := c.cache[key]; ok {
		return v
	}
	x := c.c.X509
	var v goja.Value
	switch key {
	case "subject", "issuer":
		n := x.Subject
		if key == "issuer" {
			n = x.Issuer
		}
		o := c.rt.NewObject()
		for _, f := range NameFields(n) {
			o.Set(f[0], f[1])
		}
		v = o
	case "subjectAltNames":
		names := make([]any, 0, len(x.DNSNames)+len(x.IPAddresses))
		for _, n := range x.DNSNames {
			names = append(names, n)
		}
		for _, ip := range x.IPAddresses {
			names = append(names, ip.String())
		}
		v = c.rt.ToValue(names)
	case "notBefore":
		v = c.rt.ToValue(Millis(x.NotBefore))
	case "notAfter":
		v = c.rt.ToValue(Millis(x.NotAfter))
	case "serialNumber":
		v = c.rt.ToValue(x.SerialNumber.Text(16))
	default:
		return nil
	}
	if c.cache == nil {
		c.cache = map[string]goja.Value{}
	}
	c.cache[key] = v
	return v
}

var certificateKeys = []string{"subject", "issuer", "subjectAltNames", "notBefore", "notAfter", "serialNumber"}

func (c *jsCertificate) Set(string, goja.Value) bool { return false }
func (c *jsCertificate) Has(key string) bool {
	for _, k := range certificateKeys {
		if k == key {
			return true
		}
	}
	return false
}
func (c *jsCertificate) Delete(string) bool { return false }
func (c *jsCertificate) Keys() []string     { return certificateKeys }

func (k *jsJWK) Get(key string) goja.Value {
	if key == "isValid" {
		return k.rt.ToValue(k.k != nil)
	}
	return nil
}
func (k *jsJWK) Set(string, goja.Value) bool { return false }
func (k *jsJWK) Has(key string) bool         { return key == "isValid" }
func (k *jsJWK) Delete(string) bool          { return false }
func (k *jsJWK) Keys() []string              { return []string{"isValid"} }

func (t *jsJWT) Get(key string) goja.Value {
	switch key {
	case "isValid":
		return t.rt.ToValue(t.j.Valid)
	case "header":
		return t.header
	case "payload":
		return t.payload
	}
	return nil
}
func (t *jsJWT) Set(string, goja.Value) bool { return false }
func (t *jsJWT) Has(key string) bool         { return key == "isValid" || key == "header" || key == "payload" }
func (t *jsJWT) Delete(string) bool          { return false }
func (t *jsJWT) Keys() []string              { return []string{"isValid", "header", "payload"} }
