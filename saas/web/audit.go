package web

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/sidelog/sidelog/audit"
	"github.com/sidelog/sidelog/saas"
)

// OrgAuditFunc returns one page of an organisation's audit log, newest
// first: at most limit changes older than the record before (0: from the
// newest), and the record to continue from (0 at the end). The caller wires
// it to the log database; the server checks who may read it.
type OrgAuditFunc func(ctx context.Context, orgID, before int64, limit int) ([]audit.Change, int64, error)

// auditPageSize is how many changes one page of the audit log shows.
const auditPageSize = 50

// auditView is the data of the organisation audit page.
type auditView struct {
	OrgID   int64
	OrgName string
	Rows    []auditRow
	Next    int64
}

type auditRow struct {
	Time                                 time.Time
	Actor, Action, Entity, ID, RequestID string
	ClientIP                             string
	Fields                               []auditField
}

type auditField struct{ Name, Old, New string }

// orgAudit reads a page of the {id} organisation's audit log for its
// owners. Others get what the store gives for the organisation: ENOTFOUND
// for a non-member (it is invisible to them), EFORBIDDEN for a member.
func (s *Server) orgAudit(r *http.Request) (*http.Request, *auditView, []audit.Change, error) {
	org, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || org <= 0 || s.cfg.OrgAudit == nil {
		return r, nil, nil, saas.Errorf(saas.ENOTFOUND, "organisation not found")
	}
	r = withTenant(r, org)
	ms, err := s.cfg.Orgs.Memberships(r.Context(), saas.UserIDFromContext(r.Context()))
	if err != nil {
		return r, nil, nil, err
	}
	i := slices.IndexFunc(ms, func(m saas.Membership) bool { return m.OrgID == org })
	switch {
	case i < 0:
		return r, nil, nil, saas.Errorf(saas.ENOTFOUND, "organisation not found")
	case ms[i].Role != saas.RoleOwner:
		return r, nil, nil, saas.Errorf(saas.EFORBIDDEN, "only an organisation's owners may read its audit log")
	}
	var before int64
	if v := r.URL.Query().Get("before"); v != "" {
		if before, err = strconv.ParseInt(v, 10, 64); err != nil || before <= 0 {
			return r, nil, nil, saas.Errorf(saas.EINVALID, "before must be a record id")
		}
	}
	changes, next, err := s.cfg.OrgAudit(r.Context(), org, before, auditPageSize)
	if err != nil {
		return r, nil, nil, fmt.Errorf("read audit log: %w", err)
	}
	s.log.InfoContext(r.Context(), "organisation audit log read", "kind", "security", "org_id", org, "changes", len(changes))
	v := &auditView{OrgID: org, OrgName: ms[i].OrgName, Next: next}
	for _, ch := range changes {
		row := auditRow{Time: ch.Time.UTC(), Actor: ch.Actor, Action: ch.Action, Entity: ch.Entity, ID: ch.EntityID,
			RequestID: ch.RequestID, ClientIP: ch.ClientIP}
		for _, f := range slices.Sorted(maps.Keys(ch.Diff)) {
			row.Fields = append(row.Fields, auditField{f, shownValue(ch.Diff[f][0]), shownValue(ch.Diff[f][1])})
		}
		v.Rows = append(v.Rows, row)
	}
	return r, v, changes, nil
}

// shownValue renders a diff value for people: strings as they are, null
// as "–", anything else as JSON.
func shownValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "–"
	case string:
		return x
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func (s *Server) pageOrgAudit(w http.ResponseWriter, r *http.Request) {
	r, v, _, err := s.orgAudit(r)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	s.render(w, r, "audit.html", http.StatusOK, page{Audit: v})
}

// auditJSON is one change in GET /api/orgs/{id}/audit.
type auditJSON struct {
	ID        int64             `json:"id"`
	Time      time.Time         `json:"time"`
	Actor     string            `json:"actor"`
	UserID    string            `json:"user_id,omitempty"`
	RequestID string            `json:"request_id,omitempty"`
	ClientIP  string            `json:"client_ip,omitempty"`
	Entity    string            `json:"entity"`
	EntityID  string            `json:"entity_id"`
	Action    string            `json:"action"`
	Diff      map[string][2]any `json:"diff"`
}

func (s *Server) apiOrgAudit(w http.ResponseWriter, r *http.Request) {
	r, v, changes, err := s.orgAudit(r)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	out := struct {
		Changes []auditJSON `json:"changes"`
		Next    int64       `json:"next,omitempty"`
	}{Changes: []auditJSON{}, Next: v.Next}
	for _, ch := range changes {
		out.Changes = append(out.Changes, auditJSON{ch.RecordID, ch.Time.UTC(), ch.Actor, ch.UserID, ch.RequestID, ch.ClientIP,
			ch.Entity, ch.EntityID, ch.Action, ch.Diff})
	}
	writeJSON(w, http.StatusOK, out)
}
