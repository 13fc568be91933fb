package http1

import (
	"bytes"
	"encoding/binary"
	"math"
	"unsafe"
)

// Handler receives the events of a decoded message stream.
type Handler interface {
	// OnMessageStart delivers the head: *RequestHead from a request
	// decoder, *ResponseHead from a response decoder. The head is freshly
	// allocated and may be retained.
	OnMessageStart(head any)
	// OnData delivers body bytes (de-chunked) or, once the stream is
	// tunneled, raw bytes. b is only valid during the call: it may alias the
	// buffer passed to Feed. It is never empty.
	OnData(b []byte)
	// OnMessageEnd ends the message started by the last OnMessageStart.
	OnMessageEnd()
}

// Limits bounds what the decoder accepts. A zero field selects its default.
type Limits struct {
	MaxLineSize      int   // bytes before the LF of one head line (default 8 KiB); request line → 414, field line → 431
	MaxHeaderSize    int   // bytes of a whole head, and of a chunked trailer section (default 64 KiB) → 431
	MaxHeaderCount   int   // header fields in a head, and trailer fields (default 100) → 431
	MaxChunkLineSize int   // bytes of a chunk-size line including extensions and CRLF (default 4 KiB) → 400
	MaxBodySize      int64 // body bytes of one message (default 0: unlimited) → 413
}

const (
	defaultMaxLineSize      = 8 << 10
	defaultMaxHeaderSize    = 64 << 10
	defaultMaxHeaderCount   = 100
	defaultMaxChunkLineSize = 4 << 10
)

func (l Limits) normalize() Limits {
	if l.MaxLineSize <= 0 {
		l.MaxLineSize = defaultMaxLineSize
	}
	if l.MaxHeaderSize <= 0 {
		l.MaxHeaderSize = defaultMaxHeaderSize
	}
	if l.MaxHeaderCount <= 0 {
		l.MaxHeaderCount = defaultMaxHeaderCount
	}
	if l.MaxChunkLineSize <= 0 {
		l.MaxChunkLineSize = defaultMaxChunkLineSize
	}
	if l.MaxBodySize < 0 {
		l.MaxBodySize = 0
	}
	return l
}

type state uint8

const (
	stStart       state = iota // request decoder: before a request line, skipping empty lines
	stStartCR                  // request decoder: saw the CR of a leading empty line
	stHead                     // collecting a head
	stBody                     // content-length body
	stChunkSize                // chunk-size line
	stChunkData                // chunk data
	stChunkDataCR              // CR after chunk data
	stChunkDataLF              // LF after chunk data
	stTrailer                  // trailer section after the last chunk
	stUntilClose               // response body delimited by EOF
	stHeld                     // request decoder: after an upgrade/CONNECT request, waiting for StartTunnel or Resume
	stTunnel                   // raw bytes
	stFailed
)

// chunk-size line sub-states
const (
	csStart  uint8 = iota // first hex digit expected
	csDigits              // more hex digits, or what follows them
	csWS                  // whitespace after the digits
	csExt                 // chunk extensions (ignored)
	csLF                  // LF expected after CR
)

// trailer sub-states
const (
	tsLineStart uint8 = iota
	tsName
	tsValue
	tsCR
	tsEndLF
)

// span locates one header field inside the decoder's scratch buffer.
type span struct{ no, nl, vo, vl int32 }

// Decoder is a push-style HTTP/1.x message decoder: the caller feeds bytes
// and receives Handler callbacks. It never blocks, starts no goroutines and
// does no I/O. A Decoder is not safe for concurrent use; handlers must not
// call Feed or EOF re-entrantly (StartTunnel and Resume may be called from
// OnMessageStart/OnMessageEnd).
type Decoder struct {
	h    Handler
	lim  Limits
	resp bool
	st   state
	err  error
	eof  bool

	// head collection
	hbuf      []byte  // partial head carried over between Feeds
	lineStart int     // offset of the current line in the head
	lines     int     // complete non-empty lines in the head so far
	lineEnds  []int32 // offsets of the LFs of the head's lines

	// head parsing scratch (reused)
	sbuf  []byte
	spans []span

	// Where heads are made: strings are cut from an append-only arena
	// (bytes once handed out are never written again) and heads come in
	// small batches, so a request head costs a fraction of an allocation.
	strs     []byte
	reqSlab  []RequestHead
	respSlab []ResponseHead
	hdrs     Headers // arena of header fields

	// body
	remain int64 // bytes left in the content-length body or chunk
	total  int64 // body bytes so far (for MaxBodySize)

	// chunk-size line
	cst      uint8
	cdigits  int
	csize    uint64
	clineLen int

	// trailer section
	tst      uint8
	tlineLen int
	tsize    int
	tcount   int

	inMsg      bool // between OnMessageStart and OnMessageEnd
	holdAfter  bool // request decoder: hold the stream after this message
	tunnAfter  bool // tunnel after this message
	wantTunnel bool // StartTunnel was called inside a message

	// response decoder: methods of requests sent, FIFO
	methods []string
	mhead   int

	held []byte
}

// NewRequestDecoder returns a decoder for the request side of a connection
// (what a server reads).
func NewRequestDecoder(h Handler, lim Limits) *Decoder {
	return &Decoder{h: h, lim: lim.normalize(), st: stStart}
}

// NewResponseDecoder returns a decoder for the response side of a
// connection (what a client reads). Call PushRequestMethod for every request
// sent so that responses to HEAD and CONNECT are framed correctly.
func NewResponseDecoder(h Handler, lim Limits) *Decoder {
	return &Decoder{h: h, lim: lim.normalize(), resp: true, st: stHead}
}

// PendingRequests returns how many pushed request methods still wait for
// their final response.
func (d *Decoder) PendingRequests() int { return len(d.methods) - d.mhead }

// PushRequestMethod records the method of a request sent on the connection.
// Each final (non-1xx) response consumes one entry; with none queued a
// response is framed as a reply to GET.
func (d *Decoder) PushRequestMethod(m string) {
	if d.mhead > 32 && d.mhead*2 > len(d.methods) {
		n := copy(d.methods, d.methods[d.mhead:])
		clear(d.methods[n:])
		d.methods = d.methods[:n]
		d.mhead = 0
	}
	d.methods = append(d.methods, m)
}

func (d *Decoder) popMethod() string {
	if d.mhead >= len(d.methods) {
		return ""
	}
	m := d.methods[d.mhead]
	d.methods[d.mhead] = ""
	d.mhead++
	if d.mhead == len(d.methods) {
		d.methods = d.methods[:0]
		d.mhead = 0
	}
	return m
}

// Tunneled reports whether HTTP parsing has ended and every further byte is
// passed to OnData unchanged (after a 101 response, a 2xx response to
// CONNECT, or StartTunnel).
func (d *Decoder) Tunneled() bool { return d.st == stTunnel }

// Holding reports whether a request decoder is holding bytes that follow an
// upgrade or CONNECT request until the caller calls StartTunnel or Resume.
func (d *Decoder) Holding() bool { return d.st == stHeld }

// StartTunnel switches the decoder into tunnel mode: every byte from now on
// (including bytes held after an upgrade/CONNECT request) is passed to OnData.
// A request decoder's caller calls it once the upgrade was accepted (a 101
// or a 2xx to CONNECT was sent). Called inside a message, it takes effect
// when the message ends.
func (d *Decoder) StartTunnel() {
	if d.st == stFailed || d.st == stTunnel {
		return
	}
	if d.inMsg {
		d.wantTunnel = true
		return
	}
	var pending []byte
	switch d.st {
	case stHeld:
		pending = d.held
		d.held = d.held[:0]
	case stHead: // a partial head belongs to the tunnel
		pending = d.hbuf
		d.hbuf = d.hbuf[:0]
		d.lineStart, d.lines = 0, 0
		d.lineEnds = d.lineEnds[:0]
	}
	d.st = stTunnel
	if len(pending) > 0 {
		d.h.OnData(pending)
	}
}

// Resume makes a request decoder that is holding bytes after an upgrade or
// CONNECT request go back to parsing HTTP (the upgrade was refused). The held
// bytes are parsed at once; the error is what Feed would have returned.
func (d *Decoder) Resume() error {
	if d.st != stHeld {
		return d.err
	}
	d.st = stStart
	buf := d.held
	d.held = nil
	err := d.Feed(buf)
	if d.held == nil {
		d.held = buf[:0]
	}
	return err
}

func (d *Decoder) fail(status int, reason string) error {
	e := &Error{Status: status, Reason: reason}
	d.err = e
	d.st = stFailed
	return e
}

// Feed decodes b, which may be any piece of the stream (even one byte).
// Callbacks run before Feed returns; OnData slices may alias b. After an
// error the decoder stays failed and Feed keeps returning the same error.
func (d *Decoder) Feed(b []byte) error {
	if d.err != nil {
		return d.err
	}
	if d.eof && len(b) > 0 {
		return d.fail(400, "data after EOF")
	}
	for len(b) > 0 {
		switch d.st {
		case stStart:
			switch b[0] {
			case '\n':
				b = b[1:]
			case '\r':
				d.st = stStartCR
				b = b[1:]
			default:
				d.st = stHead
			}
		case stStartCR:
			if b[0] != '\n' {
				return d.fail(400, "bare CR before request line")
			}
			d.st = stStart
			b = b[1:]
		case stHead:
			n, err := d.collectHead(b)
			if err != nil {
				return err
			}
			b = b[n:]
		case stBody, stChunkData:
			n := len(b)
			if int64(n) > d.remain {
				n = int(d.remain)
			}
			d.remain -= int64(n)
			d.h.OnData(b[:n])
			b = b[n:]
			if d.remain == 0 {
				if d.st == stBody {
					d.endMessage()
				} else {
					d.st = stChunkDataCR
				}
			}
		case stChunkDataCR:
			if b[0] != '\r' {
				return d.fail(400, "missing CRLF after chunk data")
			}
			d.st = stChunkDataLF
			b = b[1:]
		case stChunkDataLF:
			if b[0] != '\n' {
				return d.fail(400, "missing CRLF after chunk data")
			}
			d.st = stChunkSize
			d.cst, d.clineLen = csStart, 0
			b = b[1:]
		case stChunkSize:
			n, err := d.chunkLine(b)
			if err != nil {
				return err
			}
			b = b[n:]
		case stTrailer:
			n, err := d.trailer(b)
			if err != nil {
				return err
			}
			b = b[n:]
		case stUntilClose:
			n := len(b)
			if max := d.lim.MaxBodySize; max > 0 && d.total+int64(n) > max {
				n = int(max - d.total)
				if n > 0 {
					d.total += int64(n)
					d.h.OnData(b[:n])
				}
				return d.fail(413, "body too large")
			}
			d.total += int64(n)
			d.h.OnData(b)
			b = nil
		case stTunnel:
			d.h.OnData(b)
			b = nil
		case stHeld:
			if len(d.held)+len(b) > d.lim.MaxHeaderSize {
				return d.fail(400, "too much data sent before the upgrade completed")
			}
			d.held = append(d.held, b...)
			b = nil
		case stFailed:
			return d.err
		}
	}
	return nil
}

// EOF tells the decoder that the input ended. It ends a response whose body
// is delimited by the connection closing, and returns an error when the
// stream stopped inside a message (truncated head, body or chunk).
func (d *Decoder) EOF() error {
	if d.err != nil {
		return d.err
	}
	if d.eof {
		return nil
	}
	switch d.st {
	case stStart, stStartCR, stHeld, stTunnel:
	case stHead:
		if len(d.hbuf) > 0 {
			return d.fail(400, "unexpected EOF in message head")
		}
	case stUntilClose:
		d.endMessage()
	default:
		return d.fail(400, "unexpected EOF in message body")
	}
	d.eof = true
	return nil
}

// lineTooLong builds the error for a head line over MaxLineSize.
func (d *Decoder) lineTooLong(first bool) error {
	if first {
		if d.resp {
			return d.fail(400, "status line too long")
		}
		return d.fail(414, "request line too long")
	}
	return d.fail(431, "header line too long")
}

// collectHead scans b for the end of the head (an empty line). Limits are
// checked by byte position so that the error is the same however the input
// is split: of the limits violated, the one whose offending byte comes first
// wins. It returns the number of bytes consumed.
func (d *Decoder) collectHead(b []byte) (int, error) {
	base := len(d.hbuf)
	maxLine := d.lim.MaxLineSize
	maxHead := d.lim.MaxHeaderSize
	pos := 0
	for {
		i := bytes.IndexByte(b[pos:], '\n')
		if i < 0 {
			seen := base + len(b)
			lineLen := seen - d.lineStart
			lineAt, sizeAt := -1, -1
			if lineLen > maxLine {
				lineAt = d.lineStart + maxLine
			}
			if seen > maxHead {
				sizeAt = maxHead
			}
			if lineAt >= 0 && (sizeAt < 0 || lineAt <= sizeAt) {
				return 0, d.lineTooLong(d.lines == 0)
			}
			if sizeAt >= 0 {
				return 0, d.fail(431, "message head too large")
			}
			d.hbuf = append(d.hbuf, b...)
			return len(b), nil
		}
		lf := base + pos + i // offset of the LF in the head
		lineLen := lf - d.lineStart
		empty := lineLen == 0 || (lineLen == 1 && d.headByte(b, base, d.lineStart) == '\r')
		first := d.lines == 0
		if !empty {
			d.lines++
		}
		lineAt, sizeAt, countAt := -1, -1, -1
		if lineLen > maxLine {
			lineAt = d.lineStart + maxLine
		}
		if lf+1 > maxHead {
			sizeAt = maxHead
		}
		if d.lines > d.lim.MaxHeaderCount+1 {
			countAt = lf
		}
		if lineAt >= 0 || sizeAt >= 0 || countAt >= 0 {
			best, which := math.MaxInt, 0
			for k, at := range [3]int{lineAt, sizeAt, countAt} {
				if at >= 0 && at < best {
					best, which = at, k
				}
			}
			switch which {
			case 0:
				return 0, d.lineTooLong(first)
			case 1:
				return 0, d.fail(431, "message head too large")
			default:
				return 0, d.fail(431, "too many header fields")
			}
		}
		pos += i + 1
		d.lineStart = lf + 1
		d.lineEnds = append(d.lineEnds, int32(lf))
		if !empty {
			continue
		}
		if first {
			// Only the response decoder gets here: the request decoder
			// skips empty lines before the request line in stStart.
			return 0, d.fail(400, "empty status line")
		}
		var head []byte
		if base == 0 {
			head = b[:pos]
		} else {
			d.hbuf = append(d.hbuf, b[:pos]...)
			head = d.hbuf
		}
		// The head is complete: nothing is pending any more (a callback
		// calling StartTunnel must not see it). head stays valid: nothing
		// appends to hbuf before the parser has copied it.
		d.hbuf = d.hbuf[:0]
		d.lineStart, d.lines = 0, 0
		var err error
		if d.resp {
			err = d.parseResponse(head)
		} else {
			err = d.parseRequest(head)
		}
		d.lineEnds = d.lineEnds[:0]
		if err != nil {
			return 0, err
		}
		return pos, nil
	}
}

func (d *Decoder) headByte(b []byte, base, off int) byte {
	if off < base {
		return d.hbuf[off]
	}
	return b[off-base]
}

// headLine returns line k of head (0-based) without its LF and the
// optional CR before it, using the LF offsets recorded by collectHead.
func (d *Decoder) headLine(head []byte, k int) []byte {
	start := 0
	if k > 0 {
		start = int(d.lineEnds[k-1]) + 1
	}
	end := int(d.lineEnds[k])
	if end > start && head[end-1] == '\r' {
		end--
	}
	return head[start:end]
}

// framing collects what the header fields say about the message body.
type framing struct {
	hosts     int
	hasCL     bool
	cl        int64
	hasTE     bool
	teBad     bool // syntactically invalid transfer-encoding
	teOther   bool // a coding other than chunked
	chunked   int  // times chunked was listed
	lastChunk bool // the last coding listed is chunked
	upgrade   bool // an upgrade field with a value
	connUpg   bool // the connection field lists "upgrade"
}

// parseFields parses the header field lines of buf (lines 1 to the empty
// line), records them in d.spans and fills f. buf is the decoder's private
// copy of the head: names are lower-cased in place.
func (d *Decoder) parseFields(buf []byte, f *framing) error {
	for k := 1; ; k++ {
		start := int(d.lineEnds[k-1]) + 1
		end := int(d.lineEnds[k])
		if end > start && buf[end-1] == '\r' {
			end--
		}
		if end == start {
			return nil
		}
		line := buf[start:end]
		if c := line[0]; c == ' ' || c == '\t' {
			return d.fail(400, "obsolete line folding")
		}
		j := 0
		for j < len(line) {
			c := lowerTchar[line[j]]
			if c == 0 {
				break
			}
			line[j] = c
			j++
		}
		if j == len(line) {
			return d.fail(400, "header line without colon")
		}
		switch line[j] {
		case ':':
		case ' ', '\t':
			return d.fail(400, "whitespace between header name and colon")
		case '\r':
			return d.fail(400, "bare CR in header name")
		default:
			return d.fail(400, "invalid character in header name")
		}
		if j == 0 {
			return d.fail(400, "empty header name")
		}
		vs, ve := j+1, len(line)
		for vs < ve && (line[vs] == ' ' || line[vs] == '\t') {
			vs++
		}
		for ve > vs && (line[ve-1] == ' ' || line[ve-1] == '\t') {
			ve--
		}
		v := line[vs:ve]
		if bad := invalidValueByte(v); bad >= 0 {
			if v[bad] == '\r' {
				return d.fail(400, "bare CR in header value")
			}
			return d.fail(400, "invalid character in header value")
		}
		d.spans = append(d.spans, span{int32(start), int32(j), int32(start + vs), int32(ve - vs)})
		switch string(line[:j]) {
		case "host":
			f.hosts++
		case "content-length":
			n, ok := parseContentLength(v)
			if !ok {
				return d.fail(400, "invalid content-length")
			}
			if f.hasCL && n != f.cl {
				return d.fail(400, "conflicting content-length values")
			}
			f.hasCL, f.cl = true, n
		case "transfer-encoding":
			f.hasTE = true
			parseTransferEncoding(v, f)
		case "upgrade":
			f.upgrade = f.upgrade || len(v) > 0
		case "connection":
			f.connUpg = f.connUpg || hasTokenBytes(v, "upgrade")
		}
	}
}

// invalidValueByte returns the index of the first byte of v that may not
// appear in a field value, or -1. It checks eight bytes at a time for the
// common case (no CTL, no DEL); a word with a suspicious byte (HTAB
// included) is left to the byte loop.
func invalidValueByte(v []byte) int {
	i := 0
	if len(v) >= 8 {
		for ; i+8 <= len(v); i += 8 {
			if !plainWord(binary.LittleEndian.Uint64(v[i:])) {
				goto bytewise
			}
		}
		// the last, possibly overlapping, word
		if i == len(v) || plainWord(binary.LittleEndian.Uint64(v[len(v)-8:])) {
			return -1
		}
	}
bytewise:
	for ; i < len(v); i++ {
		if !isValueChar[v[i]] {
			return i
		}
	}
	return -1
}

// plainWord reports that none of the eight bytes of x is below 0x20 or
// equal to 0x7f (bytes >= 0x80, obs-text, are fine).
func plainWord(x uint64) bool {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	y := x ^ (lo * 0x7f)
	return ((x-lo*0x20)&^x|(y-lo)&^y)&hi == 0
}

// hasTokenBytes is hasToken for a []byte value and a lower-case token.
func hasTokenBytes(v []byte, token string) bool {
	for len(v) > 0 {
		var elem []byte
		if i := bytes.IndexByte(v, ','); i >= 0 {
			elem, v = v[:i], v[i+1:]
		} else {
			elem, v = v, nil
		}
		if equalFoldBytes(trimOWS(elem), token) {
			return true
		}
	}
	return false
}

// parseContentLength parses 1*DIGIT, or a list of identical such values
// ("5, 5", RFC 9110 §8.6).
func parseContentLength(v []byte) (int64, bool) {
	n := int64(-1)
	for {
		var elem []byte
		i := bytes.IndexByte(v, ',')
		if i >= 0 {
			elem, v = v[:i], v[i+1:]
		} else {
			elem = v
		}
		elem = trimOWS(elem)
		if len(elem) == 0 {
			return 0, false
		}
		var x int64
		for _, c := range elem {
			if c < '0' || c > '9' {
				return 0, false
			}
			if x > (math.MaxInt64-int64(c-'0'))/10 {
				return 0, false
			}
			x = x*10 + int64(c-'0')
		}
		if n >= 0 && x != n {
			return 0, false
		}
		n = x
		if i < 0 {
			return n, true
		}
	}
}

// parseTransferEncoding adds the codings listed in v to f.
func parseTransferEncoding(v []byte, f *framing) {
	for {
		var elem []byte
		i := bytes.IndexByte(v, ',')
		if i >= 0 {
			elem, v = v[:i], v[i+1:]
		} else {
			elem = v
		}
		elem = trimOWS(elem)
		name := elem
		params := false
		if k := bytes.IndexByte(elem, ';'); k >= 0 {
			name, params = trimOWS(elem[:k]), true
		}
		if len(name) == 0 {
			f.teBad = true
		}
		for _, c := range name {
			if !isTchar[c] {
				f.teBad = true
			}
		}
		if equalFoldBytes(name, "chunked") {
			if params {
				f.teBad = true
			}
			f.chunked++
			f.lastChunk = true
		} else {
			f.teOther = true
			f.lastChunk = false
		}
		if i < 0 {
			return
		}
	}
}

// validTarget checks a request-target: visible characters only (obs-text
// allowed) in one of the RFC 9112 §3.2 forms: origin-form ("/..."),
// asterisk-form ("*"), absolute-form ("scheme:..."; an authority after
// "//" must be valid), or — for CONNECT, and only for it — authority-form
// (host:port). Like net/http, a "%" before any "?" must start a %XX escape,
// except in the opaque part of an absolute-form ("scheme:x" where x does not
// start with "/").
func validTarget(t []byte, connect bool) bool {
	if len(t) == 0 {
		return false
	}
	for _, c := range t {
		if !isTargetChar[c] {
			return false
		}
	}
	switch {
	case connect:
		if !validAuthority(t, true) {
			return false
		}
	case t[0] == '/':
	case len(t) == 1 && t[0] == '*':
		return true
	default:
		// absolute-form: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":"
		i := 0
		for ; i < len(t); i++ {
			c := t[i]
			if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' {
				continue
			}
			if i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.') {
				continue
			}
			break
		}
		if i == 0 || i == len(t) || t[i] != ':' {
			return false
		}
		rest := t[i+1:]
		if len(rest) == 0 || rest[0] != '/' {
			return true // opaque
		}
		if len(rest) > 1 && rest[1] == '/' {
			a := rest[2:]
			if k := bytes.IndexAny(a, "/?"); k >= 0 {
				a = a[:k]
			}
			if !validAuthority(a, false) {
				return false
			}
		}
	}
	for i := 0; i < len(t); i++ {
		switch t[i] {
		case '?':
			return true
		case '%':
			if i+2 >= len(t) || unhex[t[i+1]] == 0xff || unhex[t[i+2]] == 0xff {
				return false
			}
		}
	}
	return true
}

// validAuthority checks [ userinfo "@" ] host [ ":" port ] (RFC 3986
// §3.2), host being a reg-name or a bracketed IPv6/IPvFuture literal. For
// CONNECT (needPort) host and port must both be present. Percent-escapes
// are checked by the caller.
func validAuthority(a []byte, needPort bool) bool {
	if i := bytes.LastIndexByte(a, '@'); i >= 0 {
		for _, c := range a[:i] {
			if !isRegNameChar[c] && c != ':' {
				return false
			}
		}
		a = a[i+1:]
	}
	var host, port []byte
	hasPort := false
	if len(a) > 0 && a[0] == '[' {
		j := bytes.IndexByte(a, ']')
		if j < 2 {
			return false
		}
		for _, c := range a[1:j] {
			if unhex[c] == 0xff && c != ':' && c != '.' && c != 'v' && c != 'V' {
				return false
			}
		}
		host = a[:j+1]
		if rest := a[j+1:]; len(rest) > 0 {
			if rest[0] != ':' {
				return false
			}
			port, hasPort = rest[1:], true
		}
	} else {
		host = a
		if j := bytes.IndexByte(a, ':'); j >= 0 {
			host, port, hasPort = a[:j], a[j+1:], true
		}
		for _, c := range host {
			if !isRegNameChar[c] {
				return false
			}
		}
	}
	for _, c := range port {
		if c < '0' || c > '9' {
			return false
		}
	}
	return !needPort || len(host) > 0 && hasPort && len(port) > 0
}

// parseVersion classifies "HTTP/x.y": ok for 1.0/1.1; wellFormed for any
// digits x and y.
func parseVersion(v []byte) (proto string, wellFormed bool) {
	if len(v) != 8 || string(v[:5]) != "HTTP/" || v[6] != '.' ||
		v[5] < '0' || v[5] > '9' || v[7] < '0' || v[7] > '9' {
		return "", false
	}
	switch string(v) {
	case "HTTP/1.1":
		return "HTTP/1.1", true
	case "HTTP/1.0":
		return "HTTP/1.0", true
	}
	return "", true
}

// fillHeaders sets hs from d.spans; all strings share s.
func (d *Decoder) fillHeaders(hs Headers, s string) {
	for i, sp := range d.spans {
		hs[i] = Header{
			Name:  s[sp.no : sp.no+sp.nl],
			Value: s[sp.vo : sp.vo+sp.vl],
		}
	}
}

// newHead allocates a head together with room for n header fields (one
// allocation for up to 16 fields). The spare capacity belongs to the head,
// so a few Headers.Add calls do not allocate either.
func newHead[H RequestHead | ResponseHead](n int) (*H, Headers) {
	switch {
	case n == 0:
		return new(H), nil
	case n <= 4:
		p := new(struct {
			h H
			a [4]Header
		})
		return &p.h, p.a[:n]
	case n <= 8:
		p := new(struct {
			h H
			a [8]Header
		})
		return &p.h, p.a[:n]
	case n <= 16:
		p := new(struct {
			h H
			a [16]Header
		})
		return &p.h, p.a[:n]
	}
	return new(H), make(Headers, n)
}

func newRequestHead(n int) (*RequestHead, Headers) { return newHead[RequestHead](n) }

// Heads come from slabs of headSlab, and their header fields from an arena
// of headerArena fields, each with headerSpare fields of room to grow
// (three-index slices: growing further copies, never into a neighbour).
// A request then costs a share of two allocations instead of one of its
// own for the head and its fields. The sizes are small because every
// connection's decoder keeps its current slab and arena while it lives:
// together about 1.6 KiB.
const (
	headSlab    = 8
	headerArena = 32
	headerSpare = 1
)

// fromSlab takes a head from *slab, refilling it when empty.
func fromSlab[H RequestHead | ResponseHead](slab *[]H) *H {
	if len(*slab) == 0 {
		*slab = make([]H, headSlab)
	}
	p := &(*slab)[0]
	*slab = (*slab)[1:]
	return p
}

// headers returns room for n header fields, from the decoder's arena.
func (d *Decoder) headers(n int) Headers {
	want := n + headerSpare
	if want > headerArena/4 {
		return make(Headers, n, want)
	}
	if cap(d.hdrs)-len(d.hdrs) < want {
		d.hdrs = make(Headers, 0, headerArena)
	}
	i := len(d.hdrs)
	d.hdrs = d.hdrs[:i+want]
	return d.hdrs[i : i+n : i+want]
}

func (d *Decoder) requestHead(n int) (*RequestHead, Headers) {
	return fromSlab(&d.reqSlab), d.headers(n)
}

func (d *Decoder) responseHead(n int) (*ResponseHead, Headers) {
	return fromSlab(&d.respSlab), d.headers(n)
}

// intern returns b as a string cut from the decoder's string arena.
func (d *Decoder) intern(b []byte) string {
	if len(b) > strArenaSize/4 {
		return string(b)
	}
	if cap(d.strs)-len(d.strs) < len(b) {
		d.strs = make([]byte, 0, strArenaSize)
	}
	i := len(d.strs)
	d.strs = append(d.strs, b...)
	return unsafe.String(unsafe.SliceData(d.strs[i:]), len(b))
}

const strArenaSize = 4 << 10

func newResponseHead(n int) (*ResponseHead, Headers) { return newHead[ResponseHead](n) }

func (d *Decoder) parseRequest(head []byte) error {
	// One private copy of the head: validated and lower-cased in place,
	// then turned into the single string every field of the head slices.
	d.sbuf = append(d.sbuf[:0], head...)
	d.spans = d.spans[:0]
	buf := d.sbuf
	line := d.headLine(buf, 0)
	// method
	me := 0
	for me < len(line) && isTchar[line[me]] {
		me++
	}
	if me == 0 || me == len(line) || line[me] != ' ' {
		return d.fail(400, "malformed request line")
	}
	// request-target
	to := me + 1
	i := bytes.IndexByte(line[to:], ' ')
	if i < 0 {
		return d.fail(400, "malformed request line")
	}
	te := to + i
	connect := string(line[:me]) == "CONNECT"
	if !validTarget(line[to:te], connect) {
		return d.fail(400, "invalid request target")
	}
	proto, wellFormed := parseVersion(line[te+1:])
	if proto == "" {
		if wellFormed {
			return d.fail(505, "HTTP version not supported")
		}
		return d.fail(400, "malformed HTTP version")
	}

	var f framing
	if err := d.parseFields(buf, &f); err != nil {
		return err
	}
	if f.hosts > 1 {
		return d.fail(400, "multiple host headers")
	}
	if f.hosts == 0 && proto == "HTTP/1.1" {
		return d.fail(400, "missing host header")
	}
	chunked := false
	if f.hasTE {
		switch {
		case f.hasCL:
			return d.fail(400, "both content-length and transfer-encoding")
		case proto == "HTTP/1.0":
			return d.fail(400, "transfer-encoding in an HTTP/1.0 request")
		case f.teBad:
			return d.fail(400, "invalid transfer-encoding")
		case f.chunked > 0 && !f.lastChunk:
			return d.fail(400, "chunked is not the final transfer coding")
		case f.teOther:
			return d.fail(501, "unsupported transfer coding")
		case f.chunked > 1:
			return d.fail(400, "chunked applied more than once")
		}
		chunked = true
	} else if f.hasCL && d.lim.MaxBodySize > 0 && f.cl > d.lim.MaxBodySize {
		return d.fail(413, "body too large")
	}

	s := d.intern(buf)
	h, hs := d.requestHead(len(d.spans))
	d.fillHeaders(hs, s)
	*h = RequestHead{
		Method:   s[:me],
		Path:     s[to:te],
		Protocol: proto,
		Headers:  hs,
	}
	d.holdAfter = connect || f.upgrade && f.connUpg
	d.tunnAfter = false
	d.startMessage(h)
	switch {
	case chunked:
		d.startChunked()
	case f.hasCL && f.cl > 0:
		d.st = stBody
		d.remain = f.cl
	default:
		d.endMessage()
	}
	return nil
}

func (d *Decoder) parseResponse(head []byte) error {
	d.sbuf = append(d.sbuf[:0], head...)
	d.spans = d.spans[:0]
	buf := d.sbuf
	line := d.headLine(buf, 0)
	if len(line) < 12 || line[8] != ' ' {
		return d.fail(400, "malformed status line")
	}
	proto, wellFormed := parseVersion(line[:8])
	if proto == "" {
		if wellFormed {
			return d.fail(505, "HTTP version not supported")
		}
		return d.fail(400, "malformed status line")
	}
	status := 0
	for _, c := range line[9:12] {
		if c < '0' || c > '9' {
			return d.fail(400, "malformed status code")
		}
		status = status*10 + int(c-'0')
	}
	if status < 100 {
		return d.fail(400, "malformed status code")
	}
	ro, re := 12, 12
	if len(line) > 12 {
		if line[12] != ' ' {
			return d.fail(400, "malformed status line")
		}
		ro, re = 13, len(line)
		if invalidValueByte(line[ro:re]) >= 0 {
			return d.fail(400, "invalid character in reason phrase")
		}
	}

	var f framing
	if err := d.parseFields(buf, &f); err != nil {
		return err
	}
	if f.hasTE {
		switch {
		case f.hasCL:
			return d.fail(400, "both content-length and transfer-encoding")
		case proto == "HTTP/1.0":
			return d.fail(400, "transfer-encoding in an HTTP/1.0 response")
		case f.teBad:
			return d.fail(400, "invalid transfer-encoding")
		case f.chunked > 1:
			return d.fail(400, "chunked applied more than once")
		}
	}

	interim := status < 200 && status != 101
	method := ""
	if !interim {
		method = d.popMethod()
	}
	tunnel := status == 101 || (method == "CONNECT" && status/100 == 2)
	bodiless := interim || tunnel || method == "HEAD" || status == 204 || status == 304
	chunked := f.hasTE && f.lastChunk
	if !bodiless && !chunked && f.hasCL && d.lim.MaxBodySize > 0 && f.cl > d.lim.MaxBodySize {
		return d.fail(413, "body too large")
	}

	s := d.intern(buf)
	h, hs := d.responseHead(len(d.spans))
	d.fillHeaders(hs, s)
	*h = ResponseHead{
		Protocol:   proto,
		Status:     status,
		StatusText: s[ro:re],
		Headers:    hs,
	}
	d.holdAfter = false
	d.tunnAfter = tunnel
	d.startMessage(h)
	switch {
	case bodiless:
		d.endMessage()
	case chunked:
		d.startChunked()
	case f.hasTE: // a final coding other than chunked: read until close
		d.st = stUntilClose
	case f.hasCL && f.cl > 0:
		d.st = stBody
		d.remain = f.cl
	case f.hasCL:
		d.endMessage()
	default:
		d.st = stUntilClose
	}
	return nil
}

func (d *Decoder) startMessage(head any) {
	d.inMsg = true
	d.wantTunnel = false
	d.total = 0
	d.h.OnMessageStart(head)
}

func (d *Decoder) startChunked() {
	d.st = stChunkSize
	d.cst, d.clineLen = csStart, 0
}

// endMessage decides the next state, then calls OnMessageEnd (which may
// call StartTunnel or Resume and so change it again).
func (d *Decoder) endMessage() {
	d.inMsg = false
	switch {
	case d.wantTunnel || d.tunnAfter:
		d.st = stTunnel
	case d.holdAfter:
		d.st = stHeld
	case d.resp:
		d.st = stHead
	default:
		d.st = stStart
	}
	d.wantTunnel, d.tunnAfter, d.holdAfter = false, false, false
	d.h.OnMessageEnd()
}

// chunkLine parses a chunk-size line byte by byte: 1*HEXDIG [BWS] [;ext...]
// CRLF. Chunk extensions are skipped. A bare LF is an error (RFC 9112
// erratum 7633: chunked framing requires CRLF).
func (d *Decoder) chunkLine(b []byte) (int, error) {
	for i := 0; i < len(b); i++ {
		c := b[i]
		d.clineLen++
		if d.clineLen > d.lim.MaxChunkLineSize {
			return 0, d.fail(400, "chunk size line too long")
		}
		switch d.cst {
		case csStart:
			v := unhex[c]
			if v == 0xff {
				return 0, d.fail(400, "invalid chunk size")
			}
			d.csize, d.cdigits, d.cst = uint64(v), 1, csDigits
		case csDigits:
			if v := unhex[c]; v != 0xff {
				d.cdigits++
				if d.cdigits > 16 {
					return 0, d.fail(400, "chunk size too large")
				}
				d.csize = d.csize<<4 | uint64(v)
				continue
			}
			switch c {
			case '\r':
				d.cst = csLF
			case ';':
				d.cst = csExt
			case ' ', '\t':
				d.cst = csWS
			default:
				return 0, d.fail(400, "invalid chunk size")
			}
		case csWS:
			switch c {
			case ' ', '\t':
			case ';':
				d.cst = csExt
			case '\r':
				d.cst = csLF
			default:
				return 0, d.fail(400, "invalid chunk size")
			}
		case csExt:
			if c == '\r' {
				d.cst = csLF
			} else if !isValueChar[c] {
				return 0, d.fail(400, "invalid chunk extension")
			}
		case csLF:
			if c != '\n' {
				return 0, d.fail(400, "bare CR in chunk size line")
			}
			if d.csize > math.MaxInt64 {
				return 0, d.fail(400, "chunk size too large")
			}
			if d.csize == 0 {
				d.st = stTrailer
				d.tst, d.tlineLen, d.tsize, d.tcount = tsLineStart, 0, 0, 0
				return i + 1, nil
			}
			size := int64(d.csize)
			if max := d.lim.MaxBodySize; max > 0 && (size > max || d.total > max-size) {
				return 0, d.fail(413, "body too large")
			}
			d.total += size
			d.remain = size
			d.st = stChunkData
			return i + 1, nil
		}
	}
	return len(b), nil
}

// trailer parses (and drops) the trailer section byte by byte, with the
// same field syntax rules as the head but CRLF line endings only.
func (d *Decoder) trailer(b []byte) (int, error) {
	for i := 0; i < len(b); i++ {
		c := b[i]
		d.tsize++
		if d.tsize > d.lim.MaxHeaderSize {
			return 0, d.fail(431, "trailer section too large")
		}
		d.tlineLen++
		if d.tlineLen > d.lim.MaxLineSize {
			return 0, d.fail(431, "trailer line too long")
		}
		switch d.tst {
		case tsLineStart:
			switch {
			case c == '\r':
				d.tst = tsEndLF
			case isTchar[c]:
				d.tcount++
				if d.tcount > d.lim.MaxHeaderCount {
					return 0, d.fail(431, "too many trailer fields")
				}
				d.tst = tsName
			case c == ' ' || c == '\t':
				return 0, d.fail(400, "obsolete line folding in trailer")
			default:
				return 0, d.fail(400, "invalid trailer line")
			}
		case tsName:
			switch {
			case isTchar[c]:
			case c == ':':
				d.tst = tsValue
			case c == ' ' || c == '\t':
				return 0, d.fail(400, "whitespace between trailer name and colon")
			default:
				return 0, d.fail(400, "invalid trailer line")
			}
		case tsValue:
			if c == '\r' {
				d.tst = tsCR
			} else if !isValueChar[c] {
				return 0, d.fail(400, "invalid character in trailer value")
			}
		case tsCR:
			if c != '\n' {
				return 0, d.fail(400, "bare CR in trailer")
			}
			d.tst, d.tlineLen = tsLineStart, 0
		case tsEndLF:
			if c != '\n' {
				return 0, d.fail(400, "bare CR in trailer")
			}
			d.endMessage()
			return i + 1, nil
		}
	}
	return len(b), nil
}
