package metrics

import (
	"io"
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/expfmt"
)

// Default is the process's set: script metrics and the built-in ones.
var Default = NewSet()

// registry gathers Default and the Go runtime's and the process's own
// metrics (go_*, process_*).
var registry = func() *prometheus.Registry {
	r := prometheus.NewRegistry()
	r.MustRegister(Default)
	r.MustRegister(collectors.NewGoCollector())
	r.MustRegister(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return r
}()

// Gatherer is the process's metrics, for whoever serves or pushes them.
func Gatherer() prometheus.Gatherer { return registry }

// Handler serves the process's metrics (GET /metrics), in the format the
// scraper asks for (Prometheus text by default). A metric that cannot be
// rendered is left out rather than failing the whole scrape.
func Handler() http.Handler {
	return promhttp.HandlerFor(registry, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// Write writes the process's metrics in the Prometheus text format. It
// returns the first error met, after writing everything it could.
func Write(w io.Writer) error {
	return WriteGatherer(w, registry)
}

// WriteGatherer writes what g gathers in the Prometheus text format.
func WriteGatherer(w io.Writer, g prometheus.Gatherer) error {
	families, gerr := g.Gather()
	enc := expfmt.NewEncoder(w, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, f := range families {
		if err := enc.Encode(f); err != nil {
			return err
		}
	}
	return gerr
}

// ReservedPrefix starts the names of the built-in metrics; scripts cannot
// create metrics with it (Pipy reserves the same prefix).
const ReservedPrefix = "pipy_"

// Reserved reports whether name is kept for built-in metrics.
func Reserved(name string) bool { return strings.HasPrefix(name, ReservedPrefix) }
