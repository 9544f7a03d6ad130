// Package metrics holds the service's Prometheus collectors on a registry
// that run creates and passes down (server.Deps), never a package global:
// tests build as many servers as they like, each with its own registry.
// Served with pprof on the loopback DEBUG_ADDR listener (Debug).
package metrics

import (
	"net/http"
	"net/http/pprof"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"platform/internal/web"
)

// Metrics are the collectors the HTTP edge and the domains update.
type Metrics struct {
	reg *prometheus.Registry

	requests *prometheus.HistogramVec
	// observers caches requests' child per label set (requestLabels →
	// prometheus.Observer): WithLabelValues hashes and checks the three
	// strings on every call, a measurable share of a small request.
	// Bounded by routes × methods × statuses.
	observers sync.Map
	inFlight  prometheus.Gauge
	shed      *prometheus.CounterVec

	// StoreOps is the file store's operation latency (storage.Observed).
	StoreOps *prometheus.HistogramVec
	// BcryptWait is how long a hash or verification waited for a slot.
	BcryptWait prometheus.Histogram
	// ImportRows counts the rows of Excel group imports as they progress
	// (read, hashed) and by outcome (created, existing, skipped);
	// ImportsRunning is the imports in progress.
	ImportRows     *prometheus.CounterVec
	ImportsRunning prometheus.Gauge
}

// New registers the service's collectors, plus the Go runtime and process
// collectors, on reg.
func New(reg *prometheus.Registry) *Metrics {
	m := &Metrics{
		reg: reg,
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "platform_http_request_duration_seconds",
			Help:    "HTTP request duration by method, chi route pattern and status.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"method", "route", "status"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "platform_http_requests_in_flight",
			Help: "HTTP requests being served.",
		}),
		shed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "platform_http_unavailable_total",
			Help: "503 answers by reason (db_pool_wait, bcrypt_queue, db_down, store_down, other).",
		}, []string{"reason"}),
		StoreOps: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "platform_file_store_operation_duration_seconds",
			Help:    "File store operation latency by operation and result.",
			Buckets: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"op", "result"}),
		BcryptWait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "platform_bcrypt_wait_seconds",
			Help:    "Time a bcrypt hash or verification waited for a free slot.",
			Buckets: []float64{.001, .01, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}),
		ImportRows: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "platform_import_rows_total",
			Help: "Rows of Excel group imports: read, hashed (new users' passwords), then created, existing or skipped.",
		}, []string{"stage"}),
		ImportsRunning: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "platform_imports_in_progress",
			Help: "Excel group imports being processed.",
		}),
	}
	reg.MustRegister(m.requests, m.inFlight, m.shed, m.StoreOps, m.BcryptWait, m.ImportRows, m.ImportsRunning,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, reason := range []string{"db_pool_wait", "bcrypt_queue", "db_down", "store_down", "other"} {
		m.shed.WithLabelValues(reason) // present at 0, so rate() works from the first 503
	}
	for _, stage := range []string{"read", "hashed", "created", "existing", "skipped"} {
		m.ImportRows.WithLabelValues(stage)
	}
	return m
}

// Register adds further collectors (the pool's, the bcrypt queue's).
func (m *Metrics) Register(cs ...prometheus.Collector) { m.reg.MustRegister(cs...) }

// Middleware times every request under its chi route pattern (never the
// raw path, which would carry IINs and unbounded cardinality) and counts the
// 503s by the reason web.WriteError recorded. It goes inside web.Edge.
func (m *Metrics) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		m.inFlight.Inc()
		defer m.inFlight.Dec()
		next.ServeHTTP(w, r)
		status := web.ResponseStatus(r.Context())
		if status == 0 {
			status = http.StatusOK
		}
		m.observer(r.Method, web.Route(r), status).Observe(time.Since(start).Seconds())
		if status == http.StatusServiceUnavailable {
			reason := web.ShedReason(r.Context())
			if reason == "" {
				reason = "other"
			}
			m.shed.WithLabelValues(reason).Inc()
		}
	})
}

type requestLabels struct {
	method, route string
	status        int
}

func (m *Metrics) observer(method, route string, status int) prometheus.Observer {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
	default:
		method = "OTHER" // a client's invented method must not grow the label set
	}
	key := requestLabels{method, route, status}
	if o, ok := m.observers.Load(key); ok {
		return o.(prometheus.Observer)
	}
	o := m.requests.WithLabelValues(method, route, strconv.Itoa(status))
	m.observers.Store(key, o)
	return o
}

// Debug is the handler of the DEBUG_ADDR listener: /metrics from the
// registry and net/http/pprof under /debug/pprof/, registered by hand on
// this mux (importing pprof for its side effect would put it on
// http.DefaultServeMux).
func (m *Metrics) Debug() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg}))
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}
