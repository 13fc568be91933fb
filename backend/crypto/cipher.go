package crypto

import (
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"fmt"
	"strings"
)

// CipherSpec is a symmetric cipher named the OpenSSL way: 'aes-128-cbc',
// 'aes-256-gcm', ...
type CipherSpec struct {
	Name    string
	KeySize int
	IVSize  int
	mode    string // cbc, ecb, ctr, cfb, ofb, gcm
}

// CipherNames lists the supported ciphers, for messages and docs.
const CipherNames = "aes-{128,192,256}-{cbc,ecb,ctr,cfb,ofb,gcm}"

// LookupCipher finds a cipher by name, ignoring case. 'aes128' (and 192,
// 256) mean CBC, as in OpenSSL.
func LookupCipher(name string) (*CipherSpec, error) {
	n := strings.ToLower(name)
	switch n {
	case "aes128", "aes192", "aes256":
		n = "aes-" + n[3:] + "-cbc"
	}
	parts := strings.Split(n, "-")
	if len(parts) == 3 && parts[0] == "aes" {
		var size int
		switch parts[1] {
		case "128":
			size = 16
		case "192":
			size = 24
		case "256":
			size = 32
		}
		if size != 0 {
			s := &CipherSpec{Name: n, KeySize: size, mode: parts[2]}
			switch parts[2] {
			case "cbc", "ctr", "cfb", "ofb":
				s.IVSize = aes.BlockSize
				return s, nil
			case "ecb":
				return s, nil
			case "gcm":
				s.IVSize = 12
				return s, nil
			}
		}
	}
	return nil, fmt.Errorf("unknown cipher %q (known: %s)", name, CipherNames)
}

// Cipher encrypts or decrypts a stream: Update returns what can be
// produced so far, Final the rest. CBC and ECB use PKCS #7 padding. GCM
// is not a stream here: encryption returns the ciphertext followed by the
// 16-byte tag from Final, and decryption expects that layout and checks
// the tag in Final.
type Cipher struct {
	spec    *CipherSpec
	encrypt bool
	block   cipher.Block
	blocks  cipher.BlockMode
	stream  cipher.Stream
	aead    cipher.AEAD
	iv      []byte
	pending []byte
	done    bool
}

// NewCipher sets up encryption (encrypt) or decryption with key and iv,
// whose lengths must be the cipher's.
func NewCipher(spec *CipherSpec, key, iv []byte, encrypt bool) (*Cipher, error) {
	if len(key) != spec.KeySize {
		return nil, fmt.Errorf("options.key length should be %d (it is %d)", spec.KeySize, len(key))
	}
	if len(iv) != spec.IVSize {
		return nil, fmt.Errorf("options.iv length should be %d (it is %d)", spec.IVSize, len(iv))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	c := &Cipher{spec: spec, encrypt: encrypt, block: block, iv: append([]byte(nil), iv...)}
	switch spec.mode {
	case "cbc":
		if encrypt {
			c.blocks = cipher.NewCBCEncrypter(block, iv)
		} else {
			c.blocks = cipher.NewCBCDecrypter(block, iv)
		}
	case "ecb":
		c.blocks = ecb{block, encrypt}
	case "ctr":
		c.stream = cipher.NewCTR(block, iv)
	case "cfb":
		if encrypt {
			c.stream = cipher.NewCFBEncrypter(block, iv) //nolint:staticcheck // offered for compatibility
		} else {
			c.stream = cipher.NewCFBDecrypter(block, iv) //nolint:staticcheck
		}
	case "ofb":
		c.stream = cipher.NewOFB(block, iv) //nolint:staticcheck
	case "gcm":
		c.aead, err = cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
	}
	return c, nil
}

var errFinished = errors.New("final() was already called")

// Update processes more input.
func (c *Cipher) Update(in []byte) ([]byte, error) {
	if c.done {
		return nil, errFinished
	}
	switch {
	case c.stream != nil:
		out := make([]byte, len(in))
		c.stream.XORKeyStream(out, in)
		return out, nil
	case c.aead != nil:
		c.pending = append(c.pending, in...)
		return nil, nil
	}
	c.pending = append(c.pending, in...)
	bs := c.block.BlockSize()
	n := len(c.pending) / bs * bs
	if !c.encrypt && n == len(c.pending) && n > 0 {
		n -= bs // the last block may hold the padding: keep it for Final
	}
	out := make([]byte, n)
	c.blocks.CryptBlocks(out, c.pending[:n])
	c.pending = append(c.pending[:0], c.pending[n:]...)
	return out, nil
}

// Final finishes the stream.
func (c *Cipher) Final() ([]byte, error) {
	if c.done {
		return nil, errFinished
	}
	c.done = true
	switch {
	case c.stream != nil:
		return nil, nil
	case c.aead != nil:
		if c.encrypt {
			return c.aead.Seal(nil, c.iv, c.pending, nil), nil
		}
		out, err := c.aead.Open(nil, c.iv, c.pending, nil)
		if err != nil {
			return nil, errors.New("bad decrypt: the GCM tag does not match")
		}
		return out, nil
	}
	bs := c.block.BlockSize()
	if c.encrypt {
		pad := bs - len(c.pending)%bs
		for range pad {
			c.pending = append(c.pending, byte(pad))
		}
		out := make([]byte, len(c.pending))
		c.blocks.CryptBlocks(out, c.pending)
		return out, nil
	}
	if len(c.pending) != bs {
		return nil, errors.New("wrong final block length: the ciphertext is not a whole number of blocks")
	}
	out := make([]byte, bs)
	c.blocks.CryptBlocks(out, c.pending)
	pad := int(out[bs-1])
	if pad == 0 || pad > bs {
		return nil, errors.New("bad decrypt: invalid padding")
	}
	for _, b := range out[bs-pad:] {
		if int(b) != pad {
			return nil, errors.New("bad decrypt: invalid padding")
		}
	}
	return out[:bs-pad], nil
}

// ecb is electronic codebook mode, which crypto/cipher leaves out.
type ecb struct {
	b       cipher.Block
	encrypt bool
}

func (e ecb) BlockSize() int { return e.b.BlockSize() }

func (e ecb) CryptBlocks(dst, src []byte) {
	bs := e.b.BlockSize()
	for i := 0; i < len(src); i += bs {
		if e.encrypt {
			e.b.Encrypt(dst[i:i+bs], src[i:i+bs])
		} else {
			e.b.Decrypt(dst[i:i+bs], src[i:i+bs])
		}
	}
}
