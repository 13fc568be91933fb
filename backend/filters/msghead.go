package filters

import (
	"strings"

	"github.com/dop251/goja"

	"sluice/backend/engine"
	"sluice/backend/http1"
)

// Helpers for filters that look at or change the headers of a message head
// without caring whether it is still a protocol value (*http1.RequestHead,
// *http1.ResponseHead) or already a script object ({status, headers, ...}).
// Worker only.

// headHeader returns a header of the head (names compare case-insensitively).
func headHeader(h any, name string) (string, bool) {
	switch h := h.(type) {
	case *http1.RequestHead:
		return h.Headers.Get(name)
	case *http1.ResponseHead:
		return h.Headers.Get(name)
	case *goja.Object:
		hs, ok := h.Get("headers").(*goja.Object)
		if !ok {
			return "", false
		}
		for _, k := range hs.Keys() {
			if strings.EqualFold(k, name) {
				if v := hs.Get(k); !engine.IsNullish(v) {
					return v.String(), true
				}
			}
		}
	}
	return "", false
}

// headStatus returns the status of a response head, or 0.
func headStatus(h any) int {
	switch h := h.(type) {
	case *http1.ResponseHead:
		return h.Status
	case *goja.Object:
		if v := h.Get("status"); !engine.IsNullish(v) {
			return int(v.ToInteger())
		}
	}
	return 0
}

// headerChange sets a header to value, or removes it when value is "".
type headerChange struct{ name, value string }

// headWithHeaders returns a copy of h with the changes made: the original
// may be shared with other pipelines (fork), so it is never modified. A
// head that is neither an HTTP head nor an object is returned as it is.
func headWithHeaders(w *engine.Worker, h any, changes ...headerChange) any {
	apply := func(hs *http1.Headers) {
		for _, c := range changes {
			if c.value == "" {
				hs.Del(c.name)
			} else {
				hs.Set(c.name, c.value)
			}
		}
	}
	switch h := h.(type) {
	case *http1.RequestHead:
		c := *h
		c.Headers = append(http1.Headers(nil), h.Headers...)
		apply(&c.Headers)
		return &c
	case *http1.ResponseHead:
		c := *h
		c.Headers = append(http1.Headers(nil), h.Headers...)
		apply(&c.Headers)
		return &c
	case *goja.Object:
		rt := w.Runtime()
		o := rt.NewObject()
		for _, k := range h.Keys() {
			o.Set(k, h.Get(k))
		}
		hs := rt.NewObject()
		if old, ok := h.Get("headers").(*goja.Object); ok {
			for _, k := range old.Keys() {
				hs.Set(k, old.Get(k))
			}
		}
		for _, c := range changes {
			for _, k := range hs.Keys() {
				if strings.EqualFold(k, c.name) {
					hs.Delete(k)
				}
			}
			if c.value != "" {
				hs.Set(c.name, c.value)
			}
		}
		o.Set("headers", hs)
		return o
	}
	return h
}

// headProp reads a property of a script head; nil for anything else.
func headProp(h any, name string) goja.Value {
	if o, ok := h.(*goja.Object); ok {
		if v := o.Get(name); !engine.IsNullish(v) {
			return v
		}
	}
	return nil
}
