package http1

import "strconv"

// Header is one header field. The decoder lower-cases Name; values have
// leading and trailing optional whitespace removed.
type Header struct{ Name, Value string }

// Headers is a list of header fields in wire order. Lookups compare names
// case-insensitively (ASCII). Names passed to Set and Add are stored as given.
type Headers []Header

// Get returns the value of the first field called name.
func (hs Headers) Get(name string) (string, bool) {
	for i := range hs {
		if equalFold(hs[i].Name, name) {
			return hs[i].Value, true
		}
	}
	return "", false
}

// Values returns the values of every field called name, in wire order.
func (hs Headers) Values(name string) []string {
	var vs []string
	for i := range hs {
		if equalFold(hs[i].Name, name) {
			vs = append(vs, hs[i].Value)
		}
	}
	return vs
}

// Has reports whether a field called name is present.
func (hs Headers) Has(name string) bool {
	_, ok := hs.Get(name)
	return ok
}

// HasToken reports whether any field called name carries token in its
// comma-separated value list (case-insensitive), e.g.
// HasToken("connection", "close").
func (hs Headers) HasToken(name, token string) bool {
	for i := range hs {
		if equalFold(hs[i].Name, name) && hasToken(hs[i].Value, token) {
			return true
		}
	}
	return false
}

// Set replaces the first field called name with value and removes any other
// field of that name; it appends the field when there is none.
func (hs *Headers) Set(name, value string) {
	s := *hs
	found := false
	j := 0
	for i := range s {
		if equalFold(s[i].Name, name) {
			if found {
				continue
			}
			found = true
			s[i].Value = value
		}
		s[j] = s[i]
		j++
	}
	clear(s[j:])
	s = s[:j]
	if !found {
		s = append(s, Header{name, value})
	}
	*hs = s
}

// Add appends a field.
func (hs *Headers) Add(name, value string) {
	*hs = append(*hs, Header{name, value})
}

// Del removes every field called name.
func (hs *Headers) Del(name string) {
	s := *hs
	j := 0
	for i := range s {
		if !equalFold(s[i].Name, name) {
			s[j] = s[i]
			j++
		}
	}
	clear(s[j:])
	*hs = s[:j]
}

// RequestHead is the head of a request message.
type RequestHead struct {
	Method, Path, Protocol string // Protocol is "HTTP/1.1" or "HTTP/1.0"
	Headers                Headers
}

// ResponseHead is the head of a response message.
type ResponseHead struct {
	Protocol   string
	Status     int
	StatusText string
	Headers    Headers
}

func keepAlive(proto string, hs Headers) bool {
	if proto == "HTTP/1.0" {
		return hs.HasToken("connection", "keep-alive") && !hs.HasToken("connection", "close")
	}
	return !hs.HasToken("connection", "close")
}

// KeepAlive reports whether the connection persists after this request:
// HTTP/1.1 (or an empty Protocol) unless "connection: close"; HTTP/1.0 only
// with "connection: keep-alive".
func (h *RequestHead) KeepAlive() bool { return keepAlive(h.Protocol, h.Headers) }

// KeepAlive is the same rule as RequestHead.KeepAlive. Note that a response
// whose body is delimited by the connection closing cannot be followed by
// another one whatever its headers say.
func (h *ResponseHead) KeepAlive() bool { return keepAlive(h.Protocol, h.Headers) }

// ExpectContinue reports "expect: 100-continue".
func (h *RequestHead) ExpectContinue() bool {
	v, ok := h.Headers.Get("expect")
	return ok && equalFold(v, "100-continue")
}

// IsUpgrade reports a protocol-upgrade request: an upgrade field with a
// non-empty value whose name is also listed in the connection field
// (RFC 9110 §7.8).
func (h *RequestHead) IsUpgrade() bool {
	v, ok := h.Headers.Get("upgrade")
	return ok && v != "" && h.Headers.HasToken("connection", "upgrade")
}

// IsConnect reports a CONNECT request.
func (h *RequestHead) IsConnect() bool { return h.Method == "CONNECT" }

// Error is a protocol error found by the decoder. Status is the HTTP status
// a server should answer with (400, 413, 414, 431, 501, 505). The response
// decoder uses the same classification; a proxy should answer 502 for any
// error from a response decoder.
type Error struct {
	Status int
	Reason string
}

func (e *Error) Error() string {
	return "http1: " + strconv.Itoa(e.Status) + " " + e.Reason
}

// StatusText returns the standard reason phrase for code, or "" when the
// code has none.
func StatusText(code int) string {
	switch code {
	case 100:
		return "Continue"
	case 101:
		return "Switching Protocols"
	case 102:
		return "Processing"
	case 103:
		return "Early Hints"
	case 200:
		return "OK"
	case 201:
		return "Created"
	case 202:
		return "Accepted"
	case 203:
		return "Non-Authoritative Information"
	case 204:
		return "No Content"
	case 205:
		return "Reset Content"
	case 206:
		return "Partial Content"
	case 207:
		return "Multi-Status"
	case 208:
		return "Already Reported"
	case 226:
		return "IM Used"
	case 300:
		return "Multiple Choices"
	case 301:
		return "Moved Permanently"
	case 302:
		return "Found"
	case 303:
		return "See Other"
	case 304:
		return "Not Modified"
	case 305:
		return "Use Proxy"
	case 307:
		return "Temporary Redirect"
	case 308:
		return "Permanent Redirect"
	case 400:
		return "Bad Request"
	case 401:
		return "Unauthorized"
	case 402:
		return "Payment Required"
	case 403:
		return "Forbidden"
	case 404:
		return "Not Found"
	case 405:
		return "Method Not Allowed"
	case 406:
		return "Not Acceptable"
	case 407:
		return "Proxy Authentication Required"
	case 408:
		return "Request Timeout"
	case 409:
		return "Conflict"
	case 410:
		return "Gone"
	case 411:
		return "Length Required"
	case 412:
		return "Precondition Failed"
	case 413:
		return "Payload Too Large"
	case 414:
		return "URI Too Long"
	case 415:
		return "Unsupported Media Type"
	case 416:
		return "Range Not Satisfiable"
	case 417:
		return "Expectation Failed"
	case 421:
		return "Misdirected Request"
	case 422:
		return "Unprocessable Entity"
	case 423:
		return "Locked"
	case 424:
		return "Failed Dependency"
	case 425:
		return "Too Early"
	case 426:
		return "Upgrade Required"
	case 428:
		return "Precondition Required"
	case 429:
		return "Too Many Requests"
	case 431:
		return "Request Header Fields Too Large"
	case 451:
		return "Unavailable For Legal Reasons"
	case 500:
		return "Internal Server Error"
	case 501:
		return "Not Implemented"
	case 502:
		return "Bad Gateway"
	case 503:
		return "Service Unavailable"
	case 504:
		return "Gateway Timeout"
	case 505:
		return "HTTP Version Not Supported"
	case 506:
		return "Variant Also Negotiates"
	case 507:
		return "Insufficient Storage"
	case 508:
		return "Loop Detected"
	case 510:
		return "Not Extended"
	case 511:
		return "Network Authentication Required"
	}
	return ""
}
