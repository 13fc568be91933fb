package http1

import "strings"

// Byte-class tables used by the decoder and encoder. Table lookups keep the
// hot loops branch-light and allocation-free.

// isTchar reports RFC 9110 §5.6.2 token characters:
// "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" /
// "`" / "|" / "~" / DIGIT / ALPHA.
var isTchar = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return
}()

// isValueChar reports bytes allowed in a field value (RFC 9110 §5.5):
// HTAB, SP, VCHAR and obs-text. CR, LF, NUL, other CTLs and DEL are not.
var isValueChar = func() (t [256]bool) {
	t['\t'] = true
	for c := 0x20; c <= 0x7e; c++ {
		t[c] = true
	}
	for c := 0x80; c <= 0xff; c++ {
		t[c] = true
	}
	return
}()

// isTargetChar reports bytes allowed in a request-target as we accept it:
// anything visible (including obs-text), nothing that is SP, a CTL or DEL.
var isTargetChar = func() (t [256]bool) {
	for c := 0x21; c <= 0x7e; c++ {
		t[c] = true
	}
	for c := 0x80; c <= 0xff; c++ {
		t[c] = true
	}
	return
}()

// isRegNameChar reports the bytes of a URI reg-name (RFC 3986 §3.2.2):
// unreserved, sub-delims and "%" (escapes are checked separately), plus
// bytes >= 0x80 (accepted, as net/http does).
var isRegNameChar = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = true
	}
	for _, c := range "-._~!$&'()*+,;=%" {
		t[c] = true
	}
	for c := 0x80; c <= 0xff; c++ {
		t[c] = true
	}
	return
}()

// toLower maps ASCII upper-case letters to lower case and leaves every other
// byte alone.
var toLower = func() (t [256]byte) {
	for i := range t {
		t[i] = byte(i)
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = byte(c) + 'a' - 'A'
	}
	return
}()

// lowerTchar maps token characters to their lower-case form and every
// other byte to 0.
var lowerTchar = func() (t [256]byte) {
	for i := range t {
		if isTchar[i] {
			t[i] = toLower[i]
		}
	}
	return
}()

// unhex maps a hexadecimal digit to its value, other bytes to 0xff.
var unhex = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = byte(c - '0')
	}
	for c := 'a'; c <= 'f'; c++ {
		t[c] = byte(c-'a') + 10
	}
	for c := 'A'; c <= 'F'; c++ {
		t[c] = byte(c-'A') + 10
	}
	return
}()

// equalFold reports whether a and b are equal under ASCII case folding.
func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if a[i] != b[i] && toLower[a[i]] != toLower[b[i]] {
			return false
		}
	}
	return true
}

// equalFoldBytes is equalFold for a byte slice against a lower-case constant.
func equalFoldBytes(a []byte, lower string) bool {
	if len(a) != len(lower) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if toLower[a[i]] != lower[i] {
			return false
		}
	}
	return true
}

// trimOWS trims optional whitespace (SP / HTAB) from both ends.
func trimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

func trimOWSString(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// hasToken reports whether the comma-separated list v contains token
// (compared case-insensitively, elements trimmed of OWS).
func hasToken(v, token string) bool {
	for len(v) > 0 {
		var elem string
		if i := strings.IndexByte(v, ','); i >= 0 {
			elem, v = v[:i], v[i+1:]
		} else {
			elem, v = v, ""
		}
		if equalFold(trimOWSString(elem), token) {
			return true
		}
	}
	return false
}
