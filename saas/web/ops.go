package web

import (
	"context"
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
