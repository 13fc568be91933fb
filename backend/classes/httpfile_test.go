package classes_test

import (
	"bytes"
	"compress/gzip"
	"testing"

	"github.com/andybalholm/brotli"
)

func gzipped(s string) string {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.String()
}

func brotlied(s string) string {
	var b bytes.Buffer
	w := brotli.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.String()
}

func TestHTTPFile(t *testing.T) {
	files := map[string]string{
		"www/index.html":      "<h1>hi</h1>",
		"www/app.js":          "console.log(1)",
		"www/app.js.gz":       gzipped("console.log(1)"),
		"www/app.js.br":       brotlied("console.log(1)"),
		"www/only.css.br":     brotlied("p{}"),
		"www/only.txt.gz":     gzipped("text"),
		"www/bad.json.gz":     "not gzip",
		"www/data.bin":        "\x00\x01",
		"www/docs/index.html": "docs",
		"www/empty.txt":       "",
	}
	const msg = `(m => JSON.stringify(m.head) + ' ' + (m.body ? m.body.size + ' ' + m.body.toString('hex').slice(0, 12) : 'null'))`
	hex := func(s string) string {
		const h = "0123456789abcdef"
		out := ""
		for i := 0; i < len(s) && i < 6; i++ {
			out += string(h[s[i]>>4]) + string(h[s[i]&15])
		}
		return out
	}
	itoa := func(n int) string { return string(rune('0'+n/10%10)) + string(rune('0'+n%10)) }
	gz, br := files["www/app.js.gz"], files["www/app.js.br"]
	evalCases(t, []jsCase{
		{"http.File.from('www/').toMessage().body.toString()", "<h1>hi</h1>"},
		{"http.File.from('www').toMessage().head", `{"headers":{"content-type":"text/html"}}`},
		{"http.File.from('/www/index.html').toMessage('gzip').head", `{"headers":{"content-type":"text/html"}}`},
		{"http.File.from('www/docs').toMessage().body.toString()", "docs"},
		{"http.File.from('www/app.js').toMessage().body.toString()", "console.log(1)"},
		{msg + "(http.File.from('www/app.js').toMessage('gzip, deflate'))",
			`{"headers":{"content-type":"application/javascript","content-encoding":"gzip"}} ` + itoa(len(gz)) + " " + hex(gz)},
		{msg + "(http.File.from('www/app.js').toMessage('gzip, br'))",
			`{"headers":{"content-type":"application/javascript","content-encoding":"br"}} ` + itoa(len(br)) + " " + hex(br)},
		{"http.File.from('www/app.js').toMessage('br;q=0, gzip;q=0.5').head.headers['content-encoding']", "gzip"},
		{"http.File.from('www/app.js').toMessage('gzip;q=0').head.headers['content-encoding']", "undefined"},
		{"http.File.from('www/app.js').toMessage('*').head.headers['content-encoding']", "br"},
		{"http.File.from('www/only.css').toMessage().body.toString()", "p{}"},
		{"http.File.from('www/only.css').toMessage().head.headers['content-type']", "text/css"},
		{"http.File.from('www/only.txt').toMessage('identity').body.toString()", "text"},
		{"http.File.from('www/bad.json').toMessage().head", `{"status":400}`},
		{"http.File.from('www/bad.json').toMessage('gzip').head.headers['content-encoding']", "gzip"},
		{"http.File.from('www/data.bin').toMessage().head.headers['content-type']", "application/octet-stream"},
		{"http.File.from('www/empty.txt').toMessage().body.size", "0"},
		{"http.File.from('www/missing')", "null"},
		{"http.File.from('../main.js')", "null"},
		{"http.File.from('www/') instanceof http.File", "true"},
		{"new http.File('www/app.js').toMessage().body.size", "14"},
		{"new http.File('www/missing')", "throw: TypeError: new http.File: file not found: www/missing"},
		{"http.File.from(5)", "throw: http.File.from: expects a path string"},
		{"http.File.from('www/').toMessage(5)", "throw: acceptEncoding must be a string"},
	}, files)
}
