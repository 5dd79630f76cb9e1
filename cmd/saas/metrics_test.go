package main

import (
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// documentedSeries reads the series names from the table in docs/saas.md's
// Metrics section.
func documentedSeries(t *testing.T) []string {
	t.Helper()
	doc, err := os.ReadFile("../../docs/saas.md")
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(doc), "\n## Metrics\n")
	if !ok {
		t.Fatal("docs/saas.md has no Metrics section")
	}
	sec, _, _ = strings.Cut(sec, "\n## ")
	var names []string
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-z_]+)[`{]").FindAllStringSubmatch(sec, -1) {
		names = append(names, m[1])
	}
	if len(names) < 10 {
		t.Fatalf("found only %v in the Metrics table", names)
	}
	return names
}

// scrape fetches and parses /metrics with Prometheus's own text parser.
func scrape(t *testing.T, url, token string) (map[string]*dto.MetricFamily, int) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return nil, resp.StatusCode
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("the Prometheus parser rejects /metrics: %v", err)
	}
	return fams, 200
}

// TestMetrics scrapes /metrics as Prometheus would and finds every series
// docs/saas.md documents, with plausible values; without the token the
// endpoint answers 401.
func TestMetrics(t *testing.T) {
	const token = "metrics-token-for-the-test"
	s := startServer(t, map[string]string{"METRICS_TOKEN": token})
	c := s.client(t)
	c.Login(adminEmail, adminPassword)
	c.Get("/projects")
	c.Get("/no-such-page")
	c.Get("/reset/0123456789abcdef0123456789abcdef") // a token in a path: redacted

	if _, code := scrape(t, s.URL+"/metrics", ""); code != http.StatusUnauthorized {
		t.Errorf("/metrics without the token: %d, want 401", code)
	}
	if _, code := scrape(t, s.URL+"/metrics", "wrong"); code != http.StatusUnauthorized {
		t.Errorf("/metrics with a wrong token: %d, want 401", code)
	}
	var fams map[string]*dto.MetricFamily
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		fams, _ = scrape(t, s.URL+"/metrics", token)
		if f := fams["sidelog_redacted_total"]; f != nil && fams["sidelog_records_written_total"].GetMetric()[0].GetCounter().GetValue() > 0 || time.Now().After(deadline) {
			break
		}
	}
	for _, name := range documentedSeries(t) {
		if fams[name] == nil {
			t.Errorf("documented series %s is not in /metrics", name)
		}
	}
	if fams["go_goroutines"] == nil || fams["process_cpu_seconds_total"] == nil {
		t.Error("no Go runtime or process metrics")
	}

	lat := fams["sidelog_batch_latency_seconds"]
	if lat.GetType() != dto.MetricType_HISTOGRAM {
		t.Fatalf("sidelog_batch_latency_seconds is a %v, want a histogram", lat.GetType())
	}
	if h := lat.GetMetric()[0].GetHistogram(); h.GetSampleCount() == 0 || len(h.GetBucket()) < 10 || h.GetSampleSum() <= 0 {
		t.Errorf("batch latency histogram: %v", h)
	}
	dur := fams["saas_http_request_duration_seconds"]
	routes := map[string]uint64{}
	for _, m := range dur.GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "route" {
				routes[l.GetValue()] = m.GetHistogram().GetSampleCount()
			}
		}
	}
	if dur.GetType() != dto.MetricType_HISTOGRAM || routes["GET /projects"] == 0 || routes["POST /login"] == 0 {
		t.Errorf("request duration by route: %v %v", dur.GetType(), routes)
	}
	classes := map[string]float64{}
	for _, m := range fams["saas_http_requests_total"].GetMetric() {
		classes[m.GetLabel()[0].GetValue()] = m.GetCounter().GetValue()
	}
	if classes["2xx"] == 0 || classes["3xx"] == 0 || classes["4xx"] < 2 {
		t.Errorf("requests by class: %v", classes)
	}
	if v := fams["sidelog_db_size_bytes"].GetMetric()[0].GetGauge().GetValue(); v < 4096 {
		t.Errorf("log database size %v", v)
	}
}

// With METRICS_ADDR, /metrics is served there and not on the public
// address.
func TestMetrics_Addr(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s := startServer(t, map[string]string{"METRICS_ADDR": addr})
	if r := s.client(t).Get("/metrics"); r.Status != http.StatusNotFound {
		t.Errorf("/metrics on the public address: %d, want 404", r.Status)
	}
	fams, code := scrape(t, "http://"+addr+"/metrics", "")
	if code != 200 || fams["sidelog_records_written_total"] == nil {
		t.Errorf("/metrics on METRICS_ADDR: %d", code)
	}
}
