package classes_test

import "testing"

func TestHessian(t *testing.T) {
	const rt = `(v => JSON.stringify(Hessian.decode(Hessian.encode(v))))`
	const bytes = `(v => Hessian.encode(v).toArray())`
	evalCases(t, []jsCase{
		// Encoding, compact forms as Hessian's Java writer makes them.
		{bytes + "(0)", "[144]"},
		{bytes + "(-16)", "[128]"},
		{bytes + "(47)", "[191]"},
		{bytes + "(48)", "[200,48]"},
		{bytes + "(-2048)", "[192,0]"},
		{bytes + "(262143)", "[215,255,255]"},
		{bytes + "(1 << 30)", "[73,64,0,0,0]"},
		{bytes + "(2 ** 40)", "[76,0,0,1,0,0,0,0,0]"},
		{bytes + "(2.5)", "[68,64,4,0,0,0,0,0,0]"},
		{bytes + "(true)", "[84]"},
		{bytes + "(null)", "[78]"},
		{bytes + "(undefined)", "[78]"},
		{bytes + "('hi')", "[2,104,105]"},
		{bytes + "('é')", "[1,195,169]"},
		{bytes + "('😀')", "[2,237,160,189,237,184,128]"},
		{bytes + "(new Data('ab'))", "[34,97,98]"},
		{bytes + "({a: 1})", "[72,1,97,145,90]"},
		{bytes + "([1, [2]])", "[145,87,146,90]"},
		{"Hessian.encode('x'.repeat(40)).toArray().slice(0, 3)", "[48,40,120]"},
		{"Hessian.encode('x'.repeat(70000)).toArray().slice(0, 3)", "[82,255,255]"},
		// Round trips.
		{rt + "({a: 1, b: [1, 'x', null, true, 2.5], c: {d: -3000, e: 'é😀'}})", `{"a":1,"b":[1,"x",null,true,2.5],"c":{"d":-3000,"e":"é😀"}}`},
		{rt + "([1, 'two', 3.5])", `[1,"two",3.5]`},
		{rt + "(2 ** 40)", "1099511627776"},
		{rt + "(-(2 ** 31))", "-2147483648"},
		{"Hessian.decode(Hessian.encode('x'.repeat(70000))).length", "70000"},
		{"Hessian.decode(Hessian.encode('ab'.repeat(1000))) === 'ab'.repeat(1000)", "true"},
		{"(d => d instanceof Data && d.toString())(Hessian.decode(Hessian.encode(new Data('abc'))))", "abc"},
		{"Hessian.decode(Hessian.encode(new Data('z'.repeat(70000)))).size", "70000"},
		{"Hessian.decode(Hessian.encode(new Date(1650000000000))).getTime()", "1650000000000"},
		{"Hessian.decode(Hessian.encode([]))", "undefined"},
		// Decoding what Java writes.
		{"Hessian.decode(new Data([0x43, 0x05, 0x63, 0x6f, 0x6d, 0x2e, 0x41, 0x92, 0x04, 0x6e, 0x61, 0x6d, 0x65, 0x03, 0x61, 0x67, 0x65, 0x60, 0x03, 0x54, 0x6f, 0x6d, 0x9e]))", `{"name":"Tom","age":14}`},
		{"Hessian.decode(new Data([0x43, 0x01, 0x45, 0x91, 0x04, 0x6e, 0x61, 0x6d, 0x65, 0x60, 0x03, 0x4d, 0x41, 0x4e, 0x60, 0x02, 0x4f, 0x4b]))", `[{"name":"MAN"},{"name":"OK"}]`},
		{"Hessian.decode(new Data([0x72, 0x04, 0x5b, 0x69, 0x6e, 0x74, 0x91, 0x92]))", "[1,2]"},
		{"Hessian.decode(new Data([0x56, 0x04, 0x5b, 0x69, 0x6e, 0x74, 0x92, 0x91, 0x92, 0x72, 0x90, 0x93, 0x94]))", "[[1,2],[3,4]]"},
		{"Hessian.decode(new Data([0x55, 0x00, 0x91, 0x5a, 0x58, 0x91, 0x92, 0x7a, 0x93, 0x94]))", "[[1],[2],[3,4]]"},
		{"Hessian.decode(new Data([0x4d, 0x03, 0x4d, 0x61, 0x70, 0x91, 0x01, 0x61, 0x5a]))", `{"1":"a"}`},
		{"(o => o.self === o)(Hessian.decode(new Data([0x48, 0x04, 0x73, 0x65, 0x6c, 0x66, 0x51, 0x90, 0x5a])))", "true"},
		{"Hessian.decode(new Data([0x5b, 0x5c, 0x5d, 0xff, 0x5e, 0x01, 0x00, 0x5f, 0x00, 0x00, 0x09, 0xc4]))", "[0,1,-1,256,2.5]"},
		{"Hessian.decode(new Data([0xe0, 0xef, 0xf8, 0x01, 0x3c, 0x01, 0x00, 0x59, 0x00, 0x00, 0x00, 0x05]))", "[0,15,1,256,5]"},
		{"Hessian.decode(new Data([0x52, 0x00, 0x02, 0x61, 0x62, 0x01, 0x63]))", "abc"},
		{"Hessian.decode(new Data([0x02, 0xf0, 0x9f, 0x98, 0x80]))", "😀"},
		{"Hessian.decode(new Data([0x4b, 0x00, 0x00, 0x00, 0x01])).getTime()", "60000"},
		// Errors.
		{"Hessian.decode(new Data([0x49, 0x00]))", "throw: TypeError: Hessian.decode: unexpected end of data at byte 1"},
		{"Hessian.decode(new Data([0x91, 0x45]))", "throw: unknown code 0x45 at byte 1"},
		{"Hessian.decode(new Data([0x60]))", "throw: object of undefined class 0"},
		{"Hessian.decode(new Data([0x51, 0x95]))", "throw: reference 5 to nothing"},
		{"Hessian.decode(new Data([0x58, 0xd7, 0xff, 0xff]))", "throw: list length 262143 out of range"},
		{"Hessian.decode(new Data([0x02, 0xff, 0x41]))", "throw: bad UTF-8"},
		{"Hessian.decode(new Data(Array(2000).fill(0x57)))", "throw: nesting too deep"},
		{"Hessian.decode('x')", "throw: Hessian.decode: expects a Data"},
		{"(o => (o.o = o, Hessian.encode(o)))({})", "throw: Hessian.encode: nesting too deep"},
	}, nil)
}
