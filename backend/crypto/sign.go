package crypto

import (
	stdcrypto "crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"hash"
)

// Signer hashes data and signs the digest, as OpenSSL's EVP_PKEY_sign
// does: RSA keys sign with PKCS #1 v1.5 padding, EC keys produce a DER
// ECDSA signature.
type Signer struct {
	d    *Digest
	h    hash.Hash
	done bool
}

// NewSigner starts a signature (or a verification) over the named digest.
func NewSigner(digest string) (*Signer, error) {
	d, err := LookupDigest(digest)
	if err != nil {
		return nil, err
	}
	return &Signer{d: d, h: d.New()}, nil
}

// Update hashes more data.
func (s *Signer) Update(b []byte) error {
	if s.done {
		return errors.New("the signature was already computed")
	}
	s.h.Write(b)
	return nil
}

func (s *Signer) sum() ([]byte, error) {
	if s.done {
		return nil, errors.New("the signature was already computed")
	}
	s.done = true
	return s.h.Sum(nil), nil
}

// Sign signs the digest of everything written.
func (s *Signer) Sign(key *PrivateKey) ([]byte, error) {
	sum, err := s.sum()
	if err != nil {
		return nil, err
	}
	switch k := key.Key.(type) {
	case *rsa.PrivateKey:
		return rsa.SignPKCS1v15(rand.Reader, k, s.d.Hash, sum)
	case *ecdsa.PrivateKey:
		return ecdsa.SignASN1(rand.Reader, k, sum)
	case ed25519.PrivateKey:
		return nil, errors.New("Ed25519 keys sign messages, not digests: use an RSA or EC key with Sign")
	}
	return nil, fmt.Errorf("unsupported key type %T", key.Key)
}

// Verify checks sig against the digest of everything written.
func (s *Signer) Verify(key stdcrypto.PublicKey, sig []byte) (bool, error) {
	sum, err := s.sum()
	if err != nil {
		return false, err
	}
	switch k := key.(type) {
	case *rsa.PublicKey:
		return rsa.VerifyPKCS1v15(k, s.d.Hash, sum, sig) == nil, nil
	case *ecdsa.PublicKey:
		return ecdsa.VerifyASN1(k, sum, sig), nil
	case ed25519.PublicKey:
		return false, errors.New("Ed25519 keys verify messages, not digests: use an RSA or EC key with Verify")
	}
	return false, fmt.Errorf("unsupported key type %T", key)
}
