package main

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	"google.golang.org/protobuf/proto"
)

// otlpSink is an OTLP/HTTP endpoint that keeps the bodies of what it gets.
type otlpSink struct {
	mu       sync.Mutex
	messages []string
	services []string
	headers  []string
}

func (o *otlpSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = zr
	}
	b, _ := io.ReadAll(body)
	var req collogspb.ExportLogsServiceRequest
	if err := proto.Unmarshal(b, &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.headers = append(o.headers, r.Header.Get("X-Api-Key"))
	for _, rl := range req.ResourceLogs {
		for _, kv := range rl.Resource.Attributes {
			if kv.Key == "service.name" {
				o.services = append(o.services, kv.Value.GetStringValue())
			}
		}
		for _, sl := range rl.ScopeLogs {
			for _, lr := range sl.LogRecords {
				o.messages = append(o.messages, lr.Body.GetStringValue())
			}
		}
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
}

func (o *otlpSink) has(msg string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, m := range o.messages {
		if strings.Contains(m, msg) {
			return true
		}
	}
	return false
}

// With SIDELOG_OTLP_ENDPOINT set, the reference app ships its log records
// (here, one request's) with the configured headers, and /metrics shows
// the shipper's counters.
func TestServe_ShipsOverOTLP(t *testing.T) {
	t.Parallel()
	sink := &otlpSink{}
	srv := httptest.NewServer(sink)
	defer srv.Close()
	s := startServer(t, map[string]string{"SIDELOG_OTLP_ENDPOINT": srv.URL, "SIDELOG_OTLP_HEADERS": "x-api-key=s3cret%21", "METRICS_TOKEN": "tok"})
	c := s.client(t)
	c.Get("/healthz?ship-me")
	c.Get("/no-such-page-ship-me")
	deadline := time.Now().Add(30 * time.Second)
	for !sink.has("/no-such-page-ship-me") {
		if time.Now().After(deadline) {
			t.Fatalf("the request's record was not shipped; got %q", sink.messages)
		}
		time.Sleep(50 * time.Millisecond)
	}
	sink.mu.Lock()
	if sink.services[0] != "saas" || sink.headers[0] != "s3cret!" {
		t.Errorf("service %q, header %q", sink.services[0], sink.headers[0])
	}
	sink.mu.Unlock()
	for {
		fams, _ := scrape(t, s.URL+"/metrics", "tok")
		shipped := fams["sidelog_ship_records_total"].GetMetric()
		if len(shipped) == 1 && shipped[0].GetCounter().GetValue() > 0 && fams["sidelog_ship_lag_seconds"] != nil && fams["sidelog_ship_lost_records_total"] != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/metrics lacks the shipper's counters: %v", fams)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Without SIDELOG_OTLP_ENDPOINT nothing is shipped and /metrics has no
// shipper counters; a malformed setting stops the start with a clear error.
func TestServe_ShippingOff(t *testing.T) {
	t.Parallel()
	s := startServer(t, map[string]string{"METRICS_TOKEN": "tok"})
	fams, _ := scrape(t, s.URL+"/metrics", "tok")
	if fams["sidelog_records_written_total"] == nil {
		t.Fatalf("no /metrics: %v", fams)
	}
	for name := range fams {
		if strings.HasPrefix(name, "sidelog_ship_") {
			t.Errorf("shipping is off, yet /metrics has %s", name)
		}
	}
	for env, want := range map[string]string{
		"SIDELOG_OTLP_ENDPOINT=collector:4318":                     "scheme must be http or https",
		"SIDELOG_OTLP_PROTOCOL=udp":                                `protocol "udp"`,
		"SIDELOG_OTLP_HEADERS=novalue":                             "want key=value",
		"SIDELOG_OTLP_KEEP_UNSHIPPED=lots":                         "want a size in MiB",
		"SIDELOG_OTLP_CERT_FILE=/nonexistent/cert.pem":             "needs both a certificate and a key",
		"SIDELOG_OTLP_ENDPOINT=https://user:pw@collector.internal": "credentials in a header",
	} {
		k, v, _ := strings.Cut(env, "=")
		e := map[string]string{"SIDELOG_OTLP_ENDPOINT": "https://collector.internal:4318", k: v}
		_, err := loadConfig(func(k string) string { return e[k] })
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", env, err, want)
		}
	}
}
