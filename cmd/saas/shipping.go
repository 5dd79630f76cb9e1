package main

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sidelog/sidelog/ship"
	"github.com/sidelog/sidelog/sqlite"
)

// shipping is the OTLP shipper of the log database, when
// SIDELOG_OTLP_ENDPOINT is set (docs/shipping.md).
type shipping struct {
	shipper *ship.Shipper
	cancel  context.CancelFunc
	done    chan error
}

// shippingConfig reads the SIDELOG_OTLP_* variables; ok is false when
// shipping is off.
func shippingConfig(getenv func(string) string, environment string) (o ship.Options, keepMiB int64, ok bool, err error) {
	o, keepMiB, ok, err = ship.FromEnv(getenv)
	if err != nil || !ok {
		return o, 0, ok, err
	}
	o.ServiceName, o.Environment = "saas", environment
	if bi, found := debug.ReadBuildInfo(); found && bi.Main.Version != "" {
		o.ServiceVersion = bi.Main.Version
	}
	return o, keepMiB, true, nil
}

// startShipping starts shipping st in the background; with keepMiB set, the
// saved retention policy keeps unshipped records up to that size.
func startShipping(ctx context.Context, st *sqlite.DB, o ship.Options, keepMiB int64, log func() *slog.Logger) (*shipping, error) {
	if keepMiB > 0 {
		pol, err := st.Retention(ctx)
		if err != nil {
			return nil, err
		}
		pol.KeepUnshipped, pol.UnshippedMaxBytes = true, keepMiB<<20
		if err := st.SetRetention(ctx, pol); err != nil {
			return nil, err
		}
	}
	var lastLogged time.Time
	o.OnError = func(err error) {
		// One line a minute at most: an endpoint down for an hour must not
		// flood the log database it is behind on.
		if time.Since(lastLogged) >= time.Minute {
			lastLogged = time.Now()
			log().Warn("shipping logs failed; retrying", "error", err)
		}
	}
	sh, err := ship.New(st, o)
	if err != nil {
		return nil, fmt.Errorf("SIDELOG_OTLP_ENDPOINT: %w", err)
	}
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s := &shipping{shipper: sh, cancel: cancel, done: make(chan error, 1)}
	go func() { s.done <- sh.Run(sctx) }()
	return s, nil
}

// shipDescs describe the shipper's metrics, in the order of shipValues.
var shipDescs = []struct {
	desc *prometheus.Desc
	typ  prometheus.ValueType
}{
	{prometheus.NewDesc("sidelog_ship_records_total", "Records acknowledged by the OTLP endpoint.", nil, nil), prometheus.CounterValue},
	{prometheus.NewDesc("sidelog_ship_batches_total", "Export requests acknowledged by the OTLP endpoint.", nil, nil), prometheus.CounterValue},
	{prometheus.NewDesc("sidelog_ship_retries_total", "Export requests sent again after a failure.", nil, nil), prometheus.CounterValue},
	{prometheus.NewDesc("sidelog_ship_failures_total", "Export requests that failed (each is retried).", nil, nil), prometheus.CounterValue},
	{prometheus.NewDesc("sidelog_ship_lost_records_total", "Records retention removed before they were shipped.", nil, nil), prometheus.CounterValue},
	{prometheus.NewDesc("sidelog_ship_lag_records", "Records written but not yet acknowledged.", nil, nil), prometheus.GaugeValue},
	{prometheus.NewDesc("sidelog_ship_lag_seconds", "Age of the oldest record not yet acknowledged.", nil, nil), prometheus.GaugeValue},
}

func shipValues(st ship.Stats) []float64 {
	return []float64{float64(st.Shipped), float64(st.Batches), float64(st.Retried), float64(st.Failed),
		float64(st.Lost), float64(st.LagRecords), st.Lag.Seconds()}
}

// Describe and Collect make the shipper's counters a Prometheus collector
// on /metrics.
func (s *shipping) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range shipDescs {
		ch <- d.desc
	}
}

func (s *shipping) Collect(ch chan<- prometheus.Metric) {
	for i, v := range shipValues(s.shipper.Stats()) {
		ch <- prometheus.MustNewConstMetric(shipDescs[i].desc, shipDescs[i].typ, v)
	}
}

// stop ends shipping after the batch under way; what is left is shipped
// at the next start.
func (s *shipping) stop(ctx context.Context) error {
	s.cancel()
	err := <-s.done
	if cerr := s.shipper.Close(ctx); err == nil {
		err = cerr
	}
	return err
}
