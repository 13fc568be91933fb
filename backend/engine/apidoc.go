package engine

import (
	"encoding/json"
	"sort"
)

// ClassDoc describes a global class or namespace for --help-filters, the
// console's completion and its hover help. Whoever adds a class describes it
// next to the code with DescribeClass, so the description is never written
// twice.
type ClassDoc struct {
	Name      string      `json:"name"`      // e.g. "algo.URLRouter", "Message", "JSON"
	Signature string      `json:"signature"` // constructor or call form, e.g. "new algo.URLRouter(routes: {[pattern]: any})"
	Help      string      `json:"help"`
	Members   []MemberDoc `json:"members,omitempty"`
}

// MemberDoc is one method or property of a class.
type MemberDoc struct {
	Name      string `json:"name"`
	Signature string `json:"signature"` // e.g. "find(...parts: string[]): any"
	Help      string `json:"help"`
	Static    bool   `json:"static,omitempty"`
}

var classDocs = map[string]*ClassDoc{}

// DescribeClass records a class's description. Call from init functions.
func DescribeClass(d ClassDoc) {
	if _, dup := classDocs[d.Name]; dup {
		panic("engine: class described twice: " + d.Name)
	}
	classDocs[d.Name] = &d
}

// Classes returns every described class, sorted by name.
func Classes() []*ClassDoc {
	out := make([]*ClassDoc, 0, len(classDocs))
	for _, d := range classDocs {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// FilterDoc is a filter's entry in the API description.
type FilterDoc struct {
	Name      string `json:"name"`
	Signature string `json:"signature"`
	Help      string `json:"help"`
	Joint     bool   `json:"joint,omitempty"` // takes sub-pipeline names
}

// APIDescription is the machine-readable description of the scripting API:
// the pipy() configuration methods, every filter, and every class.
type APIDescription struct {
	Configuration []MemberDoc `json:"configuration"`
	Filters       []FilterDoc `json:"filters"`
	Classes       []*ClassDoc `json:"classes"`
}

// configurationDocs are the methods of the object pipy() returns that are
// not filters.
var configurationDocs = []MemberDoc{
	{Name: "export", Signature: "export(namespace: string, variables: object)", Help: "Declares context variables other modules can import from the namespace."},
	{Name: "import", Signature: "import(variables: {[name]: namespace})", Help: "Binds names to variables exported by other modules; reads and writes go to the exporter's variable in the current context."},
	{Name: "listen", Signature: "listen(port: number | 'ip:port', options?: {maxConnections, readTimeout, writeTimeout, idleTimeout})", Help: "Starts a pipeline for every connection accepted on the port (0.0.0.0 unless an address is given)."},
	{Name: "task", Signature: "task(interval?: string | number | 'SIGNAL')", Help: "Starts a pipeline once at start, every interval ('5s'), or on a signal ('SIGHUP' style)."},
	{Name: "read", Signature: "read(pathname: string)", Help: "Starts a pipeline once at start, fed with the contents of a file ('-' for standard input) as Data, then StreamEnd."},
	{Name: "pipeline", Signature: "pipeline(name: string)", Help: "Declares a named sub-pipeline that joint filters and use() refer to."},
}

// Describe builds the API description from the registries.
func Describe() *APIDescription {
	d := &APIDescription{Configuration: configurationDocs, Classes: Classes()}
	for _, k := range Filters() {
		d.Filters = append(d.Filters, FilterDoc{Name: k.Name, Signature: k.Signature, Help: k.Help, Joint: k.Joint})
	}
	return d
}

// DescribeJSON is Describe as JSON.
func DescribeJSON() []byte {
	b, _ := json.MarshalIndent(Describe(), "", "  ")
	return b
}
