// Package http1 is a push-style HTTP/1.x codec: bytes in, callbacks out
// (Decoder), heads in, bytes out (the Append functions). It starts no
// goroutines and does no I/O; the caller feeds whatever it read, in pieces
// of any size, and the events are the same however the stream is split.
//
// # Decoding
//
// A Decoder calls Handler.OnMessageStart with a freshly allocated
// *RequestHead or *ResponseHead, OnData with body bytes (de-chunked; slices
// of the buffer given to Feed whenever possible, never copied per chunk),
// and OnMessageEnd. One decoded head costs two allocations: the string all
// its fields share (a private copy of the head bytes) and the head together
// with its header array. Header names are lower-cased; values have their
// surrounding whitespace removed.
//
// Decisions where RFC 9112 leaves a choice:
//
//   - Line endings: in the head (start line and header fields) a bare LF is
//     accepted as a line terminator, as RFC 9112 §2.2 permits and as
//     net/http and nginx do. A CR anywhere else in the head is an error.
//     Chunked framing (chunk-size lines, the CRLF after chunk data, the
//     trailer section) requires CRLF, as net/http does (RFC 9112 erratum
//     7633). Line lengths (Limits.MaxLineSize) count the bytes before the LF,
//     CR included.
//   - Empty lines before a request line are skipped (RFC 9112 §2.2), any
//     number of them; a response must start with its status line.
//   - Requests: Host is required in HTTP/1.1, CONNECT included, and may
//     appear once. The request-target must be visible ASCII or obs-text and
//     in origin-form ("/..."), absolute-form ("scheme:..."), "*", or, for
//     CONNECT, anything (authority-form); "%" before any "?" must start a
//     valid %XX escape (as in net/http). Versions other than HTTP/1.0 and
//     HTTP/1.1 get 505 when well formed (HTTP/d.d), 400 otherwise.
//   - Transfer-Encoding in a request: exactly one coding, "chunked" (any
//     case, across all transfer-encoding fields). chunked followed by another
//     coding (or repeated) is 400, any other coding 501. In an HTTP/1.0
//     message it is 400 (RFC 9112 §6.1: faulty framing). With Content-Length
//     also present it is 400 in requests and responses (smuggling).
//   - Content-Length: 1*DIGIT up to 2^63-1. Repeated fields, or a list
//     ("5, 5"), are accepted when all values are equal (RFC 9110 §8.6).
//   - Responses: the body rules of RFC 9112 §6.3. Bodiless: responses to
//     HEAD (see PushRequestMethod), 1xx, 204, 304. A final transfer coding
//     other than chunked means read until EOF; so does the absence of both
//     framing fields. A 1xx other than 101 (100 Continue, 103 Early Hints) is
//     delivered as a message of its own — OnMessageStart then OnMessageEnd,
//     no body — and does not consume a pushed request method; the final
//     response follows as the next message.
//   - Tunnels: after a 101 response, or a 2xx response to CONNECT, the
//     response decoder stops parsing HTTP and passes every later byte to
//     OnData (outside any message; Tunneled reports it). A request decoder
//     cannot know whether an upgrade will be accepted, so after a request
//     that asks for one (IsUpgrade) or a CONNECT it holds the bytes that
//     follow (up to MaxHeaderSize) until the caller calls StartTunnel (the
//     upgrade was accepted: held and later bytes go to OnData) or Resume
//     (refused: HTTP parsing continues with the held bytes). Both may be
//     called from inside the callbacks.
//   - Errors are *Error values carrying the status a server should answer:
//     400 for malformed input, 413 for a body over Limits.MaxBodySize, 414 for
//     a request line over MaxLineSize, 431 for a field line over MaxLineSize,
//     a head over MaxHeaderSize or more than MaxHeaderCount fields (trailers
//     included), 501 for an unsupported transfer coding, 505 for an
//     unsupported version. The response decoder classifies its errors the
//     same way; a proxy should answer 502 for them. EOF inside a message is
//     a 400 error. Of several limit violations, the one whose offending byte
//     comes first is reported, so errors too are independent of how the
//     input is split.
//
// # Encoding
//
// AppendRequestHead, AppendResponseHead(NoBody), AppendChunk and
// AppendLastChunk append to the caller's buffer and allocate nothing beyond
// its growth. The format is Pipy's: start line, the head's fields in order
// as given, then content-length (lower case) or transfer-encoding: chunked,
// then connection: keep-alive or connection: close, then an empty line.
// The encoder owns framing and persistence: content-length,
// transfer-encoding, connection and keep-alive fields in the head are not
// written. Choices:
//
//   - An upgrade field (in a request, or in a 101 response) is followed at
//     once by "connection: upgrade", which replaces the keep-alive/close line
//     (Pipy does this for websocket and h2c; we do it for any value). An
//     upgrade field in any other response is dropped: sending it without the
//     matching connection option would violate RFC 9110 §7.8.
//   - 1xx responses get no framing and no connection line (as in Pipy). 204
//     gets no framing and drops a content-length the head carries, but keeps
//     the connection line (Pipy omits it; we keep it so that "close" is
//     still signalled). 304 and AppendResponseHeadNoBody (responses to HEAD)
//     keep a content-length the head carries and write no other framing.
//   - A status code without a standard phrase and no StatusText gets an
//     empty reason phrase ("HTTP/1.1 299 \r\n"; Pipy writes "OK").
//   - Requests: a zero bodyLen writes no content-length for GET, HEAD,
//     DELETE, OPTIONS, TRACE and CONNECT (whose requests carry no content by
//     default), "content-length: 0" for other methods.
//   - Chunk sizes are lower-case hex.
//   - Injection: nothing from the caller can end a line. Fields whose name is
//     not a token are skipped; CTL bytes (CR, LF, NUL, ...; HTAB is kept) and
//     DEL in values and reason phrases are written as SP; such bytes and SP
//     in a request target are percent-encoded; non-token bytes in a method
//     are dropped; a Protocol other than "HTTP/1.0" is written "HTTP/1.1".
package http1
