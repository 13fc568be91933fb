package crypto

import (
	stdcrypto "crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"
)

// PublicKey is a parsed public key: *rsa.PublicKey, *ecdsa.PublicKey or
// ed25519.PublicKey.
type PublicKey struct {
	Key stdcrypto.PublicKey
}

// PrivateKey is a parsed private key: *rsa.PrivateKey, *ecdsa.PrivateKey or
// ed25519.PrivateKey.
type PrivateKey struct {
	Key stdcrypto.Signer
}

// Public returns the public half of the key.
func (k *PrivateKey) Public() *PublicKey { return &PublicKey{Key: k.Key.Public()} }

// Certificate is one parsed X.509 certificate.
type Certificate struct {
	X509 *x509.Certificate
}

// CertificateChain is a list of certificates, the leaf first.
type CertificateChain struct {
	Certs []*x509.Certificate
}

// ParsePublicKey reads the first public key in PEM text: a "PUBLIC KEY"
// (PKIX) or "RSA PUBLIC KEY" (PKCS #1) block.
func ParsePublicKey(pemText []byte) (*PublicKey, error) {
	rest := pemText
	seen := false
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		seen = true
		switch b.Type {
		case "PUBLIC KEY":
			k, err := x509.ParsePKIXPublicKey(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("invalid public key: %v", err)
			}
			if !supportedPublic(k) {
				return nil, fmt.Errorf("unsupported public key type %T (RSA, EC and Ed25519 keys are supported)", k)
			}
			return &PublicKey{Key: k}, nil
		case "RSA PUBLIC KEY":
			k, err := x509.ParsePKCS1PublicKey(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("invalid RSA public key: %v", err)
			}
			return &PublicKey{Key: k}, nil
		}
	}
	if seen {
		return nil, errors.New("no PUBLIC KEY block in the PEM text")
	}
	return nil, errors.New("not a PEM public key (no -----BEGIN PUBLIC KEY----- block)")
}

// ParsePrivateKey reads the first private key in PEM text: a "PRIVATE KEY"
// (PKCS #8), "RSA PRIVATE KEY" (PKCS #1) or "EC PRIVATE KEY" (SEC 1)
// block. Other blocks (such as "EC PARAMETERS") are skipped.
func ParsePrivateKey(pemText []byte) (*PrivateKey, error) {
	rest := pemText
	seen := false
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		seen = true
		if _, encrypted := b.Headers["DEK-Info"]; encrypted || b.Type == "ENCRYPTED PRIVATE KEY" {
			return nil, errors.New("encrypted private keys are not supported")
		}
		var k any
		var err error
		switch b.Type {
		case "PRIVATE KEY":
			k, err = x509.ParsePKCS8PrivateKey(b.Bytes)
		case "RSA PRIVATE KEY":
			k, err = x509.ParsePKCS1PrivateKey(b.Bytes)
		case "EC PRIVATE KEY":
			k, err = x509.ParseECPrivateKey(b.Bytes)
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("invalid %s: %v", strings.ToLower(b.Type), err)
		}
		switch k := k.(type) {
		case *rsa.PrivateKey:
			return &PrivateKey{Key: k}, nil
		case *ecdsa.PrivateKey:
			return &PrivateKey{Key: k}, nil
		case ed25519.PrivateKey:
			return &PrivateKey{Key: k}, nil
		default:
			return nil, fmt.Errorf("unsupported private key type %T (RSA, EC and Ed25519 keys are supported)", k)
		}
	}
	if seen {
		return nil, errors.New("no private key block in the PEM text")
	}
	return nil, errors.New("not a PEM private key (no -----BEGIN PRIVATE KEY----- block)")
}

// ParseCertificate reads the first certificate in PEM text.
func ParseCertificate(pemText []byte) (*Certificate, error) {
	certs, err := parseCertificates(pemText, true)
	if err != nil {
		return nil, err
	}
	return &Certificate{X509: certs[0]}, nil
}

// ParseCertificateChain reads every certificate in PEM text, in order.
func ParseCertificateChain(pemText []byte) (*CertificateChain, error) {
	certs, err := parseCertificates(pemText, false)
	if err != nil {
		return nil, err
	}
	return &CertificateChain{Certs: certs}, nil
}

func parseCertificates(pemText []byte, first bool) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	rest := pemText
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("invalid certificate #%d: %v", len(out)+1, err)
		}
		out = append(out, c)
		if first {
			break
		}
	}
	if len(out) == 0 {
		return nil, errors.New("not a PEM certificate (no -----BEGIN CERTIFICATE----- block)")
	}
	return out, nil
}

func supportedPublic(k any) bool {
	switch k.(type) {
	case *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey:
		return true
	}
	return false
}

// TLSCertificate pairs a certificate (or chain) with its private key for
// crypto/tls, checking that the key belongs to the leaf certificate.
func TLSCertificate(chain []*x509.Certificate, key *PrivateKey) (*tls.Certificate, error) {
	if len(chain) == 0 {
		return nil, errors.New("empty certificate chain")
	}
	if key == nil {
		return nil, errors.New("missing private key")
	}
	type equaler interface {
		Equal(stdcrypto.PublicKey) bool
	}
	pub, ok := key.Key.Public().(equaler)
	if !ok || !pub.Equal(chain[0].PublicKey) {
		return nil, errors.New("the private key does not match the certificate's public key")
	}
	c := &tls.Certificate{PrivateKey: key.Key, Leaf: chain[0]}
	for _, x := range chain {
		c.Certificate = append(c.Certificate, x.Raw)
	}
	return c, nil
}

// Name attribute OIDs with OpenSSL's long names, which is how Pipy shows
// a certificate's subject and issuer.
var nameAttrs = []struct {
	oid  asn1.ObjectIdentifier
	name string
}{
	{asn1.ObjectIdentifier{2, 5, 4, 3}, "commonName"},
	{asn1.ObjectIdentifier{2, 5, 4, 4}, "surname"},
	{asn1.ObjectIdentifier{2, 5, 4, 5}, "serialNumber"},
	{asn1.ObjectIdentifier{2, 5, 4, 6}, "countryName"},
	{asn1.ObjectIdentifier{2, 5, 4, 7}, "localityName"},
	{asn1.ObjectIdentifier{2, 5, 4, 8}, "stateOrProvinceName"},
	{asn1.ObjectIdentifier{2, 5, 4, 9}, "streetAddress"},
	{asn1.ObjectIdentifier{2, 5, 4, 10}, "organizationName"},
	{asn1.ObjectIdentifier{2, 5, 4, 11}, "organizationalUnitName"},
	{asn1.ObjectIdentifier{2, 5, 4, 12}, "title"},
	{asn1.ObjectIdentifier{2, 5, 4, 17}, "postalCode"},
	{asn1.ObjectIdentifier{2, 5, 4, 42}, "givenName"},
	{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}, "emailAddress"},
	{asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 25}, "domainComponent"},
}

// NameFields lists a distinguished name's attributes as (long name, value)
// pairs in certificate order; unknown attributes use their dotted OID.
func NameFields(n pkix.Name) [][2]string {
	var out [][2]string
	for _, a := range n.Names {
		name := a.Type.String()
		for _, k := range nameAttrs {
			if k.oid.Equal(a.Type) {
				name = k.name
				break
			}
		}
		out = append(out, [2]string{name, fmt.Sprint(a.Value)})
	}
	return out
}

// Millis is t as milliseconds since the Unix epoch, as scripts see times.
func Millis(t time.Time) float64 { return float64(t.UnixMilli()) }
