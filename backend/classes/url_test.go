package classes_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func urlFields(u string) string {
	return "(u => [u.protocol, u.auth, u.username, u.password, u.host, u.hostname, u.port, u.origin, u.path, u.pathname, u.search, u.query, u.hash, u.href].join(' | '))(" + u + ")"
}

func TestURL(t *testing.T) {
	evalCases(t, []jsCase{
		{urlFields("new URL('http://user:pass@example.com:8080/a/b?x=1&y=2#frag')"),
			"http: | user:pass | user | pass | example.com:8080 | example.com | 8080 | http://example.com:8080 | /a/b?x=1&y=2 | /a/b | ?x=1&y=2 | x=1&y=2 | #frag | http://user:pass@example.com:8080/a/b?x=1&y=2#frag"},
		{urlFields("new URL('https://example.com')"),
			"https: |  |  |  | example.com | example.com | 443 | https://example.com | / | / |  |  |  | https://example.com/"},
		// A request path, as scripts parse msg.head.path.
		{urlFields("new URL('/hi?name=pipy')"),
			"http: |  |  |  |  |  | 80 | http:// | /hi?name=pipy | /hi | ?name=pipy | name=pipy |  | http:///hi?name=pipy"},
		// Tutorial 11's log URL.
		{"(u => u.host + ' ' + u.path)(new URL('http://127.0.0.1:8123/log'))", "127.0.0.1:8123 /log"},
		{urlFields("new URL('ws://[::1]:9000/chat')"),
			"ws: |  |  |  | [::1]:9000 | [::1] | 9000 | ws://[::1]:9000 | /chat | /chat |  |  |  | ws://[::1]:9000/chat"},
		{"new URL('wss://h/').port + new URL('ftp://h/').port + new URL('gopher://h').port + '|' + new URL('foo://h/').port", "4432170|"},
		{"new URL('http://h?q=1').path", "/?q=1"},
		// Relative to a base.
		{"new URL('c/d?q', 'http://h/a/b').href", "http://h/a/c/d?q"},
		{"new URL('/x', 'http://h:81/a').href", "http://h:81/x"},
		{"new URL('', 'https://h/a/b').href", "https://h/a/b"},
		{"new URL('http://other/y', 'http://h/a').href", "http://other/y"},
		{"String(new URL('http://h/p'))", "http://h/p"},
		{"(u => (u.host = 'evil', u.host))(new URL('http://h/p'))", "h"},
		{"JSON.stringify(Object.keys(new URL('http://h/')))", `["auth","hash","host","hostname","href","origin","password","path","pathname","port","protocol","query","search","searchParams","username"]`},
		// Search parameters.
		{"(p => [p.get('a'), p.getAll('a'), p.get('b'), p.get('c'), p.get('zz'), p.getAll('zz')])(new URL('http://h/?a=1&a=2&b=%20x%2B+y&c').searchParams)", `["1",["1","2"]," x++y","",null,[]]`},
		{"new URL('http://h/?a=1&a=2&b=%20x&c&d=%zz').searchParams.toObject()", `{"a":["1","2"],"b":" x","c":"","d":"%zz"}`},
		{"(u => u.searchParams === u.searchParams)(new URL('http://h/?a=1'))", "true"},
		{"new URLSearchParams({a: 1, b: ['x', 'y']}).toString()", "a=1&b=x&b=y"},
		{"(p => (p.set('a', null), p.set('c', 'd e/é'), p.toString()))(new URLSearchParams({a: 1, b: ['x', 'y']}))", "b=x&b=y&c=d%20e%2F%C3%A9"},
		{"(p => (p.set('b', ['z']), p.toObject()))(new URLSearchParams('?b=x'))", `{"b":["z"]}`},
		{"new URLSearchParams('?x=1&y').toObject()", `{"x":"1","y":""}`},
		{"new URLSearchParams().toString()", ""},
		// Errors.
		{"new URL(42)", "throw: TypeError: new URL: expects a string"},
		{"new URL('http://h:99999/')", `throw: bad port "99999"`},
		{"new URL('http://h:8o/')", `throw: bad port "8o"`},
		{"new URL('http://[::1/')", "throw: unclosed '['"},
		{"new URL('http://[zz]/')", "throw: bad IPv6 address"},
		{"new URL('http://a b/')", "throw: a space or control character"},
		{"new URL('http://a<b/')", "throw: bad character in the host name"},
		{"new URL('/p', 5)", "throw: base must be a string"},
		{"new URLSearchParams(5)", "throw: expects a string or an object"},
		{"new URLSearchParams('').get(5)", "throw: name must be a string"},
	}, nil)
}

func TestNetmask(t *testing.T) {
	const fields = `(m => [m.base, m.mask, m.bitmask, m.hostmask, m.broadcast, m.size, m.first, m.last].join(' '))`
	evalCases(t, []jsCase{
		{fields + "(new Netmask('192.168.1.0/24'))", "192.168.1.0 255.255.255.0 24 0.0.0.255 192.168.1.255 256 192.168.1.1 192.168.1.254"},
		{fields + "(new Netmask('10.1.2.3/8'))", "10.0.0.0 255.0.0.0 8 0.255.255.255 10.255.255.255 16777216 10.0.0.1 10.255.255.254"},
		{fields + "(new Netmask('10.1.2.3'))", "10.1.2.3 255.255.255.255 32 0.0.0.0 10.1.2.3 1 10.1.2.3 10.1.2.3"},
		{fields + "(new Netmask('0.0.0.0/0'))", "0.0.0.0 0.0.0.0 0 255.255.255.255 255.255.255.255 4294967296 0.0.0.1 255.255.255.254"},
		{fields + "(new Netmask('2001:db8::/126'))", "2001:db8:: ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffc 126 ::3 2001:db8::3 4 2001:db8::1 2001:db8::3"},
		{"(m => ['192.168.1.77', '192.168.2.1', '::ffff:192.168.1.5', 'nonsense', ''].map(a => m.contains(a)))(new Netmask('192.168.1.0/24'))", "[true,false,true,false,false]"},
		{"(m => [m.contains('2001:db8::2'), m.contains('2001:db8::4'), m.contains('10.0.0.1')])(new Netmask('2001:db8::/126'))", "[true,false,false]"},
		{"(m => [m.next(), m.next(), m.next(), m.next()])(new Netmask('10.0.0.5/30'))", `["10.0.0.5","10.0.0.6","",""]`},
		{"(m => [m.next(), m.next()])(new Netmask('10.0.0.5/32'))", `["",""]`},
		{"(m => [m.next(), m.next(), m.next(), m.next()])(new Netmask('fe80::/127'))", `["fe80::1","","",""]`},
		{"new Netmask('300.1.1.1/8')", `throw: TypeError: new Netmask: invalid CIDR notation "300.1.1.1/8"`},
		{"new Netmask('1.2.3.4/33')", "throw: invalid CIDR notation"},
		{"new Netmask('')", "throw: invalid CIDR notation"},
		{"new Netmask(5)", "throw: new Netmask: expects a string"},
		{"new Netmask('1.2.3.4/8').contains(5)", "throw: Netmask.contains: expects an address string"},
	}, nil)
}

func TestOS(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f.txt")
	t.Setenv("SLUICE_TEST_ENV", "yes")
	now := time.Now().Unix()
	q := func(s string) string { return "'" + strings.ReplaceAll(s, `\`, `\\`) + "'" }
	evalCases(t, []jsCase{
		{"os.writeFile(" + q(file) + ", 'hello')", "undefined"},
		{"os.readFile(" + q(file) + ").toString()", "hello"},
		{"(s => [s.size, s.isFile(), s.isDirectory(), s.isSymbolicLink(), s.mtime >= " + strconv.FormatInt(now-5, 10) + ", (s.mode & 0o170000) === 0o100000])(os.stat(" + q(file) + "))", "[5,true,false,false,true,true]"},
		{"os.writeFile(" + q(file+"2") + ", new Data([1, 2, 3]))", "undefined"},
		{"os.readFile(" + q(file+"2") + ").toArray()", "[1,2,3]"},
		{"os.stat(" + q(dir) + ").isDirectory()", "true"},
		{"os.stat(" + q(dir+"/missing") + ")", "null"},
		{"os.readFile(" + q(dir+"/missing") + ")", "null"},
		{"os.writeFile(" + q(dir+"/no/such/dir/f") + ", 'x')", "null"},
		{"os.env.SLUICE_TEST_ENV", "yes"},
		{"os.stat(" + q(file) + ") instanceof os.Stats", "true"},
		{"os.readFile(1)", "throw: TypeError: os.readFile: expects a file name"},
		{"os.writeFile('x', {})", "throw: os.writeFile: content must be a string or a Data"},
		{"new os.Stats()", "throw: made by os.stat() only"},
	}, nil)
	if b, err := os.ReadFile(file); err != nil || string(b) != "hello" {
		t.Fatalf("file written: %q %v", b, err)
	}
}
