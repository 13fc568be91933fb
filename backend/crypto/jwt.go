package crypto

import (
	stdcrypto "crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// JWTAlgorithm is a JWS "alg" this package verifies.
type JWTAlgorithm struct {
	Name string
	Kind string // "HS", "RS", "PS", "ES", "EdDSA"
	Hash stdcrypto.Hash
}

var jwtAlgorithms = map[string]*JWTAlgorithm{}

func init() {
	for _, kind := range []string{"HS", "RS", "PS", "ES"} {
		for _, h := range []struct {
			bits string
			hash stdcrypto.Hash
		}{{"256", stdcrypto.SHA256}, {"384", stdcrypto.SHA384}, {"512", stdcrypto.SHA512}} {
			jwtAlgorithms[kind+h.bits] = &JWTAlgorithm{Name: kind + h.bits, Kind: kind, Hash: h.hash}
		}
	}
	jwtAlgorithms["EdDSA"] = &JWTAlgorithm{Name: "EdDSA", Kind: "EdDSA"}
}

// JWT is a JSON Web Token in compact form. A token that cannot be decoded
// (not three base64url parts, a header or payload that is not a JSON
// object, an unknown "alg") is not an error: Valid is false.
type JWT struct {
	Valid   bool
	Alg     *JWTAlgorithm
	Header  []byte // the decoded header JSON, when it decoded
	Payload []byte // the decoded payload JSON, when it decoded
	signed  string // header.payload as in the token
	sig     []byte
}

// ParseJWT decodes a token without verifying it.
func ParseJWT(token string) *JWT {
	j := &JWT{}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return j
	}
	header, err1 := DecodeBase64URL(parts[0])
	payload, err2 := DecodeBase64URL(parts[1])
	sig, err3 := DecodeBase64URL(parts[2])
	if err1 != nil || err2 != nil || err3 != nil {
		return j
	}
	var h, p map[string]any
	if json.Unmarshal(header, &h) != nil || h == nil {
		return j
	}
	j.Header = header
	if json.Unmarshal(payload, &p) != nil || p == nil {
		return j
	}
	j.Payload = payload
	name, _ := h["alg"].(string)
	alg, ok := jwtAlgorithms[name]
	if !ok {
		return j
	}
	j.Alg, j.signed, j.sig, j.Valid = alg, parts[0]+"."+parts[1], sig, true
	return j
}

// IsHMAC reports an HS* token, verified with a shared secret.
func (j *JWT) IsHMAC() bool { return j.Valid && j.Alg.Kind == "HS" }

// VerifySecret checks an HS* token's signature with a shared secret. Any
// other algorithm gives false.
func (j *JWT) VerifySecret(secret []byte) bool {
	if !j.IsHMAC() {
		return false
	}
	m := hmac.New(j.Alg.Hash.New, secret)
	m.Write([]byte(j.signed))
	return hmac.Equal(m.Sum(nil), j.sig)
}

// VerifyKey checks the signature with a public key. A key of the wrong
// type for the token's algorithm gives false.
func (j *JWT) VerifyKey(key stdcrypto.PublicKey) bool {
	if !j.Valid {
		return false
	}
	var sum []byte
	if j.Alg.Hash != 0 {
		h := j.Alg.Hash.New()
		h.Write([]byte(j.signed))
		sum = h.Sum(nil)
	}
	switch j.Alg.Kind {
	case "RS":
		k, ok := key.(*rsa.PublicKey)
		return ok && rsa.VerifyPKCS1v15(k, j.Alg.Hash, sum, j.sig) == nil
	case "PS":
		k, ok := key.(*rsa.PublicKey)
		return ok && rsa.VerifyPSS(k, j.Alg.Hash, sum, j.sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto}) == nil
	case "ES":
		k, ok := key.(*ecdsa.PublicKey)
		if !ok || len(j.sig) == 0 || len(j.sig)%2 != 0 {
			return false
		}
		// JOSE signatures are r and s side by side, each the curve's size.
		size := (k.Curve.Params().BitSize + 7) / 8
		if len(j.sig) != 2*size {
			return false
		}
		r := new(big.Int).SetBytes(j.sig[:size])
		s := new(big.Int).SetBytes(j.sig[size:])
		return ecdsa.Verify(k, sum, r, s)
	case "EdDSA":
		k, ok := key.(ed25519.PublicKey)
		return ok && ed25519.Verify(k, []byte(j.signed), j.sig)
	}
	return false
}

// ParseJWK builds a public key from a JSON Web Key's fields: kty RSA (n,
// e), EC (crv P-256/P-384/P-521, x, y) or OKP (crv Ed25519, x). Missing or
// undecodable fields are errors; a key that decodes but is not a valid key
// (a point off the curve) returns nil with no error.
func ParseJWK(field func(name string) (string, bool)) (*PublicKey, error) {
	get := func(name string) ([]byte, error) {
		s, ok := field(name)
		if !ok {
			return nil, fmt.Errorf("missing %q", name)
		}
		b, err := DecodeBase64URL(s)
		if err != nil || len(b) == 0 {
			return nil, fmt.Errorf("invalid %q", name)
		}
		return b, nil
	}
	kty, ok := field("kty")
	if !ok {
		return nil, errors.New(`missing "kty"`)
	}
	switch kty {
	case "RSA":
		n, err := get("n")
		if err != nil {
			return nil, err
		}
		e, err := get("e")
		if err != nil {
			return nil, err
		}
		if len(e) > 4 {
			return nil, errors.New(`invalid "e"`)
		}
		exp := int(new(big.Int).SetBytes(e).Int64())
		if exp < 3 || exp%2 == 0 {
			return nil, nil
		}
		return &PublicKey{Key: &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: exp}}, nil
	case "EC":
		crv, ok := field("crv")
		if !ok {
			return nil, errors.New(`missing "crv"`)
		}
		var curve elliptic.Curve
		switch crv {
		case "P-256":
			curve = elliptic.P256()
		case "P-384":
			curve = elliptic.P384()
		case "P-521":
			curve = elliptic.P521()
		default:
			return nil, fmt.Errorf(`unknown "crv" %q`, crv)
		}
		x, err := get("x")
		if err != nil {
			return nil, err
		}
		y, err := get("y")
		if err != nil {
			return nil, err
		}
		size := (curve.Params().BitSize + 7) / 8
		if len(x) > size || len(y) > size {
			return nil, nil
		}
		point := make([]byte, 1+2*size)
		point[0] = 4
		copy(point[1+size-len(x):1+size], x)
		copy(point[1+2*size-len(y):], y)
		k, err := ecdsa.ParseUncompressedPublicKey(curve, point)
		if err != nil {
			return nil, nil
		}
		return &PublicKey{Key: k}, nil
	case "OKP":
		if crv, _ := field("crv"); crv != "Ed25519" {
			return nil, fmt.Errorf(`unknown "crv" %q`, crv)
		}
		x, err := get("x")
		if err != nil {
			return nil, err
		}
		if len(x) != ed25519.PublicKeySize {
			return nil, nil
		}
		return &PublicKey{Key: ed25519.PublicKey(x)}, nil
	}
	return nil, fmt.Errorf(`unknown "kty" %q`, kty)
}
