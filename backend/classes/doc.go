// Package classes holds the data classes scripts use besides the engine's
// own: XML, Hessian, URL, URLSearchParams, Netmask, os and http.File. Each
// file registers its class with engine.RegisterGlobal (so every worker's
// runtime has it) and describes it with engine.DescribeClass.
//
// Everything here runs on a worker: instances are goja dynamic objects
// backed by Go values owned by that worker, never shared between workers.
// Arguments of the wrong type, and input that cannot be parsed (XML, a URL,
// a CIDR, Hessian data), throw a TypeError naming the method.
package classes

import (
	"fmt"

	"github.com/dop251/goja"
)

// thrower returns a function that throws a TypeError in rt.
func thrower(rt *goja.Runtime) func(format string, a ...any) {
	return func(format string, a ...any) {
		panic(rt.NewTypeError(fmt.Sprintf(format, a...)))
	}
}

// readOnly is the DynamicObject part of instances whose members are all
// read-only properties computed by get; assignments are ignored, as they are
// for Pipy's accessors.
type readOnly struct {
	keys []string
	get  func(key string) goja.Value
}

func (r *readOnly) Get(key string) goja.Value {
	for _, k := range r.keys {
		if k == key {
			return r.get(key)
		}
	}
	return nil
}
func (r *readOnly) Set(string, goja.Value) bool { return false }
func (r *readOnly) Has(key string) bool {
	for _, k := range r.keys {
		if k == key {
			return true
		}
	}
	return false
}
func (r *readOnly) Delete(string) bool { return false }
func (r *readOnly) Keys() []string     { return r.keys }
