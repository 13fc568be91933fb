package event

// ErrorCode says why a stream ended. Names match Pipy's StreamEnd errors.
type ErrorCode uint8

const (
	NoError ErrorCode = iota
	UnknownError
	RuntimeError
	ReadError
	WriteError
	CannotResolve
	ConnectionCanceled
	ConnectionReset
	ConnectionRefused
	ConnectionTimeout
	ReadTimeout
	WriteTimeout
	IdleTimeout
	Unauthorized
	BufferOverflow
	ProtocolError
)

var errorNames = [...]string{
	NoError:            "",
	UnknownError:       "UnknownError",
	RuntimeError:       "RuntimeError",
	ReadError:          "ReadError",
	WriteError:         "WriteError",
	CannotResolve:      "CannotResolve",
	ConnectionCanceled: "ConnectionCanceled",
	ConnectionReset:    "ConnectionReset",
	ConnectionRefused:  "ConnectionRefused",
	ConnectionTimeout:  "ConnectionTimeout",
	ReadTimeout:        "ReadTimeout",
	WriteTimeout:       "WriteTimeout",
	IdleTimeout:        "IdleTimeout",
	Unauthorized:       "Unauthorized",
	BufferOverflow:     "BufferOverflow",
	ProtocolError:      "ProtocolError",
}

func (c ErrorCode) String() string {
	if int(c) < len(errorNames) {
		return errorNames[c]
	}
	return "UnknownError"
}

// ParseErrorCode maps a name back to its code; unknown names give UnknownError.
func ParseErrorCode(name string) ErrorCode {
	if name == "" {
		return NoError
	}
	for i, n := range errorNames {
		if n == name {
			return ErrorCode(i)
		}
	}
	return UnknownError
}

// StreamEnd ends a stream, normally (Error == NoError) or with an error.
type StreamEnd struct {
	Error ErrorCode
}

func (*StreamEnd) Kind() Kind { return KindStreamEnd }

var streamEnds [len(errorNames)]StreamEnd

func init() {
	for i := range streamEnds {
		streamEnds[i].Error = ErrorCode(i)
	}
}

// NewStreamEnd returns the StreamEnd for code. StreamEnd values are immutable,
// so one per code is shared and the call does not allocate.
func NewStreamEnd(code ErrorCode) *StreamEnd {
	if int(code) >= len(streamEnds) {
		code = UnknownError
	}
	return &streamEnds[code]
}
