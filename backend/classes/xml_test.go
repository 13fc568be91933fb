package classes_test

import "testing"

// The tree from Pipy's XML.Node page.
const orderTree = `new XML.Node('', null, [new XML.Node(
  'order', null,
  [
    new XML.Node(
      'sku', null,
      [
        new XML.Node('id', null, ['300688']),
        new XML.Node('title', null, ['Pipy: from Zero to Hero']),
        new XML.Node('category', null, ['Computer & Technology']),
      ]
    ),
    new XML.Node('amount', null, ['1']),
  ]
)])`

// The tree from Pipy's XML.Node constructor page.
const bookTree = `new XML.Node('', null, [new XML.Node(
  'book',
  { category: 'CHILDREN' },
  [
    new XML.Node('title', { lang: 'en' }, ['Harry Potter']),
    new XML.Node('author', null, ['J K. Rowling']),
    new XML.Node('year', null, ['2005']),
    new XML.Node('price', null, ['29.99']),
  ]
)])`

const orderXML = `<order>
  <sku>
    <id>300688</id>
    <title>Pipy: from Zero to Hero</title>
    <category>Computer &amp; Technology</category>
  </sku>
  <amount>1</amount>
</order>`

// A JSON body turned into XML, as tutorial 17 does: keys become
// elements, arrays repeat them, other values become text.
const obj2xml = `(() => {
  const nodes = obj => Object.keys(obj).flatMap(k => {
    const v = obj[k];
    const one = x => new XML.Node(k, null, x !== null && typeof x === 'object' ? nodes(x) : [x]);
    return Array.isArray(v) ? v.map(one) : [one(v)];
  });
  return data => XML.encode(new XML.Node('', null, [new XML.Node('root', null, nodes(JSON.decode(data)))]), 2).toString();
})()`

func TestXML(t *testing.T) {
	evalCases(t, []jsCase{
		// Tutorial 17's promise (docs/tutorial/17-body-transform.mdx).
		{obj2xml + `(new Data('{"msg": "Hi, there!"}'))`, "<root>\n  <msg>Hi, there!</msg>\n</root>\n"},
		{obj2xml + `(new Data('{"a": [1, 2], "b": {"c": true}}'))`, "<root>\n  <a>1</a>\n  <a>2</a>\n  <b>\n    <c>true</c>\n  </b>\n</root>\n"},
		// The reference pages' trees.
		{"XML.stringify(" + orderTree + ", 2)",
			"<order>\n  <sku>\n    <id>300688</id>\n    <title>Pipy: from Zero to Hero</title>\n    <category><![CDATA[Computer & Technology]]></category>\n  </sku>\n  <amount>1</amount>\n</order>\n"},
		{"XML.stringify(" + bookTree + ", 2)",
			"<book category=\"CHILDREN\">\n  <title lang=\"en\">Harry Potter</title>\n  <author>J K. Rowling</author>\n  <year>2005</year>\n  <price>29.99</price>\n</book>\n"},
		{"XML.stringify(" + bookTree + ")",
			`<book category="CHILDREN"><title lang="en">Harry Potter</title><author>J K. Rowling</author><year>2005</year><price>29.99</price></book>`},
		{"XML.parse(`" + orderXML + "`).children[0].children.filter(n => n instanceof XML.Node).map(n => n.name)", `["sku","amount"]`},
		{"XML.parse(`" + orderXML + "`).children[0].children[1].children[5].children", `["Computer & Technology"]`},
		// Mixed content, empty elements.
		{"XML.stringify(new XML.Node('', null, [new XML.Node('a', null, [new XML.Node('b'), 'text', new XML.Node('c', null, ['x'])])]))", "<a><b/>text<c>x</c></a>"},
		{"XML.stringify(new XML.Node('', null, [new XML.Node('a', null, [new XML.Node('b'), 'text', new XML.Node('c', null, ['x'])])]), 2)", "<a>\n  <b/>\n  text\n  <c>x</c>\n</a>\n"},
		{"XML.stringify(new XML.Node('', null, [new XML.Node('a', null, [])]), 4)", "<a/>\n"},
		{"XML.stringify(new XML.Node('', null, [new XML.Node('a', {q: 'x\"<&y'}, [1])]))", `<a q="x&quot;&lt;&amp;y">1</a>`},
		{"XML.stringify(new XML.Node('', null, [new XML.Node('a', null, ['a]]>b'])]))", "<a><![CDATA[a]]]]><![CDATA[>b]]></a>"},
		// Parsing.
		{`XML.parse('<a x="1"><b>hi</b><c/></a>')`, `{"name":"","attributes":{},"children":[{"name":"a","attributes":{"x":"1"},"children":[{"name":"b","attributes":null,"children":["hi"]},{"name":"c","attributes":null,"children":[]}]}]}`},
		{`XML.stringify(XML.parse('<a x="1"><b>hi</b><c/></a>'))`, `<a x="1"><b>hi</b><c/></a>`},
		{`XML.parse('<?xml version="1.0"?>\n<!-- c --><a>x &amp; y<![CDATA[<z>]]>&#65;</a>\n').children[0].children`, `["x & y<z>A"]`},
		{`XML.stringify(XML.parse('<a>x &amp; y</a>'))`, `<a><![CDATA[x & y]]></a>`},
		{`XML.parse('<ns:a xmlns:ns="urn:x" ns:k="v"/>').children[0]`, `{"name":"ns:a","attributes":{"xmlns:ns":"urn:x","ns:k":"v"},"children":[]}`},
		{`XML.decode(new Data('<?xml version="1.0" encoding="ISO-8859-1"?><a>caf').push(new Data([0xe9])).push('</a>')).children[0].children[0]`, "café"},
		{`XML.decode(new Data('<a>1</a>')).children[0].children[0]`, "1"},
		{`XML.encode(XML.decode(new Data('<a>1</a>'))).toString()`, "<a>1</a>"},
		{`XML.parse('<a/>').children[0] instanceof XML.Node`, "true"},
		{`(n => (n.name = 'x', n.children = null, n.name + n.children.length))(new XML.Node('a', null, []))`, "a0"},
		// Pipy writes nothing for a document without exactly one element.
		{`XML.stringify(new XML.Node('', null, [new XML.Node('a'), new XML.Node('b')]))`, ""},
		{`XML.stringify(new XML.Node('a'))`, ""},
		// Errors.
		{`XML.parse('<a><b></a>')`, "throw: TypeError: XML.parse: invalid XML at line 1"},
		{`XML.parse('<a>\n<b>\n</a>')`, "throw: invalid XML at line 3"},
		{`XML.parse('')`, "throw: no root element"},
		{`XML.parse('<a/><b/>')`, "throw: a second root element <b>"},
		{`XML.parse('<a>&nbsp;</a>')`, "throw: invalid XML"},
		{`XML.parse('junk<a/>')`, "throw: text outside the root element"},
		{`XML.parse('<a>')`, "throw: XML.parse: invalid XML"},
		{`XML.parse(42)`, "throw: XML.parse: expects a string"},
		{`XML.decode('<a/>')`, "throw: XML.decode: expects a Data"},
		{`XML.stringify({name: 'a'})`, "throw: XML.stringify: expects an XML.Node"},
		{`new XML.Node(1)`, "throw: new XML.Node: name must be a string"},
		{`new XML.Node('a', 'b')`, "throw: attributes must be an object"},
		{`new XML.Node('a', null, 'c')`, "throw: children must be an array"},
		{`(n => (n.children.push(n), XML.stringify(new XML.Node('', null, [n]))))(new XML.Node('a', null, []))`, "throw: nested too deep"},
	}, nil)
}
