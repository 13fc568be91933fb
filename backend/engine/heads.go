package engine

import (
	"strings"

	"github.com/dop251/goja"

	"sluice/backend/http1"
)

// HeadValue converts a protocol head to the object scripts see:
// {method, path, protocol, headers} for requests and
// {protocol, status, statusText, headers} for responses. Header names are
// lower case; a repeated header becomes an array for set-cookie and a
// comma-joined string otherwise.
func (w *Worker) HeadValue(h any) goja.Value {
	rt := w.rt
	switch h := h.(type) {
	case nil:
		return goja.Undefined()
	case goja.Value:
		return h
	case *http1.RequestHead:
		o := rt.NewObject()
		o.Set("protocol", h.Protocol)
		o.Set("method", h.Method)
		o.Set("path", h.Path)
		o.Set("headers", w.headersObject(h.Headers))
		return o
	case *http1.ResponseHead:
		o := rt.NewObject()
		o.Set("protocol", h.Protocol)
		o.Set("status", h.Status)
		o.Set("statusText", h.StatusText)
		o.Set("headers", w.headersObject(h.Headers))
		return o
	}
	return rt.ToValue(h)
}

func (w *Worker) headersObject(hs http1.Headers) *goja.Object {
	o := w.rt.NewObject()
	for i, h := range hs {
		if prev := o.Get(h.Name); prev != nil {
			if h.Name == "set-cookie" {
				if arr, ok := prev.Export().([]any); ok {
					o.Set(h.Name, append(arr, h.Value))
				} else {
					o.Set(h.Name, []any{prev.String(), h.Value})
				}
			} else {
				o.Set(h.Name, prev.String()+", "+h.Value)
			}
			continue
		}
		_ = i
		o.Set(h.Name, h.Value)
	}
	return o
}

// RequestHead returns an HTTP request head for a message head, converting a
// script object when needed. Worker only.
func (w *Worker) RequestHead(h any) *http1.RequestHead {
	switch h := h.(type) {
	case *http1.RequestHead:
		return h
	case *goja.Object:
		r := &http1.RequestHead{Method: "GET", Path: "/", Protocol: "HTTP/1.1"}
		if v := h.Get("method"); !IsNullish(v) {
			r.Method = strings.ToUpper(v.String())
		}
		if v := h.Get("path"); !IsNullish(v) {
			r.Path = v.String()
		}
		if v := h.Get("protocol"); !IsNullish(v) {
			r.Protocol = v.String()
		}
		r.Headers = w.goHeaders(h.Get("headers"))
		return r
	}
	return &http1.RequestHead{Method: "GET", Path: "/", Protocol: "HTTP/1.1"}
}

// ResponseHead returns an HTTP response head for a message head. Worker only.
func (w *Worker) ResponseHead(h any) *http1.ResponseHead {
	switch h := h.(type) {
	case *http1.ResponseHead:
		return h
	case *goja.Object:
		r := &http1.ResponseHead{Protocol: "HTTP/1.1", Status: 200}
		if v := h.Get("status"); !IsNullish(v) {
			if n := int(v.ToInteger()); n >= 100 && n <= 999 {
				r.Status = n
			}
		}
		if v := h.Get("statusText"); !IsNullish(v) {
			r.StatusText = v.String()
		}
		if v := h.Get("protocol"); !IsNullish(v) {
			r.Protocol = v.String()
		}
		r.Headers = w.goHeaders(h.Get("headers"))
		return r
	}
	return &http1.ResponseHead{Protocol: "HTTP/1.1", Status: 200}
}

func (w *Worker) goHeaders(v goja.Value) http1.Headers {
	o, ok := v.(*goja.Object)
	if !ok {
		return nil
	}
	keys := o.Keys()
	hs := make(http1.Headers, 0, len(keys))
	for _, k := range keys {
		val := o.Get(k)
		if IsNullish(val) {
			continue
		}
		if arr, ok := val.(*goja.Object); ok && arr.ClassName() == "Array" {
			n := int(arr.Get("length").ToInteger())
			for i := range n {
				hs = append(hs, http1.Header{Name: k, Value: arr.Get(itoa(i)).String()})
			}
			continue
		}
		hs = append(hs, http1.Header{Name: k, Value: val.String()})
	}
	return hs
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return fmtInt(i)
}

func fmtInt(i int) string {
	var b [20]byte
	n := len(b)
	for i >= 10 {
		n--
		b[n] = byte('0' + i%10)
		i /= 10
	}
	n--
	b[n] = byte('0' + i)
	return string(b[n:])
}
