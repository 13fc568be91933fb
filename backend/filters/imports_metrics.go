package filters

// The stats global (stats.Counter, stats.Gauge, stats.Histogram).
import _ "sluice/backend/metrics/statsjs"
