package classes

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/dop251/goja"

	"sluice/backend/engine"
)

// URL parses the way Pipy does rather than as WHATWG does: a URL without a
// scheme is http:, port is the scheme's default when none is given, path is
// pathname plus search, query is search without '?', auth is what comes
// before '@'. A relative URL is resolved against base. Malformed ones (a bad
// port, an unclosed IPv6 bracket, spaces or control characters) throw.

func init() {
	engine.RegisterGlobal(installURL)
	engine.DescribeClass(engine.ClassDoc{Name: "URL", Signature: "new URL(url: string, base?: string)",
		Help: "A parsed URL (read-only). Without a scheme it is http:; port is the scheme's default when absent (80, 443, 21, 70). Throws a TypeError for a malformed URL.",
		Members: []engine.MemberDoc{
			{Name: "protocol", Signature: "protocol: string", Help: "The scheme with its colon, e.g. 'http:'."},
			{Name: "auth", Signature: "auth: string", Help: "'user:password', or ''."},
			{Name: "username", Signature: "username: string", Help: "The user name, or ''."},
			{Name: "password", Signature: "password: string", Help: "The password, or ''."},
			{Name: "host", Signature: "host: string", Help: "Host name and port as written, e.g. 'example.com:8080'."},
			{Name: "hostname", Signature: "hostname: string", Help: "The host name (an IPv6 address keeps its brackets)."},
			{Name: "port", Signature: "port: string", Help: "The port, or the scheme's default."},
			{Name: "origin", Signature: "origin: string", Help: "protocol + '//' + host."},
			{Name: "path", Signature: "path: string", Help: "pathname + search, as a request line has it."},
			{Name: "pathname", Signature: "pathname: string", Help: "The path without the query."},
			{Name: "search", Signature: "search: string", Help: "'?' and the query, or ''."},
			{Name: "query", Signature: "query: string", Help: "The query without '?'."},
			{Name: "searchParams", Signature: "searchParams: URLSearchParams", Help: "The query's parameters."},
			{Name: "hash", Signature: "hash: string", Help: "'#' and the fragment, or ''."},
			{Name: "href", Signature: "href: string", Help: "The whole URL."},
			{Name: "toString", Signature: "toString(): string", Help: "href."},
		}})
	engine.DescribeClass(engine.ClassDoc{Name: "URLSearchParams", Signature: "new URLSearchParams(search: string | {[name]: string | string[]})",
		Help: "Query parameters. A name given more than once holds an array of values.",
		Members: []engine.MemberDoc{
			{Name: "get", Signature: "get(name: string): string | null", Help: "The (first) value of a parameter, or null."},
			{Name: "getAll", Signature: "getAll(name: string): string[]", Help: "Every value of a parameter."},
			{Name: "set", Signature: "set(name: string, value: any)", Help: "Sets a parameter (an array sets several values); null or undefined removes it."},
			{Name: "toObject", Signature: "toObject(): {[name]: string | string[]}", Help: "The parameters as an object."},
			{Name: "toString", Signature: "toString(): string", Help: "The parameters percent-encoded, joined with '&'."},
		}})
}

// urlParts are the components of a parsed URL.
type urlParts struct {
	auth, hash, host, hostname, href, origin, password, path, pathname, port, protocol, query, search, username string
}

var defaultPorts = map[string]string{"ftp:": "21", "gopher:": "70", "http:": "80", "https:": "443", "ws:": "80", "wss:": "443"}

func findProtocol(u string) string {
	for i := 0; i < len(u); i++ {
		c := u[i]
		if c == ':' {
			if i > 0 {
				return u[:i+1]
			}
			return ""
		}
		if i == 0 {
			if !isAlpha(c) {
				return ""
			}
		} else if !isAlpha(c) && !isDigit(c) && c != '+' && c != '-' && c != '.' {
			return ""
		}
	}
	return ""
}

func isAlpha(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// findHost returns the '//host' part at the start of a path, if any.
func findHost(p string) string {
	if !strings.HasPrefix(p, "//") {
		return ""
	}
	i := strings.IndexFunc(p, func(r rune) bool { return r != '/' })
	if i < 0 {
		return ""
	}
	if j := strings.IndexAny(p[i:], "/?#"); j >= 0 {
		return p[:i+j]
	}
	return p
}

func trimHost(h string) string { return strings.TrimLeft(h, "/") }

func parseURL(raw, base string, hasBase bool) (*urlParts, error) {
	raw, base = strings.TrimSpace(raw), strings.TrimSpace(base)
	for _, s := range []string{raw, base} {
		if i := strings.IndexFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }); i >= 0 {
			return nil, fmt.Errorf("invalid URL %q: a space or control character at %d", s, i)
		}
	}
	protocol := findProtocol(raw)
	hostPath := raw[len(protocol):]
	host := findHost(hostPath)
	path := hostPath[len(host):]
	host = trimHost(host)
	if host == "" && hasBase {
		protocol = findProtocol(base)
		bp := base[len(protocol):]
		host = findHost(bp)
		bpath := bp[len(host):]
		switch {
		case path == "":
			path = bpath
		case path[0] != '/':
			if i := strings.LastIndexByte(bpath, '/'); i >= 0 {
				bpath = bpath[:i]
			}
			path = bpath + "/" + path
		}
		host = trimHost(host)
	}
	u := &urlParts{protocol: protocol}
	if i := strings.LastIndexByte(host, '@'); i >= 0 {
		u.auth, host = host[:i], host[i+1:]
		if j := strings.IndexByte(u.auth, ':'); j >= 0 {
			u.username, u.password = u.auth[:j], u.auth[j+1:]
		} else {
			u.username = u.auth
		}
	}
	if strings.HasPrefix(host, "[") {
		i := strings.IndexByte(host, ']')
		if i < 0 {
			return nil, fmt.Errorf("invalid URL %q: unclosed '[' in the host", raw)
		}
		if _, err := netip.ParseAddr(host[1:i]); err != nil {
			return nil, fmt.Errorf("invalid URL %q: bad IPv6 address %q", raw, host[1:i])
		}
		u.hostname = host[:i+1]
		switch rest := host[i+1:]; {
		case rest == "":
		case rest[0] == ':':
			u.port = rest[1:]
		default:
			return nil, fmt.Errorf("invalid URL %q: unexpected %q after the IPv6 address", raw, rest)
		}
	} else {
		if i := strings.IndexByte(host, ':'); i >= 0 {
			u.hostname, u.port = host[:i], host[i+1:]
		} else {
			u.hostname = host
		}
		if strings.ContainsAny(u.hostname, "<>\"{}|\\^`[]%") {
			return nil, fmt.Errorf("invalid URL %q: bad character in the host name %q", raw, u.hostname)
		}
	}
	if u.port != "" {
		n, err := strconv.Atoi(u.port)
		if err != nil || n < 0 || n > 65535 || !isDigit(u.port[0]) {
			return nil, fmt.Errorf("invalid URL %q: bad port %q", raw, u.port)
		}
	} else if strings.HasSuffix(host, ":") {
		host = strings.TrimSuffix(host, ":")
	}
	u.host = host
	if i := strings.IndexByte(path, '#'); i >= 0 {
		u.hash, path = path[i:], path[:i]
	}
	u.pathname = path
	if i := strings.IndexByte(path, '?'); i >= 0 {
		u.pathname, u.search, u.query = path[:i], path[i:], path[i+1:]
	}
	if u.protocol == "" {
		u.protocol = "http:"
	}
	if u.pathname == "" {
		u.pathname = "/"
	}
	u.path = u.pathname + u.search
	if u.port == "" {
		u.port = defaultPorts[strings.ToLower(u.protocol)]
	}
	u.origin = u.protocol + "//" + u.host
	u.href = u.protocol + "//"
	if u.auth != "" {
		u.href += u.auth + "@"
	}
	u.href += u.host + u.path + u.hash
	return u, nil
}

// ---- URLSearchParams ----

type searchParams struct {
	names  []string
	values map[string][]string
	arr    map[string]bool // reads back as an array (given more than once, or set from one)
}

func newSearchParams() *searchParams {
	return &searchParams{values: map[string][]string{}, arr: map[string]bool{}}
}

func parseSearch(s string) *searchParams {
	p := newSearchParams()
	s = strings.TrimPrefix(s, "?")
	for part := range strings.SplitSeq(s, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		p.append(decodeURIComponent(k), decodeURIComponent(v))
	}
	return p
}

func (p *searchParams) append(k, v string) {
	if vs, ok := p.values[k]; ok {
		p.values[k] = append(vs, v)
		p.arr[k] = true
		return
	}
	p.names = append(p.names, k)
	p.values[k] = []string{v}
}

func (p *searchParams) set(k string, vs []string, arr bool) {
	if _, ok := p.values[k]; !ok {
		p.names = append(p.names, k)
	}
	p.values[k] = vs
	p.arr[k] = arr
}

func (p *searchParams) del(k string) {
	if _, ok := p.values[k]; !ok {
		return
	}
	delete(p.values, k)
	delete(p.arr, k)
	for i, n := range p.names {
		if n == k {
			p.names = append(p.names[:i], p.names[i+1:]...)
			break
		}
	}
}

func (p *searchParams) String() string {
	var sb strings.Builder
	for _, k := range p.names {
		for _, v := range p.values[k] {
			if sb.Len() > 0 {
				sb.WriteByte('&')
			}
			sb.WriteString(encodeURIComponent(k))
			sb.WriteByte('=')
			sb.WriteString(encodeURIComponent(v))
		}
	}
	return sb.String()
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c|0x20 >= 'a' && c|0x20 <= 'f':
		return (c | 0x20) - 'a' + 10, true
	}
	return 0, false
}

// decodeURIComponent decodes %XX escapes ('+' stays '+', as in Pipy); a
// malformed escape is kept as it is.
func decodeURIComponent(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			h, ok1 := unhex(s[i+1])
			l, ok2 := unhex(s[i+2])
			if ok1 && ok2 {
				b = append(b, h<<4|l)
				i += 2
				continue
			}
		}
		b = append(b, s[i])
	}
	return string(b)
}

// encodeURIComponent escapes all but the unreserved characters.
func encodeURIComponent(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isAlpha(c) || isDigit(c) || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// ---- bindings ----

type jsURL struct {
	readOnly
	u      *urlParts
	params *goja.Object
}

type jsSearchParams struct {
	engine.Props
	p *searchParams
}

func installURL(w *engine.Worker, g *goja.Object) {
	rt := w.Runtime()
	throw := thrower(rt)

	spPro := w.Class(g, "URLSearchParams", func(call goja.ConstructorCall) *goja.Object {
		var p *searchParams
		switch a := call.Argument(0); {
		case engine.IsNullish(a):
			p = newSearchParams()
		case isString(a):
			p = parseSearch(a.String())
		default:
			o, ok := a.(*goja.Object)
			if !ok {
				throw("new URLSearchParams: expects a string or an object")
			}
			p = newSearchParams()
			for _, k := range o.Keys() {
				setParam(p, k, o.Get(k))
			}
		}
		return w.NewInstance(call.This.Prototype(), &jsSearchParams{p: p})
	})
	getSP := func(this *goja.Object) *searchParams {
		sp, ok := w.Impl(this).(*jsSearchParams)
		if !ok {
			throw("not a URLSearchParams")
		}
		return sp.p
	}
	name := func(method string, call goja.FunctionCall) string {
		a := call.Argument(0)
		if !isString(a) {
			throw("URLSearchParams.%s: name must be a string", method)
		}
		return a.String()
	}
	w.Method(spPro, "get", func(this *goja.Object, call goja.FunctionCall) goja.Value {
		if vs := getSP(this).values[name("get", call)]; len(vs) > 0 {
			return rt.ToValue(vs[0])
		}
		return goja.Null()
	})
	w.Method(spPro, "getAll", func(this *goja.Object, call goja.FunctionCall) goja.Value {
		vs := getSP(this).values[name("getAll", call)]
		out := make([]any, len(vs))
		for i, v := range vs {
			out[i] = v
		}
		return rt.NewArray(out...)
	})
	w.Method(spPro, "set", func(this *goja.Object, call goja.FunctionCall) goja.Value {
		setParam(getSP(this), name("set", call), call.Argument(1))
		return goja.Undefined()
	})
	w.Method(spPro, "toObject", func(this *goja.Object, call goja.FunctionCall) goja.Value {
		p := getSP(this)
		o := rt.NewObject()
		for _, k := range p.names {
			vs := p.values[k]
			if !p.arr[k] && len(vs) == 1 {
				o.Set(k, vs[0])
				continue
			}
			out := make([]any, len(vs))
			for i, v := range vs {
				out[i] = v
			}
			o.Set(k, rt.NewArray(out...))
		}
		return o
	})
	w.Method(spPro, "toString", func(this *goja.Object, call goja.FunctionCall) goja.Value {
		return rt.ToValue(getSP(this).String())
	})

	urlPro := w.Class(g, "URL", func(call goja.ConstructorCall) *goja.Object {
		a, b := call.Argument(0), call.Argument(1)
		if !isString(a) {
			throw("new URL: expects a string, got %s", a.String())
		}
		hasBase := !engine.IsNullish(b)
		if hasBase && !isString(b) {
			throw("new URL: base must be a string")
		}
		base := ""
		if hasBase {
			base = b.String()
		}
		u, err := parseURL(a.String(), base, hasBase)
		if err != nil {
			throw("new URL: %v", err)
		}
		j := &jsURL{u: u}
		j.readOnly = readOnly{
			keys: []string{"auth", "hash", "host", "hostname", "href", "origin", "password", "path", "pathname", "port", "protocol", "query", "search", "searchParams", "username"},
			get: func(k string) goja.Value {
				switch k {
				case "auth":
					return rt.ToValue(u.auth)
				case "hash":
					return rt.ToValue(u.hash)
				case "host":
					return rt.ToValue(u.host)
				case "hostname":
					return rt.ToValue(u.hostname)
				case "href":
					return rt.ToValue(u.href)
				case "origin":
					return rt.ToValue(u.origin)
				case "password":
					return rt.ToValue(u.password)
				case "path":
					return rt.ToValue(u.path)
				case "pathname":
					return rt.ToValue(u.pathname)
				case "port":
					return rt.ToValue(u.port)
				case "protocol":
					return rt.ToValue(u.protocol)
				case "query":
					return rt.ToValue(u.query)
				case "search":
					return rt.ToValue(u.search)
				case "username":
					return rt.ToValue(u.username)
				case "searchParams":
					if j.params == nil {
						j.params = w.NewInstance(spPro, &jsSearchParams{p: parseSearch(u.search)})
					}
					return j.params
				}
				return goja.Undefined()
			},
		}
		return w.NewInstance(call.This.Prototype(), j)
	})
	w.Method(urlPro, "toString", func(this *goja.Object, call goja.FunctionCall) goja.Value {
		j, ok := w.Impl(this).(*jsURL)
		if !ok {
			throw("not a URL")
		}
		return rt.ToValue(j.u.href)
	})
}

func setParam(p *searchParams, k string, v goja.Value) {
	if engine.IsNullish(v) {
		p.del(k)
		return
	}
	if o, ok := v.(*goja.Object); ok && o.ClassName() == "Array" {
		items := arrayItems(o)
		vs := make([]string, len(items))
		for i, e := range items {
			vs[i] = e.String()
		}
		p.set(k, vs, true)
		return
	}
	p.set(k, []string{v.String()}, false)
}

// isString reports a string primitive.
func isString(v goja.Value) bool {
	if _, isObj := v.(*goja.Object); isObj || v == nil {
		return false
	}
	_, ok := v.Export().(string)
	return ok
}
