// Counts the requests of every service by status, and measures how long
// they take, as metrics that a monitoring system such as Prometheus can
// scrape from /metrics.

// Metrics are made once per worker thread, but a name stands for one
// metric in the whole process: every thread adds to the same numbers.
const requests = new stats.Counter('tutorial_requests_total', ['service', 'status'])
const inFlight = new stats.Gauge('tutorial_requests_in_flight')
const duration = new stats.Histogram(
  'tutorial_request_duration_ms',
  [1, 5, 10, 50, 100, 500, 1000],
  ['service']
)

pipy({
  _start: 0,
})

.import({
  __service: 'router',
})

.pipeline('request')
  .handleMessageStart(
    () => (
      _start = Date.now(),
      inFlight.increase()
    )
  )

.pipeline('response')
  .handleMessageStart(
    msg => (
      inFlight.decrease(),
      requests.withLabels(__service || 'none', msg.head.status || 200).increase(),
      duration.withLabels(__service || 'none').observe(Date.now() - _start)
    )
  )
