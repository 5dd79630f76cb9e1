package web

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// healthResponse is GET /healthz.
type healthResponse struct {
	Status      string        `json:"status"` // ok, degraded (logs), or down (business database)
	BusinessDB  string        `json:"business_db"`
	LogPipeline *pipelineInfo `json:"log_pipeline,omitempty"`
}

type pipelineInfo struct {
	State      string `json:"state"` // ok, or failing when records went to the fallback since the last check
	Written    int64  `json:"written"`
	Dropped    int64  `json:"dropped"`
	Failed     int64  `json:"failed"`
	QueueDepth int    `json:"queue_depth"`
}

// healthz answers 200 while the business database answers, 503 when it
// does not. Trouble in the log pipeline shows as "degraded" but keeps 200:
// an application that cannot log should still serve its users.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	resp := healthResponse{Status: "ok", BusinessDB: "ok"}
	code := http.StatusOK
	if s.cfg.Ping != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := s.cfg.Ping(ctx); err != nil {
			s.log.ErrorContext(ctx, "health check: business database down", "error", err)
			resp.Status, resp.BusinessDB, code = "down", "unreachable", http.StatusServiceUnavailable
		}
	}
	if s.cfg.LogStats != nil {
		st := s.cfg.LogStats()
		info := &pipelineInfo{State: "ok", Written: st.Written, Dropped: st.Dropped, Failed: st.Failed, QueueDepth: st.QueueDepth}
		if prev := s.lastFailed.Swap(st.Failed); st.Failed > prev {
			info.State = "failing"
			if resp.Status == "ok" {
				resp.Status = "degraded"
			}
		}
		resp.LogPipeline = info
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, code, resp)
}

// metrics writes the Prometheus text exposition format (version 0.0.4).
func (s *Server) metrics(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	s.writeMetrics(w)
}

func (s *Server) writeMetrics(w io.Writer) {
	metric(w, "saas_http_requests_total", "counter", "HTTP requests answered, by status class.")
	for c := 1; c <= 5; c++ {
		fmt.Fprintf(w, "saas_http_requests_total{class=\"%dxx\"} %d\n", c, s.byCode[c].Load())
	}
	if s.cfg.LogStats != nil {
		st := s.cfg.LogStats()
		for _, m := range []struct {
			name, typ, help string
			v               float64
		}{
			{"sidelog_records_written_total", "counter", "Records committed to the log database.", float64(st.Written)},
			{"sidelog_records_dropped_total", "counter", "Records refused because the queue was full.", float64(st.Dropped)},
			{"sidelog_records_failed_total", "counter", "Records written to the fallback instead of the log database.", float64(st.Failed)},
			{"sidelog_write_retries_total", "counter", "Batch writes that failed and were retried.", float64(st.Retries)},
			{"sidelog_batches_total", "counter", "Committed batch writes.", float64(st.Batches)},
			{"sidelog_queue_depth", "gauge", "Records waiting for the writer.", float64(st.QueueDepth)},
			{"sidelog_queue_bytes", "gauge", "Approximate memory of the queued records.", float64(st.QueueBytes)},
			{"sidelog_batch_latency_seconds", "gauge", "Duration of the last committed batch write.", st.LastBatchLatency.Seconds()},
			{"sidelog_batch_latency_max_seconds", "gauge", "Longest committed batch write since start.", st.MaxBatchLatency.Seconds()},
		} {
			metric(w, m.name, m.typ, m.help)
			fmt.Fprintf(w, "%s %g\n", m.name, m.v)
		}
	}
	if s.cfg.LogDBSize != nil {
		if n, err := s.cfg.LogDBSize(); err == nil {
			metric(w, "sidelog_db_size_bytes", "gauge", "Size on disk of the log database: catalog, segments and WAL files.")
			fmt.Fprintf(w, "sidelog_db_size_bytes %d\n", n)
		}
	}
}

func metric(w io.Writer, name, typ, help string) {
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
}
