package crypto

import "sluice/backend/engine"

// Descriptions of the crypto.* classes for the API description.
func init() {
	const pem = "string | Data"
	const enc = "'utf8' | 'hex' | 'base64' | 'base64url'"
	engine.DescribeClass(engine.ClassDoc{Name: "crypto", Signature: "crypto",
		Help: "Keys, certificates, ciphers, digests, signatures and JSON Web Tokens (the crypto.* classes)."})
	engine.DescribeClass(engine.ClassDoc{Name: "crypto.PublicKey", Signature: "new crypto.PublicKey(pem: " + pem + ")",
		Help: "A public key read from PEM text: a PUBLIC KEY (RSA, EC or Ed25519) or RSA PUBLIC KEY block. Used by Verify.verify and JWT.verify."})
	engine.DescribeClass(engine.ClassDoc{Name: "crypto.PrivateKey", Signature: "new crypto.PrivateKey(pem: " + pem + ")",
		Help: "A private key read from PEM text: a PRIVATE KEY (PKCS #8: RSA, EC or Ed25519), RSA PRIVATE KEY or EC PRIVATE KEY block; encrypted keys are not supported. Used by acceptTLS/connectTLS, Sign.sign, and JWT.verify (which checks with its public half)."})
	engine.DescribeClass(engine.ClassDoc{Name: "crypto.Certificate", Signature: "new crypto.Certificate(pem: " + pem + ")",
		Help: "An X.509 certificate read from PEM text (the first CERTIFICATE block).",
		Members: []engine.MemberDoc{
			{Name: "subject", Signature: "subject: {commonName?, organizationName?, ...}", Help: "The subject's name attributes, by their OpenSSL long names."},
			{Name: "issuer", Signature: "issuer: {commonName?, organizationName?, ...}", Help: "The issuer's name attributes."},
			{Name: "subjectAltNames", Signature: "subjectAltNames: string[]", Help: "The DNS names and IP addresses the certificate is for."},
			{Name: "notBefore", Signature: "notBefore: number", Help: "Start of validity, in milliseconds since the epoch."},
			{Name: "notAfter", Signature: "notAfter: number", Help: "End of validity, in milliseconds since the epoch."},
			{Name: "serialNumber", Signature: "serialNumber: string", Help: "The serial number in hex."},
		}})
	engine.DescribeClass(engine.ClassDoc{Name: "crypto.CertificateChain", Signature: "new crypto.CertificateChain(pem: " + pem + ")",
		Help: "Every CERTIFICATE block of PEM text, the leaf first: what a TLS server presents."})
	cipherMembers := []engine.MemberDoc{
		{Name: "update", Signature: "update(data: string | Data): Data", Help: "Processes more input and returns the output produced so far."},
		{Name: "final", Signature: "final(): Data", Help: "Returns the rest of the output (for CBC and ECB, the padded last block)."},
	}
	engine.DescribeClass(engine.ClassDoc{Name: "crypto.Cipher", Signature: "new crypto.Cipher(algorithm: string, options: {key: string | Data, iv?: string | Data})",
		Help:    "Encrypts with " + CipherNames + " (PKCS #7 padding for CBC and ECB). The key and iv must have the cipher's exact lengths (GCM: a 12-byte iv; final() returns the ciphertext followed by the 16-byte tag).",
		Members: cipherMembers})
	engine.DescribeClass(engine.ClassDoc{Name: "crypto.Decipher", Signature: "new crypto.Decipher(algorithm: string, options: {key: string | Data, iv?: string | Data})",
		Help:    "Decrypts what Cipher encrypted; final() throws 'bad decrypt' on wrong padding or a GCM tag that does not match.",
		Members: cipherMembers})
	digestMembers := func(what string) []engine.MemberDoc {
		return []engine.MemberDoc{
			{Name: "update", Signature: "update(data: string | Data, encoding?: " + enc + ")", Help: "Adds data; a string is read in encoding (utf8 unless given)."},
			{Name: "digest", Signature: "digest(encoding?: " + enc + "): Data | string", Help: "The " + what + ": Data, or a string in encoding. Call once."},
		}
	}
	engine.DescribeClass(engine.ClassDoc{Name: "crypto.Hash", Signature: "new crypto.Hash(algorithm: string)",
		Help: "A message digest: " + DigestNames + ".", Members: digestMembers("digest")})
	engine.DescribeClass(engine.ClassDoc{Name: "crypto.Hmac", Signature: "new crypto.Hmac(algorithm: string, key: string | Data)",
		Help: "A keyed HMAC over one of the Hash algorithms.", Members: digestMembers("HMAC")})
	engine.DescribeClass(engine.ClassDoc{Name: "crypto.Sign", Signature: "new crypto.Sign(algorithm: string)",
		Help: "Signs the digest of data with an RSA key (PKCS #1 v1.5) or an EC key (DER ECDSA signature).",
		Members: []engine.MemberDoc{
			{Name: "update", Signature: "update(data: string | Data, encoding?: " + enc + ")", Help: "Adds data to sign."},
			{Name: "sign", Signature: "sign(key: crypto.PrivateKey, encoding?: " + enc + "): Data | string", Help: "The signature: Data, or a string in encoding."},
		}})
	engine.DescribeClass(engine.ClassDoc{Name: "crypto.Verify", Signature: "new crypto.Verify(algorithm: string)",
		Help: "Checks a signature made by Sign.",
		Members: []engine.MemberDoc{
			{Name: "update", Signature: "update(data: string | Data, encoding?: " + enc + ")", Help: "Adds signed data."},
			{Name: "verify", Signature: "verify(key: crypto.PublicKey, signature: Data | string, encoding?: " + enc + "): boolean", Help: "Whether the signature matches; a string signature is read in encoding."},
		}})
	engine.DescribeClass(engine.ClassDoc{Name: "crypto.JWK", Signature: "new crypto.JWK(jwk: {kty, n, e} | {kty, crv, x, y})",
		Help:    "A public key from a JSON Web Key: kty RSA, EC (P-256, P-384, P-521) or OKP (Ed25519). Missing fields throw.",
		Members: []engine.MemberDoc{{Name: "isValid", Signature: "isValid: boolean", Help: "Whether the fields make a usable key."}}})
	engine.DescribeClass(engine.ClassDoc{Name: "crypto.JWT", Signature: "new crypto.JWT(token: string)",
		Help: "A JSON Web Token in compact form (header.payload.signature). Algorithms: HS256/384/512, RS256/384/512, PS256/384/512, ES256/384/512, EdDSA.",
		Members: []engine.MemberDoc{
			{Name: "isValid", Signature: "isValid: boolean", Help: "Whether the token decodes: three base64url parts, JSON object header and payload, a known alg. Says nothing of the signature."},
			{Name: "header", Signature: "header: object", Help: "The decoded header (alg, typ, kid, ...)."},
			{Name: "payload", Signature: "payload: object", Help: "The decoded claims."},
			{Name: "verify", Signature: "verify(key: string | Data | crypto.JWK | crypto.PublicKey | crypto.PrivateKey): boolean", Help: "Checks the signature: with a shared secret for HS*, otherwise with a public key (a PEM string, or the public half of a PrivateKey). A key of the wrong kind gives false."},
		}})
}
