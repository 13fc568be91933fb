package crypto

import (
	stdcrypto "crypto"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha3"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"strings"
)

// Digest is a hash algorithm scripts name: 'sha256', 'SHA-256', 'md5', ...
type Digest struct {
	Name string
	Hash stdcrypto.Hash
	New  func() hash.Hash
}

var digests = map[string]*Digest{}

func init() {
	add := func(name string, h stdcrypto.Hash, fn func() hash.Hash, aliases ...string) {
		d := &Digest{Name: name, Hash: h, New: fn}
		for _, n := range append(aliases, name) {
			digests[n] = d
		}
	}
	add("md5", stdcrypto.MD5, md5.New)
	add("sha1", stdcrypto.SHA1, sha1.New, "sha-1")
	add("sha224", stdcrypto.SHA224, sha256.New224, "sha-224", "sha2-224")
	add("sha256", stdcrypto.SHA256, sha256.New, "sha-256", "sha2-256")
	add("sha384", stdcrypto.SHA384, sha512.New384, "sha-384", "sha2-384")
	add("sha512", stdcrypto.SHA512, sha512.New, "sha-512", "sha2-512")
	add("sha512-224", stdcrypto.SHA512_224, sha512.New512_224, "sha-512/224", "sha2-512/224")
	add("sha512-256", stdcrypto.SHA512_256, sha512.New512_256, "sha-512/256", "sha2-512/256")
	add("sha3-224", stdcrypto.SHA3_224, func() hash.Hash { return sha3.New224() })
	add("sha3-256", stdcrypto.SHA3_256, func() hash.Hash { return sha3.New256() })
	add("sha3-384", stdcrypto.SHA3_384, func() hash.Hash { return sha3.New384() })
	add("sha3-512", stdcrypto.SHA3_512, func() hash.Hash { return sha3.New512() })
}

// DigestNames lists the canonical digest names, for messages and docs.
const DigestNames = "md5, sha1, sha224, sha256, sha384, sha512, sha512-224, sha512-256, sha3-224, sha3-256, sha3-384, sha3-512"

// LookupDigest finds a digest by OpenSSL-style name, ignoring case and an
// "RSA-" prefix.
func LookupDigest(name string) (*Digest, error) {
	n := strings.TrimPrefix(strings.ToLower(name), "rsa-")
	if d, ok := digests[n]; ok {
		return d, nil
	}
	return nil, fmt.Errorf("unknown digest algorithm %q (known: %s)", name, DigestNames)
}

// NewHmac returns an HMAC of the named digest.
func NewHmac(name string, key []byte) (hash.Hash, error) {
	d, err := LookupDigest(name)
	if err != nil {
		return nil, err
	}
	return hmac.New(d.New, key), nil
}

// Encoding is how bytes are written as text: Pipy's Data encodings.
type Encoding int

const (
	UTF8 Encoding = iota
	Hex
	Base64
	Base64URL
)

// ParseEncoding maps 'utf8', 'hex', 'base64' or 'base64url' to an Encoding.
func ParseEncoding(s string) (Encoding, error) {
	switch s {
	case "utf8", "utf-8":
		return UTF8, nil
	case "hex":
		return Hex, nil
	case "base64":
		return Base64, nil
	case "base64url":
		return Base64URL, nil
	}
	return 0, fmt.Errorf("unknown encoding %q (want 'utf8', 'hex', 'base64' or 'base64url')", s)
}

// Encode writes b as text.
func (e Encoding) Encode(b []byte) string {
	switch e {
	case Hex:
		return hex.EncodeToString(b)
	case Base64:
		return base64.StdEncoding.EncodeToString(b)
	case Base64URL:
		return base64.RawURLEncoding.EncodeToString(b)
	}
	return string(b)
}

// Decode reads text written in the encoding.
func (e Encoding) Decode(s string) ([]byte, error) {
	switch e {
	case Hex:
		b, err := hex.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("invalid hex: %v", err)
		}
		return b, nil
	case Base64:
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			b, err = base64.RawStdEncoding.DecodeString(s)
		}
		if err != nil {
			return nil, fmt.Errorf("invalid base64: %v", err)
		}
		return b, nil
	case Base64URL:
		return DecodeBase64URL(s)
	}
	return []byte(s), nil
}

// DecodeBase64URL decodes base64url with or without padding.
func DecodeBase64URL(s string) ([]byte, error) {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil {
		return nil, fmt.Errorf("invalid base64url: %v", err)
	}
	return b, nil
}
