package ship

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/sidelog/sidelog"
)

// The environment variables of FromEnv.
const (
	EnvEndpoint      = "SIDELOG_OTLP_ENDPOINT"       // the endpoint URL; shipping is off when unset
	EnvProtocol      = "SIDELOG_OTLP_PROTOCOL"       // http/protobuf (default) or grpc
	EnvHeaders       = "SIDELOG_OTLP_HEADERS"        // key=value,… with URL-encoded values
	EnvCompression   = "SIDELOG_OTLP_COMPRESSION"    // gzip (default) or none
	EnvCAFile        = "SIDELOG_OTLP_CA_FILE"        // PEM roots for an https endpoint
	EnvCertFile      = "SIDELOG_OTLP_CERT_FILE"      // PEM client certificate (mutual TLS)
	EnvKeyFile       = "SIDELOG_OTLP_KEY_FILE"       // its key
	EnvResourceAttrs = "SIDELOG_OTLP_RESOURCE_ATTRS" // key=value,… extra resource attributes
	EnvKeepUnshipped = "SIDELOG_OTLP_KEEP_UNSHIPPED" // MiB up to which unshipped records outlive retention; 0 or unset: off
)

// FromEnv reads a shipper's transport settings from the SIDELOG_OTLP_*
// variables through getenv. It returns ok false, and no error, when
// SIDELOG_OTLP_ENDPOINT is unset: nothing is shipped then. keepMiB is the
// SIDELOG_OTLP_KEEP_UNSHIPPED bound (0 when unset). The caller fills in the
// service's name and version.
func FromEnv(getenv func(string) string) (o Options, keepMiB int64, ok bool, err error) {
	get := func(k string) string { return strings.TrimSpace(getenv(k)) }
	o.Endpoint = get(EnvEndpoint)
	if o.Endpoint == "" {
		return o, 0, false, nil
	}
	if _, err := ParseEndpoint(o.Endpoint); err != nil {
		return o, 0, false, fmt.Errorf("%s: %w", EnvEndpoint, err)
	}
	o.Protocol = Protocol(get(EnvProtocol))
	o.Compression = get(EnvCompression)
	if o.Headers, err = ParseHeaders(get(EnvHeaders)); err != nil {
		return o, 0, false, fmt.Errorf("%s: %w", EnvHeaders, err)
	}
	if o.ResourceAttrs, err = ParseHeaders(get(EnvResourceAttrs)); err != nil {
		return o, 0, false, fmt.Errorf("%s: %w", EnvResourceAttrs, err)
	}
	if ca, cert, key := get(EnvCAFile), get(EnvCertFile), get(EnvKeyFile); ca != "" || cert != "" || key != "" {
		o.TLS = &TLSConfig{CAFile: ca, CertFile: cert, KeyFile: key}
		if _, err := o.TLS.build(); err != nil {
			return o, 0, false, err
		}
	}
	if v := get(EnvKeepUnshipped); v != "" {
		keepMiB, err = strconv.ParseInt(v, 10, 64)
		if err != nil || keepMiB < 0 || keepMiB > 1<<40 {
			return o, 0, false, sidelog.Errorf(sidelog.EINVALID, "%s: want a size in MiB, got %q", EnvKeepUnshipped, v)
		}
	}
	if _, err := o.withDefaults(); err != nil {
		return o, 0, false, err
	}
	return o, keepMiB, true, nil
}

// WritePrometheus writes the counters in the Prometheus text format, under
// the names sidelog_ship_*.
func (st Stats) WritePrometheus(w io.Writer) {
	for _, m := range []struct {
		name, typ, help string
		v               float64
	}{
		{"sidelog_ship_records_total", "counter", "Records acknowledged by the OTLP endpoint.", float64(st.Shipped)},
		{"sidelog_ship_batches_total", "counter", "Export requests acknowledged by the OTLP endpoint.", float64(st.Batches)},
		{"sidelog_ship_retries_total", "counter", "Export requests sent again after a failure.", float64(st.Retried)},
		{"sidelog_ship_failures_total", "counter", "Export requests that failed (each is retried).", float64(st.Failed)},
		{"sidelog_ship_lost_records_total", "counter", "Records retention removed before they were shipped.", float64(st.Lost)},
		{"sidelog_ship_lag_records", "gauge", "Records written but not yet acknowledged.", float64(st.LagRecords)},
		{"sidelog_ship_lag_seconds", "gauge", "Age of the oldest record not yet acknowledged.", st.Lag.Seconds()},
	} {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n%s %g\n", m.name, m.help, m.name, m.typ, m.name, m.v)
	}
}
