package engine

import (
	"strings"

	"github.com/dop251/goja"

	"sluice/backend/http1"
)

// HeadValue gives scripts a protocol head: {method, path, protocol,
// headers} for requests, {protocol, status, statusText, headers} for
// responses. The object is a live view of the Go head, not a copy: reading
// msg.head.path costs a field read, and what a script changes lands in the
// head the encoders write, so a head no script touched is never converted
// and one a script did touch is never converted back. Header names are lower
// case; a repeated header reads as an array for set-cookie and as one
// comma-joined string otherwise.
func (w *Worker) HeadValue(h any) goja.Value {
	switch h := h.(type) {
	case nil:
		return goja.Undefined()
	case goja.Value:
		return h
	case *http1.RequestHead, *http1.ResponseHead:
		return w.headValueIn(h, &headView{}, nil, nil, nil)
	}
	return w.rt.ToValue(h)
}

func isHTTPHead(h any) bool {
	switch h.(type) {
	case *http1.RequestHead, *http1.ResponseHead:
		return true
	}
	return false
}

// headValueIn is HeadValue for an HTTP head, with the views' Go state in
// storage the caller provides (hsv may be nil). obj and hsvObj, when not
// nil, are script objects already made over hv and hsv, to be reused.
func (w *Worker) headValueIn(h any, hv *headView, hsv *headersView, obj, hsvObj *goja.Object) goja.Value {
	*hv = headView{w: w, spare: hsv, spareObj: hsvObj}
	switch h := h.(type) {
	case *http1.RequestHead:
		hv.req = h
	case *http1.ResponseHead:
		hv.resp = h
	}
	if obj != nil {
		return obj
	}
	return w.rt.NewDynamicObject(hv)
}

// goHead returns the Go head behind a head view, or nil.
func goHead(v any) any {
	o, ok := v.(*goja.Object)
	if !ok {
		return nil
	}
	if hv, ok := o.Export().(*headView); ok {
		if hv.req != nil {
			return hv.req
		}
		return hv.resp
	}
	return nil
}

// headView is the script's view of an HTTP head. Worker only.
type headView struct {
	w       *Worker
	req     *http1.RequestHead
	resp    *http1.ResponseHead
	headers *goja.Object
	extra   map[string]goja.Value // fields scripts add that HTTP has no place for
	spare   *headersView          // storage for the headers view, if preallocated
	// spareObj is a script object already made over spare, if lent.
	spareObj *goja.Object
}

func (v *headView) hs() *http1.Headers {
	if v.req != nil {
		return &v.req.Headers
	}
	return &v.resp.Headers
}

func (v *headView) Get(key string) goja.Value {
	rt := v.w.rt
	switch key {
	case "headers":
		if v.headers == nil {
			hsv := v.spare
			if hsv == nil {
				hsv = &headersView{}
			}
			*hsv = headersView{w: v.w, hs: v.hs()}
			if v.spareObj != nil { // made over v.spare, which hsv is
				v.headers = v.spareObj
			} else {
				v.headers = rt.NewDynamicObject(hsv)
			}
			v.spare, v.spareObj = nil, nil
		}
		return v.headers
	case "protocol":
		if v.req != nil {
			return v.w.stringValue(v.req.Protocol)
		}
		return v.w.stringValue(v.resp.Protocol)
	}
	if v.req != nil {
		switch key {
		case "method":
			return v.w.stringValue(v.req.Method)
		case "path":
			return v.w.stringValue(v.req.Path)
		}
	} else {
		switch key {
		case "status":
			return rt.ToValue(v.resp.Status)
		case "statusText":
			return v.w.stringValue(v.resp.StatusText)
		}
	}
	return v.extra[key]
}

func (v *headView) Set(key string, val goja.Value) bool {
	switch key {
	case "headers":
		*v.hs() = v.w.goHeaders(val)
		v.headers = nil
		return true
	case "protocol":
		if v.req != nil {
			v.req.Protocol = val.String()
		} else {
			v.resp.Protocol = val.String()
		}
		return true
	}
	if v.req != nil {
		switch key {
		case "method":
			v.req.Method = strings.ToUpper(val.String())
			return true
		case "path":
			v.req.Path = val.String()
			return true
		}
	} else {
		switch key {
		case "status":
			if n := int(val.ToInteger()); n >= 100 && n <= 999 {
				v.resp.Status = n
				v.resp.StatusText = ""
			}
			return true
		case "statusText":
			v.resp.StatusText = val.String()
			return true
		}
	}
	if v.extra == nil {
		v.extra = map[string]goja.Value{}
	}
	v.extra[key] = val
	return true
}

func (v *headView) Has(key string) bool { return v.Get(key) != nil }

func (v *headView) Delete(key string) bool {
	delete(v.extra, key)
	return true
}

func (v *headView) Keys() []string {
	keys := []string{"protocol", "method", "path", "headers"}
	if v.resp != nil {
		keys = []string{"protocol", "status", "statusText", "headers"}
	}
	for k := range v.extra {
		keys = append(keys, k)
	}
	return keys
}

// headersView is the script's view of a header list.
type headersView struct {
	w  *Worker
	hs *http1.Headers
}

func (v *headersView) Get(key string) goja.Value {
	name := strings.ToLower(key)
	var first string
	n := 0
	for _, h := range *v.hs {
		if len(h.Name) == len(name) && strings.EqualFold(h.Name, name) {
			if n == 0 {
				first = h.Value
			}
			n++
		}
	}
	switch {
	case n == 0:
		return nil
	case n == 1:
		return v.w.stringValue(first)
	case name == "set-cookie":
		vals := v.hs.Values(name)
		arr := make([]any, len(vals))
		for i, s := range vals {
			arr[i] = s
		}
		return v.w.rt.ToValue(arr)
	}
	return v.w.rt.ToValue(strings.Join(v.hs.Values(name), ", "))
}

func (v *headersView) Set(key string, val goja.Value) bool {
	name := strings.ToLower(key)
	if IsNullish(val) {
		v.hs.Del(name)
		return true
	}
	if arr, ok := val.(*goja.Object); ok && arr.ClassName() == "Array" {
		v.hs.Del(name)
		n := int(arr.Get("length").ToInteger())
		for i := range n {
			v.hs.Add(name, arr.Get(itoa(i)).String())
		}
		return true
	}
	v.hs.Set(name, val.String())
	return true
}

func (v *headersView) Has(key string) bool { return v.hs.Has(strings.ToLower(key)) }

func (v *headersView) Delete(key string) bool {
	v.hs.Del(strings.ToLower(key))
	return true
}

func (v *headersView) Keys() []string {
	keys := make([]string, 0, len(*v.hs))
	for _, h := range *v.hs {
		dup := false
		for _, k := range keys {
			if k == h.Name {
				dup = true
				break
			}
		}
		if !dup {
			keys = append(keys, h.Name)
		}
	}
	return keys
}

// RequestHead returns an HTTP request head for a message head, converting a
// script object when needed. Worker only.
func (w *Worker) RequestHead(h any) *http1.RequestHead {
	switch h := h.(type) {
	case *http1.RequestHead:
		return h
	case *goja.Object:
		if g, ok := goHead(h).(*http1.RequestHead); ok {
			return g
		}
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
		if g, ok := goHead(h).(*http1.ResponseHead); ok {
			return g
		}
		if g, ok := goHead(h).(*http1.RequestHead); ok {
			// A request head used as a response head: keep its headers.
			return &http1.ResponseHead{Protocol: "HTTP/1.1", Status: 200, Headers: g.Headers}
		}
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
