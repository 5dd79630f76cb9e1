package web

import (
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"strconv"

	"github.com/sidelog/sidelog/saas"
)

func isAPI(r *http.Request) bool {
	return len(r.URL.Path) >= 5 && r.URL.Path[:5] == "/api/"
}

// apiError writes err as {"error": {"code", "message"}} with the status of
// its code. Internal errors are logged and their text withheld.
func (s *Server) apiError(w http.ResponseWriter, r *http.Request, err error) {
	s.logError(r, err)
	code := saas.ErrorCode(err)
	writeJSON(w, status(code), map[string]any{"error": map[string]string{
		"code": code, "message": saas.ErrorMessage(err),
	}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// decodeJSON reads one JSON object into v: the body must be declared JSON,
// fit the size limit, hold no unknown fields and nothing after the object.
func decodeJSON(r *http.Request, v any) error {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return saas.Errorf(eMediaType, "the body must be application/json")
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.More() {
		err = errors.New("data after the JSON object")
	}
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return saas.Errorf(eTooLarge, "the body is larger than %d bytes", tooBig.Limit)
	case err != nil:
		return saas.Errorf(saas.EINVALID, "malformed JSON: %v", err)
	}
	return nil
}

// meResponse is GET /api/me.
type meResponse struct {
	User        *saas.User        `json:"user"`
	Memberships []saas.Membership `json:"memberships"`
	CSRFToken   string            `json:"csrf_token"`
}

func (s *Server) apiMe(w http.ResponseWriter, r *http.Request) {
	u := saas.UserFromContext(r.Context())
	ms, err := s.cfg.Orgs.Memberships(r.Context(), u.ID)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, meResponse{User: u, Memberships: ms, CSRFToken: sessionFrom(r.Context()).CSRFToken})
}

func (s *Server) apiProjectList(w http.ResponseWriter, r *http.Request) {
	f := saas.ProjectFilter{Status: saas.Status(r.URL.Query().Get("status"))}
	if v := r.URL.Query().Get("org_id"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			s.apiError(w, r, saas.Errorf(saas.EINVALID, "org_id must be a number"))
			return
		}
		f.OrgID = id
	}
	ps, err := s.cfg.Projects.FindProjects(r.Context(), f)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"projects": ps})
}

// projectInput is the body of POST /api/projects.
type projectInput struct {
	OrgID       int64       `json:"org_id"`
	Name        string      `json:"name"`
	Status      saas.Status `json:"status"`
	BudgetCents int64       `json:"budget_cents"`
	OwnerID     int64       `json:"owner_id"`
}

func (s *Server) apiProjectCreate(w http.ResponseWriter, r *http.Request) {
	var in projectInput
	if err := decodeJSON(r, &in); err != nil {
		s.apiError(w, r, err)
		return
	}
	r = withTenant(r, in.OrgID)
	p := &saas.Project{OrgID: in.OrgID, Name: in.Name, Status: in.Status, BudgetCents: in.BudgetCents, OwnerID: in.OwnerID}
	if err := s.cfg.Projects.CreateProject(r.Context(), p); err != nil {
		s.apiError(w, r, err)
		return
	}
	s.log.InfoContext(r.Context(), "project created", "project_id", p.ID, "org_id", p.OrgID)
	w.Header().Set("Location", "/api/projects/"+strconv.FormatInt(p.ID, 10))
	writeJSON(w, http.StatusCreated, p)
}

// findProject loads the {id} project and tags the request with its
// organisation.
func (s *Server) findProject(r *http.Request) (*saas.Project, *http.Request, error) {
	id, err := pathID(r)
	if err != nil {
		return nil, r, err
	}
	p, err := s.cfg.Projects.FindProjectByID(r.Context(), id)
	if err != nil {
		return nil, r, err
	}
	return p, withTenant(r, p.OrgID), nil
}

func (s *Server) apiProjectGet(w http.ResponseWriter, r *http.Request) {
	p, r, err := s.findProject(r)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

func (s *Server) apiProjectUpdate(w http.ResponseWriter, r *http.Request) {
	var upd saas.ProjectUpdate
	if err := decodeJSON(r, &upd); err != nil {
		s.apiError(w, r, err)
		return
	}
	p, r, err := s.findProject(r)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	p, err = s.cfg.Projects.UpdateProject(r.Context(), p.ID, upd)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	s.log.InfoContext(r.Context(), "project updated", "project_id", p.ID, "org_id", p.OrgID)
	writeJSON(w, http.StatusOK, p)
}

func (s *Server) apiProjectDelete(w http.ResponseWriter, r *http.Request) {
	p, r, err := s.findProject(r)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	if err := s.cfg.Projects.DeleteProject(r.Context(), p.ID); err != nil {
		s.apiError(w, r, err)
		return
	}
	s.log.InfoContext(r.Context(), "project deleted", "project_id", p.ID, "org_id", p.OrgID)
	w.WriteHeader(http.StatusNoContent)
}
