package admin

import (
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"

	"sluice/backend/logging"
)

// DefaultLogLines is how many log lines the console keeps.
const DefaultLogLines = 2000

// LogBuffer keeps the last lines logged, counts every line ever logged, and
// hands new lines to subscribers.
//
// Threading: safe for concurrent use. Subscribers' functions run on the
// logging goroutine with the buffer locked: they must not block or log.
type LogBuffer struct {
	mu     sync.Mutex
	lines  []string // ring
	start  int      // index of the oldest line in lines
	total  int      // lines ever added
	subs   map[int]func(string)
	nextID int
	cancel func()
}

// NewLogBuffer returns a buffer of n lines.
func NewLogBuffer(n int) *LogBuffer {
	if n < 1 {
		n = 1
	}
	return &LogBuffer{lines: make([]string, 0, n), subs: map[int]func(string){}}
}

// Attach subscribes the buffer to the logging package.
func (b *LogBuffer) Attach() {
	cancel := logging.Subscribe(b.Add)
	b.mu.Lock()
	b.cancel = cancel
	b.mu.Unlock()
}

// Detach ends Attach.
func (b *LogBuffer) Detach() {
	b.mu.Lock()
	cancel := b.cancel
	b.cancel = nil
	b.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

// Add appends a line.
func (b *LogBuffer) Add(line string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.lines) < cap(b.lines) {
		b.lines = append(b.lines, line)
	} else {
		b.lines[b.start] = line
		b.start = (b.start + 1) % len(b.lines)
	}
	b.total++
	for _, fn := range b.subs {
		fn(line)
	}
}

// Tail returns the lines after the first seen ones (those still kept) and
// the number of lines ever logged. A count beyond it (from before a
// restart) gets every line kept.
func (b *LogBuffer) Tail(seen int) ([]string, int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.tailLocked(seen), b.total
}

func (b *LogBuffer) tailLocked(seen int) []string {
	if seen < 0 || seen > b.total {
		seen = 0
	}
	first := b.total - len(b.lines) // number of the oldest line kept
	if seen < first {
		seen = first
	}
	out := make([]string, 0, b.total-seen)
	for i := seen - first; i < len(b.lines); i++ {
		out = append(out, b.lines[(b.start+i)%len(b.lines)])
	}
	return out
}

// Subscribe returns the lines kept and calls fn with every later line until
// cancel is called; no line is missed or repeated in between.
func (b *LogBuffer) Subscribe(fn func(string)) (backlog []string, cancel func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	id := b.nextID
	b.nextID++
	b.subs[id] = fn
	return b.tailLocked(0), func() {
		b.mu.Lock()
		delete(b.subs, id)
		b.mu.Unlock()
	}
}

// logGet is Pipy's log polling: x-log-size in the request is the number of
// lines the client has; the reply's x-log-size is the number there are, and
// the body the lines in between, each ending with a newline.
func (s *Server) logGet(c echo.Context) error {
	seen, _ := strconv.Atoi(strings.TrimSpace(c.Request().Header.Get("x-log-size")))
	lines, total := s.log.Tail(seen)
	c.Response().Header().Set("x-log-size", strconv.Itoa(total))
	var sb strings.Builder
	for _, l := range lines {
		sb.WriteString(l)
		sb.WriteByte('\n')
	}
	return text(c, http.StatusOK, sb.String())
}
