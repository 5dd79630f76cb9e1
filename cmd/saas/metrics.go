package main

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sidelog/sidelog/promsidelog"
)

// requestBuckets are the upper bounds of saas_http_request_duration_seconds:
// Prometheus's defaults, from 5 ms to 10 s.
var requestBuckets = prometheus.DefBuckets

// appMetrics is the application's Prometheus registry: the log pipeline
// and log database (package promsidelog), requests by status class,
// request duration by route, and the Go runtime and process.
type appMetrics struct {
	reg      *prometheus.Registry
	duration *prometheus.HistogramVec
}

// newMetrics builds the registry; requests reports the responses by status
// class (web.Server's Requests).
func newMetrics(lg *logging, requests func(class int) int64) *appMetrics {
	m := &appMetrics{reg: prometheus.NewRegistry()}
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "saas_http_request_duration_seconds",
		Help:    "Time to answer HTTP requests, by route pattern (\"unmatched\" for none).",
		Buckets: requestBuckets,
	}, []string{"route"})
	byClass := prometheus.NewDesc("saas_http_requests_total", "HTTP requests answered, by status class.", []string{"class"}, nil)
	m.reg.MustRegister(
		promsidelog.New(promsidelog.Options{Stats: lg.handler.Stats, DBSize: lg.store.Size}),
		m.duration,
		collectorFunc{desc: byClass, collect: func(ch chan<- prometheus.Metric) {
			for c := 1; c <= 5; c++ {
				ch <- prometheus.MustNewConstMetric(byClass, prometheus.CounterValue, float64(requests(c)), fmt.Sprintf("%dxx", c))
			}
		}},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	if lg.ship != nil {
		m.reg.MustRegister(lg.ship) // cmd/saas/shipping.go
	}
	return m
}

// collectorFunc is a collector of one described family.
type collectorFunc struct {
	desc    *prometheus.Desc
	collect func(chan<- prometheus.Metric)
}

func (c collectorFunc) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }
func (c collectorFunc) Collect(ch chan<- prometheus.Metric) { c.collect(ch) }

// instrument observes each request's duration under its route pattern
// (bounded: the patterns are the application's own).
func (m *appMetrics) instrument(route func(*http.Request) string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		defer func() {
			rt := route(r)
			if rt == "" {
				rt = "unmatched"
			}
			m.duration.WithLabelValues(rt).Observe(time.Since(start).Seconds())
		}()
		next.ServeHTTP(w, r)
	})
}

// handler serves the registry in the Prometheus exposition format; with a
// token, only to requests that carry it (Authorization: Bearer TOKEN, as
// Prometheus's authorization.credentials sends it).
func (m *appMetrics) handler(token string) http.Handler {
	h := promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
	if token == "" {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			http.Error(w, "metrics need Authorization: Bearer METRICS_TOKEN", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// onAppAddr returns the /metrics handler for the application's own
// address: only with METRICS_TOKEN, since that address is public.
func (m *appMetrics) onAppAddr(cfg config) http.Handler {
	if cfg.MetricsToken == "" {
		return nil
	}
	return m.handler(cfg.MetricsToken)
}

// listenMetrics binds METRICS_ADDR, the separate address for /metrics
// (nil when it is unset).
func listenMetrics(cfg config) (net.Listener, error) {
	if cfg.MetricsAddr == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", cfg.MetricsAddr)
	if err != nil {
		return nil, fmt.Errorf("listen for metrics (METRICS_ADDR): %w", err)
	}
	return ln, nil
}

// serve serves /metrics on ln (when not nil) and says where metrics are;
// the returned function shuts that server down.
func (m *appMetrics) serve(ln net.Listener, cfg config, appURL string, log *slog.Logger) (stop func(context.Context) error) {
	switch {
	case ln == nil && cfg.MetricsToken == "":
		log.Info("metrics off: set METRICS_ADDR (a private address) or METRICS_TOKEN (docs/saas.md)")
	case ln == nil:
		log.Info("metrics", "url", appURL+"/metrics", "auth", "Authorization: Bearer $METRICS_TOKEN")
	}
	if ln == nil {
		return func(context.Context) error { return nil }
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.handler(cfg.MetricsToken))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	url := "http://" + displayAddr(ln.Addr()) + "/metrics"
	if cfg.MetricsToken != "" {
		log.Info("metrics", "url", url, "auth", "Authorization: Bearer $METRICS_TOKEN")
	} else {
		log.Info("metrics", "url", url)
	}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server failed", "error", err)
		}
	}()
	return srv.Shutdown
}
