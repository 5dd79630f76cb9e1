// Package otelcol_test ships sidelog log databases to a real OpenTelemetry
// Collector, built from the Collector's own Go modules inside the test: the
// OTLP receiver (HTTP and gRPC), the batch processor and a counting sink.
package otelcol_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/provider/yamlprovider"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/otelcol"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor/batchprocessor"
	"go.opentelemetry.io/collector/receiver/otlpreceiver"
	"go.opentelemetry.io/collector/service/telemetry"
)

// sink is an exporter that keeps every log record the Collector passes
// it; one sink outlives the Collector's restarts.
type sink struct {
	component.StartFunc
	component.ShutdownFunc
	*consumertest.LogsSink
}

// collector runs an OpenTelemetry Collector in the test process:
// otlp (HTTP and gRPC) → batch → sink.
type collector struct {
	t        *testing.T
	httpAddr string
	grpcAddr string
	sink     *consumertest.LogsSink
	mu       sync.Mutex
	col      *otelcol.Collector
	done     chan error
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func newCollector(t *testing.T) *collector {
	c := &collector{t: t, httpAddr: freeAddr(t), grpcAddr: freeAddr(t), sink: new(consumertest.LogsSink)}
	t.Cleanup(c.stop)
	return c
}

func (c *collector) factories() (otelcol.Factories, error) {
	sinkFactory := exporter.NewFactory(component.MustNewType("sink"), func() component.Config { return &struct{}{} },
		exporter.WithLogs(func(context.Context, exporter.Settings, component.Config) (exporter.Logs, error) {
			return sink{LogsSink: c.sink}, nil
		}, component.StabilityLevelDevelopment))
	var f otelcol.Factories
	var errs [3]error
	f.Receivers, errs[0] = otelcol.MakeFactoryMap(otlpreceiver.NewFactory())
	f.Processors, errs[1] = otelcol.MakeFactoryMap(batchprocessor.NewFactory())
	f.Exporters, errs[2] = otelcol.MakeFactoryMap(sinkFactory)
	f.Telemetry = telemetry.NewFactory(func() component.Config { return &struct{}{} })
	return f, errors.Join(errs[:]...)
}

func (c *collector) config() string {
	return fmt.Sprintf(`
receivers:
  otlp:
    protocols:
      http: {endpoint: "%s"}
      grpc: {endpoint: "%s"}
processors:
  batch: {timeout: 100ms}
exporters:
  sink: {}
service:
  pipelines:
    logs: {receivers: [otlp], processors: [batch], exporters: [sink]}
`, c.httpAddr, c.grpcAddr)
}

// start runs a new Collector on the same ports and waits until it listens.
func (c *collector) start() {
	c.t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	col, err := otelcol.NewCollector(otelcol.CollectorSettings{
		BuildInfo:               component.BuildInfo{Command: "otelcol-test", Version: "test"},
		Factories:               c.factories,
		DisableGracefulShutdown: true,
		SkipSettingGRPCLogger:   true,
		ConfigProviderSettings: otelcol.ConfigProviderSettings{ResolverSettings: confmap.ResolverSettings{
			URIs: []string{"yaml:" + c.config()}, ProviderFactories: []confmap.ProviderFactory{yamlprovider.NewFactory()},
		}},
	})
	if err != nil {
		c.t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- col.Run(context.Background()) }()
	deadline := time.Now().Add(30 * time.Second)
	for col.GetState() != otelcol.StateRunning {
		select {
		case err := <-done:
			c.t.Fatalf("collector stopped while starting: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			c.t.Fatal("collector did not start in 30s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	c.col, c.done = col, done
}

// stop shuts the running Collector down (its batch processor flushes into
// the sink) and waits for it.
func (c *collector) stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.col == nil {
		return
	}
	c.col.Shutdown()
	if err := <-c.done; err != nil {
		c.t.Errorf("collector: %v", err)
	}
	c.col, c.done = nil, nil
}

// each calls fn for every record the sink holds, in arrival order, with its
// resource's attributes.
func (c *collector) each(fn func(res map[string]any, lr plog.LogRecord)) {
	for _, ld := range c.sink.AllLogs() {
		for i := 0; i < ld.ResourceLogs().Len(); i++ {
			rl := ld.ResourceLogs().At(i)
			res := rl.Resource().Attributes().AsRaw()
			for j := 0; j < rl.ScopeLogs().Len(); j++ {
				lrs := rl.ScopeLogs().At(j).LogRecords()
				for k := 0; k < lrs.Len(); k++ {
					fn(res, lrs.At(k))
				}
			}
		}
	}
}
