package web

import (
	"net/http"
	"strconv"

	"github.com/sidelog/sidelog/saas"
)

// memberInput is the body of POST /api/orgs/{id}/members.
type memberInput struct {
	Email string    `json:"email"`
	Role  saas.Role `json:"role"`
}

// addMember adds the user with in.Email to the {id} organisation; only its
// owners may (the store checks).
func (s *Server) addMember(r *http.Request, in memberInput) (*http.Request, error) {
	org, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return r, saas.Errorf(saas.ENOTFOUND, "organisation not found")
	}
	r = withTenant(r, org)
	if in.Role == "" {
		in.Role = saas.RoleMember
	}
	if !in.Role.Valid() {
		return r, saas.Errorf(saas.EINVALID, "unknown role %q", in.Role)
	}
	// Only an owner learns anything, and not whether the address has an
	// account: an unknown address gets the same answer as a known one.
	if err := s.requireOwner(r, org); err != nil {
		return r, err
	}
	u, err := s.cfg.Users.FindUserByEmail(r.Context(), in.Email)
	if saas.ErrorCode(err) == saas.ENOTFOUND {
		s.log.InfoContext(r.Context(), "member not added: no such account", "org_id", org, "account", s.accountKey(in.Email))
		return r, nil
	}
	if err != nil {
		return r, err
	}
	if err := s.cfg.Orgs.AddMember(r.Context(), org, u.ID, in.Role); err != nil {
		return r, err
	}
	s.log.InfoContext(r.Context(), "member added", "org_id", org, "member_id", u.ID, "role", string(in.Role))
	return r, nil
}

func (s *Server) apiAddMember(w http.ResponseWriter, r *http.Request) {
	var in memberInput
	if err := decodeJSON(r, &in); err != nil {
		s.apiError(w, r, err)
		return
	}
	r, err := s.addMember(r, in)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) pageAddMember(w http.ResponseWriter, r *http.Request) {
	r, err := s.addMember(r, memberInput{Email: r.PostForm.Get("email"), Role: saas.Role(r.PostForm.Get("role"))})
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	http.Redirect(w, r, "/projects", http.StatusSeeOther)
}

// requireOwner returns nil when the request's user owns org, and the
// error the store would give otherwise: ENOTFOUND for a non-member (the
// organisation is invisible to them), EFORBIDDEN for another role.
func (s *Server) requireOwner(r *http.Request, org int64) error {
	ms, err := s.cfg.Orgs.Memberships(r.Context(), saas.UserIDFromContext(r.Context()))
	if err != nil {
		return err
	}
	for _, m := range ms {
		if m.OrgID == org {
			if m.Role != saas.RoleOwner {
				return saas.Errorf(saas.EFORBIDDEN, "only an owner may add members")
			}
			return nil
		}
	}
	return saas.Errorf(saas.ENOTFOUND, "organisation not found")
}
