package engine_test

import (
	"testing"

	"github.com/dop251/goja"
)

// The callbacks of one batch share goja's value stack, which goja drops
// whenever control leaves the runtime; the batch keeps it by running
// inside one script frame. That holds when batches that call nothing come
// between (a proxy's upstream responses, under light load): a batch of
// six callbacks allocates what a batch of one does.
func TestBatchCallbacksShareOneStack(t *testing.T) {
	p := loadOne(t, `pipy()`)
	w := p.Workers[0]
	var fn goja.Callable
	w.Exec(func() {
		v, err := w.Runtime().RunString(`(function (a) { var b = a + 1; return b * 2 })`)
		if err != nil {
			t.Fatal(err)
		}
		fn, _ = goja.AssertFunction(v)
	})
	ctx := w.NewContext(nil)
	arg := w.Runtime().ToValue(1)
	pair := func(calls int) float64 {
		return testing.AllocsPerRun(50, func() {
			w.Exec(func() {
				for range calls {
					if _, err := w.Call1(ctx, fn, arg); err != nil {
						t.Fatal(err)
					}
				}
			})
			w.Exec(func() {})
		})
	}
	one, six := pair(1), pair(6)
	if six > one {
		t.Fatalf("a batch of six callbacks allocates %v, a batch of one %v", six, one)
	}
}
