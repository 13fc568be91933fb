package classes

import (
	"bytes"
	"compress/gzip"
	"io"
	"path"
	"strings"

	"github.com/andybalholm/brotli"
	"github.com/dop251/goja"

	"sluice/backend/engine"
	"sluice/backend/event"
)

// http.File serves a file of the codebase as a response, as tutorial 16
// does: http.File.from(path) finds the file (or path/index.html) together
// with its precompressed .gz and .br variants, and toMessage(acceptEncoding)
// answers with the variant the client accepts (br first, then gzip), the
// plain file otherwise (decompressed from a variant if only those exist).

func init() {
	engine.RegisterGlobal(installHTTPFile)
	engine.DescribeClass(engine.ClassDoc{Name: "http.File", Signature: "new http.File(path: string)",
		Help: "A file of the codebase (or path/index.html), with its .gz and .br variants when they exist; throws when none exists.",
		Members: []engine.MemberDoc{
			{Name: "from", Signature: "http.File.from(path: string): http.File | null", Static: true,
				Help: "The file, or null when neither it nor path/index.html (nor their .gz or .br variants) exists."},
			{Name: "toMessage", Signature: "toMessage(acceptEncoding?: string): Message",
				Help: "A response with content-type by extension; with content-encoding br or gzip when acceptEncoding allows and the variant exists."},
		}})
}

var contentTypes = map[string]string{
	"html": "text/html", "htm": "text/html", "css": "text/css", "xml": "text/xml", "txt": "text/plain",
	"gif": "image/gif", "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "svg": "image/svg+xml",
	"webp": "image/webp", "ico": "image/x-icon", "woff": "font/woff", "woff2": "font/woff2",
	"js": "application/javascript", "mjs": "application/javascript", "json": "application/json",
	"wasm": "application/wasm", "pdf": "application/pdf",
}

type httpFile struct {
	engine.Props
	contentType string
	raw, gz, br []byte // nil when the variant does not exist
}

// loadHTTPFile finds a file and its variants with read; nil if none exists.
func loadHTTPFile(p string, read func(string) ([]byte, error)) *httpFile {
	get := func(name string) []byte {
		b, err := read(name)
		if err != nil {
			return nil
		}
		if b == nil {
			b = []byte{}
		}
		return b
	}
	f := &httpFile{}
	try := func(name string) bool {
		f.raw, f.gz, f.br = get(name), get(name+".gz"), get(name+".br")
		return f.raw != nil || f.gz != nil || f.br != nil
	}
	name := p
	if !try(name) {
		if !strings.HasSuffix(name, "/") {
			name += "/"
		}
		name += "index.html"
		if !try(name) {
			return nil
		}
	}
	ext := strings.ToLower(strings.TrimPrefix(path.Ext(path.Base(name)), "."))
	f.contentType = contentTypes[ext]
	if f.contentType == "" {
		f.contentType = "application/octet-stream"
	}
	return f
}

// accepts reports which encodings an accept-encoding value allows
// (a q of 0 refuses one).
func accepts(ae string) (gz, br bool) {
	for part := range strings.SplitSeq(ae, ",") {
		token, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if q, ok := strings.CutPrefix(strings.ReplaceAll(strings.TrimSpace(params), " ", ""), "q="); ok {
			if strings.Trim(q, "0.") == "" {
				continue
			}
		}
		switch strings.ToLower(strings.TrimSpace(token)) {
		case "gzip", "x-gzip":
			gz = true
		case "br":
			br = true
		case "*":
			gz, br = true, true
		}
	}
	return gz, br
}

// plain returns the file's bytes, decompressing a variant if need be.
func (f *httpFile) plain() []byte {
	if f.raw != nil {
		return f.raw
	}
	var r io.Reader
	if f.gz != nil {
		zr, err := gzip.NewReader(bytes.NewReader(f.gz))
		if err != nil {
			return nil
		}
		r = zr
	} else {
		r = brotli.NewReader(bytes.NewReader(f.br))
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return nil
	}
	f.raw = b
	return b
}

func installHTTPFile(w *engine.Worker, g *goja.Object) {
	rt := w.Runtime()
	throw := thrower(rt)
	ns, ok := g.Get("http").(*goja.Object)
	if !ok {
		ns = rt.NewObject()
		g.Set("http", ns)
	}
	read := func(p string) ([]byte, error) { return w.Program.ReadFile(p) }
	pathArg := func(method string, v goja.Value) string {
		if !isString(v) {
			throw("%s: expects a path string, got %s", method, v.String())
		}
		return v.String()
	}
	var pro *goja.Object
	pro = w.Class(ns, "File", func(call goja.ConstructorCall) *goja.Object {
		p := pathArg("new http.File", call.Argument(0))
		f := loadHTTPFile(p, read)
		if f == nil {
			throw("new http.File: file not found: %s", p)
		}
		return w.NewInstance(pro, f)
	})
	ns.Get("File").(*goja.Object).Set("from", func(call goja.FunctionCall) goja.Value {
		f := loadHTTPFile(pathArg("http.File.from", call.Argument(0)), read)
		if f == nil {
			return goja.Null()
		}
		return w.NewInstance(pro, f)
	})
	w.Method(pro, "toMessage", func(this *goja.Object, call goja.FunctionCall) goja.Value {
		f, ok := w.Impl(this).(*httpFile)
		if !ok {
			throw("not an http.File")
		}
		ae := ""
		if a := call.Argument(0); !engine.IsNullish(a) {
			if !isString(a) {
				throw("http.File.toMessage: acceptEncoding must be a string")
			}
			ae = a.String()
		}
		gz, br := accepts(ae)
		head := rt.NewObject()
		headers := rt.NewObject()
		head.Set("headers", headers)
		headers.Set("content-type", f.contentType)
		var body []byte
		switch {
		case br && f.br != nil:
			headers.Set("content-encoding", "br")
			body = f.br
		case gz && f.gz != nil:
			headers.Set("content-encoding", "gzip")
			body = f.gz
		default:
			if body = f.plain(); body == nil {
				head = rt.NewObject()
				head.Set("status", 400)
				return w.MessageObject(head, nil)
			}
		}
		return w.MessageObject(head, event.NewData(body))
	})
}
