// Package algo is a pure-Go re-implementation of the algorithms behind
// Pipy 0.30's `algo` global (src/api/algo.cpp at tag 0.30.0-184):
//
//   - URLRouter              -> algo.URLRouter
//   - RoundRobinLoadBalancer -> algo.RoundRobinLoadBalancer
//   - LeastWorkLoadBalancer  -> algo.LeastWorkLoadBalancer
//   - HashingLoadBalancer    -> algo.HashingLoadBalancer
//   - Cache                  -> algo.Cache
//   - ResourcePool           -> algo.ResourcePool
//   - Percentile             -> algo.Percentile
//   - Hash / Hash53          -> algo.hash()
//
// The package knows nothing about JavaScript: stored values are generic and
// keys are comparable Go values (strings, numbers, or pointer-comparable
// objects such as *goja.Object). Converting JS arguments (dropping
// null/undefined arguments of URLRouter.find, truncating weights to
// integers, judging truthiness) is the job of the binding layer; the doc
// comment of each type says what Pipy does so the binding can do the same.
//
// Threading: nothing in this package is safe for concurrent use. As in
// Pipy, every JS worker owns its own instances; callbacks (alloc/free) are
// invoked synchronously on the caller's goroutine and may re-enter the
// same object.
package algo
