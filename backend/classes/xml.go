package classes

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"

	"github.com/dop251/goja"

	"sluice/backend/engine"
	"sluice/backend/event"
)

// XML documents are trees of XML.Node: a document is a node with an empty
// name whose one child is the root element (XML.parse returns that, and
// XML.stringify writes the document's one child); children are nodes or
// strings (text). The text format follows Pipy: with an indent each element
// starts a line, an element with only text keeps it inline, text with <, >
// or & is written as CDATA.

func init() {
	engine.RegisterGlobal(installXML)
	engine.DescribeClass(engine.ClassDoc{Name: "XML", Signature: "XML",
		Help: "Parses and formats XML documents as trees of XML.Node.",
		Members: []engine.MemberDoc{
			{Name: "parse", Signature: "XML.parse(text: string): XML.Node", Static: true,
				Help: "Parses a document. The result is a document node (empty name) whose only child is the root element; throws a TypeError on malformed XML."},
			{Name: "decode", Signature: "XML.decode(data: Data): XML.Node", Static: true,
				Help: "XML.parse for the bytes of a Data."},
			{Name: "stringify", Signature: "XML.stringify(document: XML.Node, indent?: number): string", Static: true,
				Help: "Formats the document node's one child element (indent: spaces per level, 0 to 10; with it every element starts a line)."},
			{Name: "encode", Signature: "XML.encode(document: XML.Node, indent?: number): Data", Static: true,
				Help: "XML.stringify into a Data."},
		}})
	engine.DescribeClass(engine.ClassDoc{Name: "XML.Node", Signature: "new XML.Node(name: string, attributes?: {[name]: string}, children?: (XML.Node | string)[])",
		Help: "An element of an XML document; children are nodes or strings (text).",
		Members: []engine.MemberDoc{
			{Name: "name", Signature: "name: string", Help: "The tag name (with its prefix, if any)."},
			{Name: "attributes", Signature: "attributes: {[name]: string} | null", Help: "The attributes, or null when there are none."},
			{Name: "children", Signature: "children: (XML.Node | string)[] | null", Help: "The child nodes and texts, in order."},
		}})
}

// xmlNode is an XML.Node instance.
type xmlNode struct {
	readOnly
	name     string
	attrs    goja.Value // object or null
	children goja.Value // array or null
}

func newXMLNode(w *engine.Worker, proto *goja.Object, name string, attrs, children goja.Value) *goja.Object {
	n := &xmlNode{name: name, attrs: attrs, children: children}
	rt := w.Runtime()
	n.readOnly = readOnly{keys: []string{"name", "attributes", "children"}, get: func(k string) goja.Value {
		switch k {
		case "name":
			return rt.ToValue(n.name)
		case "attributes":
			return n.attrs
		}
		return n.children
	}}
	return w.NewInstance(proto, n)
}

func asXMLNode(v goja.Value) *xmlNode {
	if o, ok := v.(*goja.Object); ok {
		if n, ok := o.Export().(*xmlNode); ok {
			return n
		}
	}
	return nil
}

func installXML(w *engine.Worker, g *goja.Object) {
	rt := w.Runtime()
	throw := thrower(rt)
	ns := rt.NewObject()
	g.Set("XML", ns)
	var nodePro *goja.Object
	nodePro = w.Class(ns, "Node", func(call goja.ConstructorCall) *goja.Object {
		name, ok := call.Argument(0).Export().(string)
		if !ok {
			throw("new XML.Node: name must be a string, got %s", call.Argument(0).String())
		}
		attrs, children := call.Argument(1), call.Argument(2)
		if engine.IsNullish(attrs) {
			attrs = goja.Null()
		} else if _, ok := attrs.(*goja.Object); !ok {
			throw("new XML.Node: attributes must be an object")
		}
		if engine.IsNullish(children) {
			children = goja.Null()
		} else if o, ok := children.(*goja.Object); !ok || o.ClassName() != "Array" {
			throw("new XML.Node: children must be an array")
		}
		return newXMLNode(w, nodePro, name, attrs, children)
	})

	parse := func(method string, r io.Reader) goja.Value {
		doc, err := parseXML(w, nodePro, r)
		if err != nil {
			throw("%s: %v", method, err)
		}
		return doc
	}
	ns.Set("parse", func(call goja.FunctionCall) goja.Value {
		s, ok := call.Argument(0).Export().(string)
		if !ok {
			throw("XML.parse: expects a string")
		}
		return parse("XML.parse", strings.NewReader(s))
	})
	ns.Set("decode", func(call goja.FunctionCall) goja.Value {
		d, ok := engine.AsData(call.Argument(0))
		if !ok {
			throw("XML.decode: expects a Data")
		}
		return parse("XML.decode", bytes.NewReader(d.Bytes()))
	})
	format := func(method string, call goja.FunctionCall) []byte {
		doc := asXMLNode(call.Argument(0))
		if doc == nil {
			throw("%s: expects an XML.Node", method)
		}
		indent := 0
		if a := call.Argument(1); !engine.IsNullish(a) {
			indent = int(a.ToInteger())
		}
		b, err := encodeXML(doc, indent)
		if err != nil {
			throw("%s: %v", method, err)
		}
		return b
	}
	ns.Set("stringify", func(call goja.FunctionCall) goja.Value {
		return rt.ToValue(string(format("XML.stringify", call)))
	})
	ns.Set("encode", func(call goja.FunctionCall) goja.Value {
		return w.DataObject(event.NewData(format("XML.encode", call)))
	})
}

// ---- parsing ----

type xmlFrame struct {
	name     string
	attrs    goja.Value
	children []goja.Value
	text     strings.Builder // text not yet added to children
}

func (f *xmlFrame) flushText(rt *goja.Runtime) {
	if f.text.Len() > 0 {
		f.children = append(f.children, rt.ToValue(f.text.String()))
		f.text.Reset()
	}
}

func qualified(n xml.Name) string {
	if n.Space != "" {
		return n.Space + ":" + n.Local
	}
	return n.Local
}

// parseXML builds the document node: an empty name, attributes {} and
// children [root].
func parseXML(w *engine.Worker, nodePro *goja.Object, r io.Reader) (*goja.Object, error) {
	rt := w.Runtime()
	dec := xml.NewDecoder(r)
	dec.Strict = true
	dec.CharsetReader = charsetReader
	var stack []*xmlFrame
	var root goja.Value
	for {
		tok, err := dec.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, xmlError(dec, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) == 0 && root != nil {
				return nil, xmlErrorf(dec, "a second root element <%s>", qualified(t.Name))
			}
			f := &xmlFrame{name: qualified(t.Name), attrs: goja.Null()}
			if len(t.Attr) > 0 {
				o := rt.NewObject()
				for _, a := range t.Attr {
					o.Set(qualified(a.Name), a.Value)
				}
				f.attrs = o
			}
			if len(stack) > 0 {
				stack[len(stack)-1].flushText(rt)
			}
			stack = append(stack, f)
		case xml.EndElement:
			name := qualified(t.Name)
			if len(stack) == 0 {
				return nil, xmlErrorf(dec, "</%s> closes no element", name)
			}
			f := stack[len(stack)-1]
			if f.name != name {
				return nil, xmlErrorf(dec, "<%s> closed by </%s>", f.name, name)
			}
			f.flushText(rt)
			stack = stack[:len(stack)-1]
			node := newXMLNode(w, nodePro, f.name, f.attrs, rt.NewArray(toAny(f.children)...))
			if len(stack) == 0 {
				root = node
			} else {
				p := stack[len(stack)-1]
				p.children = append(p.children, node)
			}
		case xml.CharData:
			if len(stack) == 0 {
				if len(bytes.TrimFunc(t, unicode.IsSpace)) > 0 {
					return nil, xmlErrorf(dec, "text outside the root element")
				}
				continue
			}
			stack[len(stack)-1].text.Write(t)
		}
	}
	if len(stack) > 0 {
		return nil, xmlErrorf(dec, "unexpected end: <%s> is not closed", stack[len(stack)-1].name)
	}
	if root == nil {
		return nil, errors.New("no root element")
	}
	return newXMLNode(w, nodePro, "", rt.NewObject(), rt.NewArray(root)), nil
}

func toAny(vs []goja.Value) []any {
	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = v
	}
	return out
}

func xmlError(dec *xml.Decoder, err error) error {
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("invalid XML at line %d: %s", se.Line, se.Msg)
	}
	return fmt.Errorf("invalid XML: %v", err)
}

func xmlErrorf(dec *xml.Decoder, format string, a ...any) error {
	line, _ := dec.InputPos()
	return fmt.Errorf("invalid XML at line %d: %s", line, fmt.Sprintf(format, a...))
}

// charsetReader accepts the encodings expat knows besides UTF-8.
func charsetReader(label string, in io.Reader) (io.Reader, error) {
	switch strings.ToLower(label) {
	case "iso-8859-1", "latin1", "latin-1", "us-ascii", "ascii":
		b, err := io.ReadAll(in)
		if err != nil {
			return nil, err
		}
		var sb strings.Builder
		for _, c := range b {
			sb.WriteRune(rune(c))
		}
		return strings.NewReader(sb.String()), nil
	}
	return nil, fmt.Errorf("unsupported encoding %q", label)
}

// ---- formatting ----

// maxXMLDepth bounds formatting; a deeper tree is most likely a cycle.
const maxXMLDepth = 10000

var errXMLDepth = errors.New("the tree is nested too deep (does a node contain itself?)")

// encodeXML writes the document's one child element. A document that does
// not have exactly one element child gives nothing, as in Pipy.
func encodeXML(doc *xmlNode, indent int) ([]byte, error) {
	kids := arrayItems(doc.children)
	if len(kids) != 1 {
		return nil, nil
	}
	root := asXMLNode(kids[0])
	if root == nil {
		return nil, nil
	}
	indent = min(max(indent, 0), 10)
	var b bytes.Buffer
	if err := writeXMLNode(&b, root, indent, 0); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func arrayItems(v goja.Value) []goja.Value {
	o, ok := v.(*goja.Object)
	if !ok || o.ClassName() != "Array" {
		return nil
	}
	n := int(o.Get("length").ToInteger())
	out := make([]goja.Value, n)
	for i := range n {
		out[i] = o.Get(strconv.Itoa(i))
	}
	return out
}

func writeXMLNode(b *bytes.Buffer, n *xmlNode, indent, level int) error {
	if level > maxXMLDepth {
		return errXMLDepth
	}
	pad := strings.Repeat(" ", indent*level)
	b.WriteString(pad)
	b.WriteByte('<')
	b.WriteString(n.name)
	if attrs, ok := n.attrs.(*goja.Object); ok {
		for _, k := range attrs.Keys() {
			b.WriteByte(' ')
			b.WriteString(k)
			b.WriteString(`="`)
			xmlAttr(b, attrs.Get(k).String())
			b.WriteByte('"')
		}
	}
	kids := arrayItems(n.children)
	nl := func() {
		if indent > 0 {
			b.WriteByte('\n')
		}
	}
	switch {
	case len(kids) == 0:
		b.WriteString("/>")
		nl()
		return nil
	case len(kids) == 1 && asXMLNode(kids[0]) == nil:
		b.WriteByte('>')
		xmlText(b, kids[0].String())
	default:
		b.WriteByte('>')
		nl()
		for _, k := range kids {
			if c := asXMLNode(k); c != nil {
				if err := writeXMLNode(b, c, indent, level+1); err != nil {
					return err
				}
				continue
			}
			b.WriteString(pad)
			b.WriteString(strings.Repeat(" ", indent))
			xmlText(b, k.String())
			nl()
		}
		b.WriteString(pad)
	}
	b.WriteString("</")
	b.WriteString(n.name)
	b.WriteByte('>')
	nl()
	return nil
}

// xmlText writes text; with <, > or & in it, as CDATA sections (split so
// that no section contains "]]>").
func xmlText(b *bytes.Buffer, s string) {
	if !strings.ContainsAny(s, "<>&") {
		b.WriteString(s)
		return
	}
	for len(s) > 0 {
		i := strings.Index(s, "]]>")
		if i < 0 {
			i = len(s)
		} else {
			i += 2
		}
		b.WriteString("<![CDATA[")
		b.WriteString(s[:i])
		b.WriteString("]]>")
		s = s[i:]
	}
}

func xmlAttr(b *bytes.Buffer, s string) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '"':
			b.WriteString("&quot;")
		default:
			b.WriteByte(c)
		}
	}
}
