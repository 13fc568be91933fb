// Package logging writes Sluice's log lines in Pipy's format:
//
//	2026-11-22 10:00:00.000 [INF] message
//
// Multi-line messages are split and every line gets the prefix. Lines go to
// the output (stderr by default) and to any subscribers (the console's log
// stream). All functions are safe for concurrent use.
package logging

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"
)

// Level orders log severities.
type Level int

const (
	Debug Level = iota
	Info
	Warn
	Error
)

var tags = [...]string{Debug: "[DBG]", Info: "[INF]", Warn: "[WRN]", Error: "[ERR]"}

// ParseLevel accepts debug, info, warn and error.
func ParseLevel(s string) (Level, error) {
	switch strings.ToLower(s) {
	case "debug":
		return Debug, nil
	case "info", "":
		return Info, nil
	case "warn", "warning":
		return Warn, nil
	case "error":
		return Error, nil
	}
	return Info, fmt.Errorf("unknown log level %q (want debug, info, warn or error)", s)
}

var (
	mu          sync.Mutex
	out         io.Writer = os.Stderr
	level                 = Info
	subscribers           = map[int]func(string){}
	nextSub     int
	now         = time.Now
)

// SetOutput sets where lines are written.
func SetOutput(w io.Writer) { mu.Lock(); out = w; mu.Unlock() }

// SetLevel sets the lowest level written.
func SetLevel(l Level) { mu.Lock(); level = l; mu.Unlock() }

// Enabled reports whether lines at l are written.
func Enabled(l Level) bool { mu.Lock(); defer mu.Unlock(); return l >= level }

// Subscribe calls fn with every formatted line (without the newline) until
// the returned cancel function is called. fn must not block or log.
func Subscribe(fn func(line string)) (cancel func()) {
	mu.Lock()
	id := nextSub
	nextSub++
	subscribers[id] = fn
	mu.Unlock()
	return func() { mu.Lock(); delete(subscribers, id); mu.Unlock() }
}

// Log writes msg at level l.
func Log(l Level, msg string) {
	mu.Lock()
	defer mu.Unlock()
	if l < level {
		return
	}
	prefix := now().Format("2006-01-02 15:04:05.000") + " " + tags[l] + " "
	var sb strings.Builder
	for line := range strings.SplitSeq(strings.TrimRight(msg, "\n"), "\n") {
		full := prefix + line
		sb.WriteString(full)
		sb.WriteByte('\n')
		for _, fn := range subscribers {
			fn(full)
		}
	}
	io.WriteString(out, sb.String())
}

func Debugf(format string, a ...any) {
	if Enabled(Debug) {
		Log(Debug, fmt.Sprintf(format, a...))
	}
}
func Infof(format string, a ...any)  { Log(Info, fmt.Sprintf(format, a...)) }
func Warnf(format string, a ...any)  { Log(Warn, fmt.Sprintf(format, a...)) }
func Errorf(format string, a ...any) { Log(Error, fmt.Sprintf(format, a...)) }

// Handler is a slog.Handler writing through this package, so libraries that
// log with slog share the format.
type Handler struct{ attrs []slog.Attr }

func (h *Handler) Enabled(_ context.Context, l slog.Level) bool { return Enabled(fromSlog(l)) }
func (h *Handler) Handle(_ context.Context, r slog.Record) error {
	var sb strings.Builder
	sb.WriteString(r.Message)
	add := func(a slog.Attr) bool {
		sb.WriteString(" ")
		sb.WriteString(a.Key)
		sb.WriteString("=")
		sb.WriteString(a.Value.String())
		return true
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(add)
	Log(fromSlog(r.Level), sb.String())
	return nil
}
func (h *Handler) WithAttrs(as []slog.Attr) slog.Handler {
	return &Handler{attrs: append(append([]slog.Attr{}, h.attrs...), as...)}
}
func (h *Handler) WithGroup(string) slog.Handler { return h }

func fromSlog(l slog.Level) Level {
	switch {
	case l < slog.LevelInfo:
		return Debug
	case l < slog.LevelWarn:
		return Info
	case l < slog.LevelError:
		return Warn
	}
	return Error
}
