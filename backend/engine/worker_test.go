package engine

import (
	"sync"
	"sync/atomic"
	"testing"
)

// Tasks posted from many goroutines all run, one at a time, in the order
// each goroutine posted them.
func TestPostRunsEveryTaskSerially(t *testing.T) {
	w := newWorker(0, &Program{})
	const goroutines, each = 8, 2000
	var running, maxRunning atomic.Int32
	last := make([]int, goroutines)
	var wg sync.WaitGroup
	var bad atomic.Int32
	var total int // only touched by tasks: the race detector checks they never overlap
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 1; i <= each; i++ {
				w.Post(func() {
					if n := running.Add(1); n > maxRunning.Load() {
						maxRunning.Store(n)
					}
					if last[g] != i-1 {
						bad.Add(1)
					}
					last[g] = i
					total++
					running.Add(-1)
				})
			}
		}()
	}
	wg.Wait()
	var got int
	w.Do(func() { got = total })
	if got != goroutines*each {
		t.Fatalf("ran %d tasks, want %d", got, goroutines*each)
	}
	if bad.Load() != 0 {
		t.Fatalf("%d tasks ran out of their goroutine's order", bad.Load())
	}
	if maxRunning.Load() != 1 {
		t.Fatalf("up to %d tasks ran at once", maxRunning.Load())
	}
}

// A task posted from inside a task runs after it, not nested in it; deferred
// work runs once the queue has emptied.
func TestPostFromTaskAndDefer(t *testing.T) {
	w := newWorker(0, &Program{})
	var order []string
	w.Do(func() {
		w.Post(func() { order = append(order, "posted") })
		w.Defer(func() { order = append(order, "deferred") })
		order = append(order, "task")
	})
	w.Do(func() {})
	want := []string{"task", "posted", "deferred"}
	if len(order) != 3 || order[0] != want[0] || order[1] != want[1] || order[2] != want[2] {
		t.Fatalf("order %v, want %v", order, want)
	}
}

// A panicking task is logged and does not stop the worker.
func TestTaskPanicDoesNotStopWorker(t *testing.T) {
	w := newWorker(0, &Program{})
	w.Post(func() { panic("boom") })
	ran := false
	w.Do(func() { ran = true })
	if !ran {
		t.Fatal("worker stopped after a panic")
	}
}
