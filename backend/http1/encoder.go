package http1

import "strconv"

// The encoder writes heads in Pipy's format:
//
//	HTTP/1.1 200 OK\r\n
//	<the head's headers, in order>\r\n
//	content-length: 11\r\n            (or transfer-encoding: chunked)
//	connection: keep-alive\r\n        (or connection: close)
//	\r\n
//
// The encoder owns framing: content-length, transfer-encoding, connection
// and keep-alive fields carried by the head are not written. An upgrade
// field (in a request, or in a 101 response) is written followed at once by
// "connection: upgrade", which then replaces the keep-alive/close line.
//
// Nothing given by the caller can inject a line: fields whose name is not a
// token are skipped; CTL bytes (CR, LF, NUL, ...; HTAB is kept) and DEL in
// values and reason phrases are written as SP; in a request target they are
// percent-encoded (as is SP); invalid method characters are dropped; any
// protocol other than "HTTP/1.0" is written as "HTTP/1.1".

// field classes the encoder treats specially
const (
	fieldOther = iota
	fieldContentLength
	fieldTransferEncoding
	fieldConnection
	fieldKeepAlive
	fieldUpgrade
)

func classifyField(name string) int {
	switch len(name) {
	case 7:
		if equalFold(name, "upgrade") {
			return fieldUpgrade
		}
	case 10:
		if equalFold(name, "connection") {
			return fieldConnection
		}
		if equalFold(name, "keep-alive") {
			return fieldKeepAlive
		}
	case 14:
		if equalFold(name, "content-length") {
			return fieldContentLength
		}
	case 17:
		if equalFold(name, "transfer-encoding") {
			return fieldTransferEncoding
		}
	}
	return fieldOther
}

func validFieldName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		if !isTchar[name[i]] {
			return false
		}
	}
	return true
}

// appendText appends s with every byte that may not appear in a field value
// (CR, LF, NUL and the other CTLs except HTAB, DEL) replaced by SP.
func appendText(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if !isValueChar[s[i]] {
			return appendTextSlow(dst, s)
		}
	}
	return append(dst, s...)
}

func appendTextSlow(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isValueChar[c] {
			c = ' '
		}
		dst = append(dst, c)
	}
	return dst
}

func appendField(dst []byte, name, value string) []byte {
	dst = append(dst, name...)
	dst = append(dst, ": "...)
	dst = appendText(dst, value)
	return append(dst, "\r\n"...)
}

func appendProtocol(dst []byte, proto string) []byte {
	if proto == "HTTP/1.0" {
		return append(dst, "HTTP/1.0"...)
	}
	return append(dst, "HTTP/1.1"...)
}

func appendMethod(dst []byte, m string) []byte {
	ok := m != ""
	for i := 0; i < len(m) && ok; i++ {
		ok = isTchar[m[i]]
	}
	if ok {
		return append(dst, m...)
	}
	n := len(dst)
	for i := 0; i < len(m); i++ {
		if isTchar[m[i]] {
			dst = append(dst, m[i])
		}
	}
	if len(dst) == n {
		dst = append(dst, "GET"...)
	}
	return dst
}

func appendTarget(dst []byte, p string) []byte {
	if p == "" {
		return append(dst, '/')
	}
	clean := true
	for i := 0; i < len(p) && clean; i++ {
		clean = isTargetChar[p[i]]
	}
	if clean {
		return append(dst, p...)
	}
	const upperHex = "0123456789ABCDEF"
	for i := 0; i < len(p); i++ {
		c := p[i]
		if isTargetChar[c] {
			dst = append(dst, c)
		} else {
			dst = append(dst, '%', upperHex[c>>4], upperHex[c&15])
		}
	}
	return dst
}

// methodWithoutBody reports methods whose requests carry no content unless
// a length says so: for them a zero bodyLen writes no content-length.
func methodWithoutBody(m string) bool {
	switch m {
	case "GET", "HEAD", "DELETE", "OPTIONS", "TRACE", "CONNECT":
		return true
	}
	return false
}

func appendFraming(dst []byte, bodyLen int) []byte {
	if bodyLen < 0 {
		return append(dst, "transfer-encoding: chunked\r\n"...)
	}
	dst = append(dst, "content-length: "...)
	dst = strconv.AppendInt(dst, int64(bodyLen), 10)
	return append(dst, "\r\n"...)
}

// AppendRequestHead appends the request line and header section of h.
// bodyLen >= 0 writes "content-length: N" (except a zero length for GET,
// HEAD, DELETE, OPTIONS, TRACE and CONNECT, which writes nothing);
// bodyLen < 0 writes "transfer-encoding: chunked". It ends with
// "connection: close" if h's connection field lists close, else
// "connection: keep-alive" (or "connection: upgrade" after an upgrade field).
func AppendRequestHead(dst []byte, h *RequestHead, bodyLen int) []byte {
	method := h.Method
	if method == "" {
		method = "GET"
	}
	dst = appendMethod(dst, method)
	dst = append(dst, ' ')
	dst = appendTarget(dst, h.Path)
	dst = append(dst, ' ')
	dst = appendProtocol(dst, h.Protocol)
	dst = append(dst, "\r\n"...)
	closing, upgraded := false, false
	for i := range h.Headers {
		f := &h.Headers[i]
		switch classifyField(f.Name) {
		case fieldContentLength, fieldTransferEncoding, fieldKeepAlive:
			continue
		case fieldConnection:
			if hasToken(f.Value, "close") {
				closing = true
			}
			continue
		case fieldUpgrade:
			if upgraded || f.Value == "" {
				continue
			}
			dst = appendField(dst, f.Name, f.Value)
			dst = append(dst, "connection: upgrade\r\n"...)
			upgraded = true
			continue
		}
		if validFieldName(f.Name) {
			dst = appendField(dst, f.Name, f.Value)
		}
	}
	if bodyLen != 0 || !methodWithoutBody(method) {
		dst = appendFraming(dst, bodyLen)
	}
	if !upgraded {
		if closing {
			dst = append(dst, "connection: close\r\n"...)
		} else {
			dst = append(dst, "connection: keep-alive\r\n"...)
		}
	}
	return append(dst, "\r\n"...)
}

// AppendResponseHead appends the status line and header section of h.
// A zero Status means 200, an empty Protocol HTTP/1.1, an empty StatusText
// StatusText(Status) (nothing for a code without a standard phrase).
//
// bodyLen >= 0 writes "content-length: N", bodyLen < 0 writes
// "transfer-encoding: chunked", then "connection: keep-alive" or
// "connection: close" per keepAlive. Bodiless statuses get no body framing:
// 1xx and 204 drop any content-length the head carries; 304 keeps it (as
// AppendResponseHeadNoBody does). 1xx responses get no connection line,
// except "connection: upgrade" after the upgrade field of a 101. An upgrade
// field in any other response is dropped.
func AppendResponseHead(dst []byte, h *ResponseHead, bodyLen int, keepAlive bool) []byte {
	return appendResponseHead(dst, h, bodyLen, keepAlive, false)
}

// AppendResponseHeadNoBody is AppendResponseHead for a response that has no
// body on the wire although its head may describe one, i.e. a response to
// HEAD: a content-length field the head carries is kept as is and no other
// framing is written.
func AppendResponseHeadNoBody(dst []byte, h *ResponseHead, keepAlive bool) []byte {
	return appendResponseHead(dst, h, 0, keepAlive, true)
}

func appendResponseHead(dst []byte, h *ResponseHead, bodyLen int, keepAlive, noBody bool) []byte {
	status := h.Status
	if status == 0 {
		status = 200
	}
	dst = appendProtocol(dst, h.Protocol)
	dst = append(dst, ' ')
	dst = strconv.AppendInt(dst, int64(status), 10)
	dst = append(dst, ' ')
	if h.StatusText != "" {
		dst = appendText(dst, h.StatusText)
	} else {
		dst = append(dst, StatusText(status)...)
	}
	dst = append(dst, "\r\n"...)

	interim := status >= 100 && status < 200
	bodiless := interim || status == 204
	keepCL := !bodiless && (noBody || status == 304)
	framing := !noBody && !bodiless && status != 304
	upgraded := false
	for i := range h.Headers {
		f := &h.Headers[i]
		switch classifyField(f.Name) {
		case fieldContentLength:
			if !keepCL {
				continue
			}
		case fieldTransferEncoding, fieldKeepAlive, fieldConnection:
			continue
		case fieldUpgrade:
			if status != 101 || upgraded || f.Value == "" {
				continue
			}
			dst = appendField(dst, f.Name, f.Value)
			dst = append(dst, "connection: upgrade\r\n"...)
			upgraded = true
			continue
		}
		if validFieldName(f.Name) {
			dst = appendField(dst, f.Name, f.Value)
		}
	}
	if framing {
		dst = appendFraming(dst, bodyLen)
	}
	if !interim && !upgraded {
		if keepAlive {
			dst = append(dst, "connection: keep-alive\r\n"...)
		} else {
			dst = append(dst, "connection: close\r\n"...)
		}
	}
	return append(dst, "\r\n"...)
}

// AppendChunk appends data as one chunk ("%x\r\n" data "\r\n"). Empty data
// appends nothing (an empty chunk would end the body).
func AppendChunk(dst, data []byte) []byte {
	if len(data) == 0 {
		return dst
	}
	dst = strconv.AppendUint(dst, uint64(len(data)), 16)
	dst = append(dst, "\r\n"...)
	dst = append(dst, data...)
	return append(dst, "\r\n"...)
}

// AppendLastChunk appends the last chunk and an empty trailer section.
func AppendLastChunk(dst []byte) []byte {
	return append(dst, "0\r\n\r\n"...)
}
