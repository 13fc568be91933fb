package admin

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"sluice/backend/metrics"
	"sluice/backend/supervisor"
)

// metricsGet writes Prometheus text: the process's metrics (Config.Metrics,
// or without them the supervisor's counters under Pipy's names) and, as in
// Pipy, each worker's metrics with an instance="<name>" label. A family
// that cannot be merged is left out rather than failing the scrape.
func (s *Server) metricsGet(c echo.Context) error {
	var buf bytes.Buffer
	local := s.cfg.Metrics
	if local == nil {
		local = counterGatherer{s.cfg.Supervisor}
	}
	metrics.WriteGatherer(&buf, prometheus.Gatherers{local, instanceGatherer{s}})
	return c.Blob(http.StatusOK, string(expfmt.NewFormat(expfmt.TypeTextPlain))+"; charset=utf-8", buf.Bytes())
}

// counterGatherer is the supervisor's counters as metrics.
type counterGatherer struct{ sup *supervisor.Supervisor }

func (g counterGatherer) Gather() ([]*dto.MetricFamily, error) {
	cs := g.sup.Counters()
	var buf bytes.Buffer
	writeCounters(&buf, cs)
	return parseFamilies(buf.String())
}

func writeCounters(w io.Writer, cs supervisor.Counters) {
	fmt.Fprintf(w, "# HELP pipy_inbound_count Open accepted connections.\n# TYPE pipy_inbound_count gauge\npipy_inbound_count %d\n", cs.Connections)
	fmt.Fprintf(w, "# HELP pipy_pipeline_count Live pipelines per pipeline layout.\n# TYPE pipy_pipeline_count gauge\npipy_pipeline_count %d\n", cs.Pipelines)
}

func parseFamilies(text string) ([]*dto.MetricFamily, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	byName, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		return nil, err
	}
	out := make([]*dto.MetricFamily, 0, len(byName))
	for _, f := range byName {
		out = append(out, f)
	}
	return out, nil
}

// instanceGatherer is the metrics the workers sent, each labelled with its
// instance. The Go runtime's and the process's own families (go_*,
// process_*) are left to each worker.
type instanceGatherer struct{ s *Server }

func (g instanceGatherer) Gather() ([]*dto.MetricFamily, error) {
	list := g.s.instanceList()
	names := map[string]int{}
	for _, in := range list {
		names[in.status.Name]++
	}
	var out []*dto.MetricFamily
	var errs prometheus.MultiError
	for _, in := range list {
		if in.metrics == "" {
			continue
		}
		label := in.status.Name
		if label == "" || names[label] > 1 {
			label = strconv.Itoa(in.index)
		}
		fams, err := parseFamilies(in.metrics)
		if err != nil {
			errs = append(errs, fmt.Errorf("instance %s: %w", label, err))
			continue
		}
		for _, f := range fams {
			if strings.HasPrefix(f.GetName(), "go_") || strings.HasPrefix(f.GetName(), "process_") {
				continue
			}
			for _, m := range f.Metric {
				name, value := "instance", label
				m.Label = append(m.Label, &dto.LabelPair{Name: &name, Value: &value})
				sort.Slice(m.Label, func(i, j int) bool { return m.Label[i].GetName() < m.Label[j].GetName() })
			}
			out = append(out, f)
		}
	}
	return out, errs.MaybeUnwrap()
}
