package algo

import (
	"errors"
	"strings"
)

// ErrInvalidURLPattern is matched (errors.Is) by every error URLRouter.Add
// returns. Pipy's own message is "invalid URL pattern".
var ErrInvalidURLPattern = errors.New("invalid URL pattern")

// URLPatternError describes a pattern rejected by URLRouter.Add.
type URLPatternError struct {
	Pattern string
	Reason  string
}

func (e *URLPatternError) Error() string {
	return "invalid URL pattern " + quote(e.Pattern) + ": " + e.Reason
}

// Is reports whether target is ErrInvalidURLPattern.
func (e *URLPatternError) Is(target error) bool { return target == ErrInvalidURLPattern }

func quote(s string) string { return "'" + s + "'" }

// URLRouter maps URL patterns to values with Pipy 0.30's search tree
// (algo.URLRouter). It is not safe for concurrent use.
//
// Patterns have the form "[domain]/path":
//
//   - "/path..."       matches any host;
//   - "a.b.c/path..."  matches host "a.b.c" exactly (labels compared
//     byte-for-byte, case-sensitively);
//   - "*.b.c/path..."  matches any single first label followed by ".b.c"
//     ("x.b.c" but neither "b.c" nor "x.y.b.c"); a "*" label anywhere
//     else is literal;
//   - a domain must not contain ':' (ports are not part of patterns).
//
// A path whose last segment is "*" is a prefix pattern: "/hi/*" matches
// "/hi", "/hi/", "/hi/there" and "/hi/a/b" (empty segments of the pattern
// are ignored). Any other path is exact: "/echo" matches only "/echo" (not
// "/echo/"), and a "*" inside it is literal. A "*" segment in the middle of
// a prefix pattern ("/a/*/b/*") is a Pipy quirk: the search only descends
// through it for a literal "*" URL segment; any other segment at that
// position ends the search at that inner node, which has no value, so
// "/a/x/b/c" finds nothing, not even a broader "/*" pattern.
//
// Precedence, as implemented by Pipy's find():
//
//  1. patterns for the exact host, then "*.rest" wildcard-host patterns,
//     then host-less "/..." patterns: a later class is consulted only when
//     the earlier one yields nothing, so a host-specific pattern wins over
//     a path-only one whenever it matches;
//  2. within a class, an exact path wins over any prefix pattern;
//  3. among prefix patterns the longest (deepest) one wins, with
//     backtracking to shorter ones.
//
// Insertion order never matters; adding the same pattern twice replaces
// the value.
type URLRouter[V any] struct {
	root *routerNode[V]
}

type routerNode[V any] struct {
	// A node's children are looked up by name: in the two parallel slices
	// while there are at most smallChildren of them (comparing a few short
	// names costs less than hashing one), in index once there are more.
	names    []string
	kids     []*routerNode[V]
	index    map[string]*routerNode[V]
	value    V
	hasValue bool
}

// smallChildren is how many children a node keeps in slices before it
// indexes them in a map.
const smallChildren = 8

func (n *routerNode[V]) child(name string) *routerNode[V] {
	if n.index != nil {
		return n.index[name]
	}
	for i, s := range n.names {
		if s == name {
			return n.kids[i]
		}
	}
	return nil
}

// childAt is child for a name that is part of the URL being looked up;
// neither form of the lookup copies it.
func (n *routerNode[V]) childAt(name []byte) *routerNode[V] {
	if n.index != nil {
		return n.index[string(name)]
	}
	for i, s := range n.names {
		if s == string(name) {
			return n.kids[i]
		}
	}
	return nil
}

func (n *routerNode[V]) newChild(name string) *routerNode[V] {
	if c := n.child(name); c != nil {
		return c
	}
	c := &routerNode[V]{}
	switch {
	case n.index != nil:
		n.index[name] = c
	case len(n.names) < smallChildren:
		n.names = append(n.names, name)
		n.kids = append(n.kids, c)
	default:
		n.index = make(map[string]*routerNode[V], len(n.names)+1)
		for i, s := range n.names {
			n.index[s] = n.kids[i]
		}
		n.index[name] = c
		n.names, n.kids = nil, nil
	}
	return c
}

// NewURLRouter returns an empty router.
func NewURLRouter[V any]() *URLRouter[V] {
	return &URLRouter[V]{root: &routerNode[V]{}}
}

// Add registers pattern with value v (see URLRouter for the syntax). It
// fails, leaving the router unchanged, when the pattern has no '/' or its
// domain part contains ':'.
func (r *URLRouter[V]) Add(pattern string, v V) error {
	slash := strings.IndexByte(pattern, '/')
	if slash < 0 {
		return &URLPatternError{pattern, "must start with '/' or 'domain/'"}
	}
	domain := pattern[:slash]
	if strings.IndexByte(domain, ':') >= 0 {
		return &URLPatternError{pattern, "a port is not allowed in the domain"}
	}
	n := r.root
	if domain != "" {
		for _, label := range strings.Split(domain, ".") {
			n = n.newChild(label)
		}
	}
	n = n.newChild("/")
	rest := pattern[slash+1:]
	if rest == "*" || strings.HasSuffix(rest, "/*") {
		for _, seg := range strings.Split(rest, "/") {
			if seg != "" {
				n = n.newChild(seg)
			}
		}
	} else {
		// Exact paths are stored whole, with their leading '/', so they
		// never collide with single segment names.
		n = n.newChild(pattern[slash:])
	}
	n.value = v
	n.hasValue = true
	return nil
}

// Find looks up the URL formed by joining parts, like Pipy's
// find(host, path). Parts are joined as Pipy's utils::path_join does: a
// leading empty part is skipped, and exactly one '/' separates the
// following parts (find("localhost:8000", "/hi") looks up
// "localhost:8000/hi"). The binding must drop null/undefined arguments
// before calling. The result is (zero, false) when nothing matches or the
// matching tree node carries no value.
//
// Find does not allocate for URLs up to 256 bytes.
func (r *URLRouter[V]) Find(parts ...string) (V, bool) {
	var buf [256]byte
	url := buf[:0]
	for _, s := range parts {
		url = appendPathJoin(url, s)
	}
	return r.find(url)
}

// FindURL looks up an already joined "host[:port]/path[?query]" URL.
func (r *URLRouter[V]) FindURL(url string) (V, bool) {
	var buf [256]byte
	return r.find(append(buf[:0], url...))
}

// appendPathJoin appends s to url following utils::path_join, except that
// an empty url is replaced by s.
func appendPathJoin(url []byte, s string) []byte {
	if len(url) == 0 {
		return append(url, s...)
	}
	baseSlash := url[len(url)-1] == '/'
	pathSlash := len(s) > 0 && s[0] == '/'
	switch {
	case baseSlash && pathSlash:
		return append(url, s[1:]...)
	case baseSlash || pathSlash:
		return append(url, s...)
	default:
		url = append(url, '/')
		return append(url, s...)
	}
}

// urlMatch holds the boundaries of the URL being looked up.
type urlMatch struct {
	url       []byte
	domainEnd int // end of the host (before any ":port")
	pathStart int // index of the first '/'
	pathEnd   int // index of '?' or len(url)
}

func (r *URLRouter[V]) find(url []byte) (V, bool) {
	var zero V
	pathStart := -1
	for i, c := range url {
		if c == '/' {
			pathStart = i
			break
		}
	}
	if pathStart < 0 {
		return zero, false
	}
	pathEnd := len(url)
	for i := pathStart; i < len(url); i++ {
		if url[i] == '?' {
			pathEnd = i
			break
		}
	}
	domainEnd := pathStart
	for i := pathStart - 1; i >= 0; i-- {
		if url[i] == ':' {
			domainEnd = i
			break
		}
	}
	m := urlMatch{url: url, domainEnd: domainEnd, pathStart: pathStart, pathEnd: pathEnd}

	n := findHost(r.root, &m, 0)
	if n == nil {
		// "*.rest" patterns: skip the first label of the host.
		i := 0
		for i < domainEnd && url[i] != '.' {
			i++
		}
		if i < domainEnd {
			if c := r.root.child("*"); c != nil {
				n = findHost(c, &m, i+1)
			}
		}
	}
	if n == nil {
		if c := r.root.child("/"); c != nil {
			n = findPathOrExact(c, &m)
		}
	}
	if n == nil || !n.hasValue {
		return zero, false
	}
	return n.value, true
}

// findHost matches the host labels from position p, then the path.
func findHost[V any](n *routerNode[V], m *urlMatch, p int) *routerNode[V] {
	url := m.url
	for {
		i := p
		for i < m.domainEnd && url[i] != '.' {
			i++
		}
		n = n.childAt(url[p:i])
		if n == nil {
			return nil
		}
		p = i + 1
		if p > m.domainEnd {
			break
		}
	}
	n = n.child("/")
	if n == nil {
		return nil
	}
	return findPathOrExact(n, m)
}

func findPathOrExact[V any](slash *routerNode[V], m *urlMatch) *routerNode[V] {
	if exact := slash.childAt(m.url[m.pathStart:m.pathEnd]); exact != nil {
		return exact
	}
	return findPath(slash, m, m.pathStart+1)
}

// findPath matches the path segment starting at p and the ones after it
// against prefix patterns, preferring deeper matches.
func findPath[V any](n *routerNode[V], m *urlMatch, p int) *routerNode[V] {
	url := m.url
	i := p
	for i < m.pathEnd && url[i] != '/' {
		i++
	}
	if c := n.childAt(url[p:i]); c != nil {
		if next := i + 1; next >= m.pathEnd {
			c = c.child("*")
		} else {
			c = findPath(c, m, next)
		}
		if c != nil {
			return c
		}
	}
	return n.child("*")
}
