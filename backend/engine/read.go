package engine

import (
	"io"
	"os"

	"sluice/backend/event"
	"sluice/backend/logging"
)

// ReadSpec is a read() call: a root pipeline fed once, at start, with the
// contents of a file.
type ReadSpec struct {
	Path   string // as the script gave it; "-" is standard input
	Layout *Layout
}

// Title is the diagram title Pipy gives a read pipeline.
func (r *ReadSpec) Title() string { return "Read " + r.Path }

// readChunk is how much of the file goes into one Data event.
const readChunk = 16 << 10

// startRead runs r's pipeline on w: the file is read on its own goroutine
// and its bytes arrive as Data, then a StreamEnd (with ReadError when
// reading failed part way). A file that cannot be opened is logged and
// starts no pipeline, as in Pipy. The pipeline is released when its output
// ends. Worker only.
func (w *Worker) startRead(r *ReadSpec) {
	var f io.ReadCloser
	if r.Path == "-" {
		f = io.NopCloser(os.Stdin)
	} else {
		file, err := os.Open(r.Path)
		if err != nil {
			logging.Errorf("[read] cannot open %s: %v", r.Path, err)
			return
		}
		f = file
	}
	// done is worker-only: once the pipeline has ended (and gone back to
	// its pool) what the reader still posts must not reach it.
	done := false
	var p *Pipeline
	p = r.Layout.Instantiate(w.NewContext(nil), event.TargetFunc(func(e event.Event) {
		if _, ok := e.(*event.StreamEnd); ok && !done {
			done = true
			p.Release()
		}
	}))
	feed := func(e event.Event) {
		if !done {
			p.OnEvent(e)
		}
	}
	go func() {
		defer f.Close()
		for {
			b := make([]byte, readChunk)
			n, err := f.Read(b)
			if n > 0 {
				d := b[:n]
				w.Post(func() { feed(event.NewData(d)) })
			}
			if err != nil {
				code := event.NoError
				if err != io.EOF {
					logging.Errorf("[read] %s: %v", r.Path, err)
					code = event.ReadError
				}
				w.Post(func() { feed(event.NewStreamEnd(code)) })
				return
			}
		}
	}()
}
