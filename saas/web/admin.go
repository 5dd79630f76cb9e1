package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/admin"
	"github.com/sidelog/sidelog/saas"
)

// routeMux registers routes on the server's mux and remembers their
// patterns, so that tests can walk every route (see Routes).
type routeMux struct{ s *Server }

func (m routeMux) HandleFunc(pattern string, h http.HandlerFunc) {
	m.s.patterns = append(m.s.patterns, pattern)
	m.s.mux.HandleFunc(pattern, h)
}

func (m routeMux) Handle(pattern string, h http.Handler) {
	m.s.patterns = append(m.s.patterns, pattern)
	m.s.mux.Handle(pattern, h)
}

// Routes returns the patterns of every route the server serves, mounted
// handlers included, in the order they were registered.
func (s *Server) Routes() []string { return append([]string(nil), s.patterns...) }

// Mount serves h under prefix (like "/admin/"), behind the server's session
// lookup, body limit and cross-origin protection. "GET /admin" redirects to
// the prefix.
func (s *Server) Mount(prefix string, h http.Handler) {
	if !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	m := routeMux{s}
	m.Handle(prefix, h)
	m.HandleFunc("GET "+strings.TrimSuffix(prefix, "/"), func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, prefix, http.StatusMovedPermanently)
	})
}

// logRole is what u may do with the logs: superusers everything, users
// with the log viewer grant read, others nothing.
func (s *Server) logRole(ctx context.Context, u *saas.User) admin.Role {
	switch {
	case u == nil:
		return admin.RoleNone
	case u.IsSuperuser:
		return admin.RoleSuperuser
	case s.cfg.LogAccess == nil:
		return admin.RoleNone
	}
	ok, err := s.cfg.LogAccess.IsLogViewer(ctx, u.ID)
	if err != nil {
		s.log.ErrorContext(ctx, "read log viewer grant", "error", err)
		return admin.RoleNone
	}
	if ok {
		return admin.RoleViewer
	}
	return admin.RoleNone
}

// AdminAuth connects the admin UI to the application's sessions: the
// logged-in user, their role, and the session's CSRF token.
func (s *Server) AdminAuth() admin.Auth { return adminAuth{s} }

type adminAuth struct{ s *Server }

func (a adminAuth) User(r *http.Request) *admin.User {
	u := saas.UserFromContext(r.Context())
	if u == nil {
		return nil
	}
	return &admin.User{ID: strconv.FormatInt(u.ID, 10), Name: u.Email, Role: a.s.logRole(r.Context(), u)}
}

func (a adminAuth) CSRFToken(r *http.Request) string {
	if sess := sessionFrom(r.Context()); sess != nil {
		return sess.CSRFToken
	}
	return ""
}

func (a adminAuth) LoginURL(*http.Request) string { return "/login" }

// AdminNames looks up user and organisation names for the admin UI's
// record details: the application-level join of the two databases.
func (s *Server) AdminNames() admin.Names { return adminNames{s} }

type adminNames struct{ s *Server }

func (n adminNames) UserName(ctx context.Context, id string) string {
	uid, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return ""
	}
	u, err := n.s.cfg.Users.FindUserByID(ctx, uid)
	if err != nil {
		return ""
	}
	return u.Name + " <" + u.Email + ">"
}

func (n adminNames) TenantName(ctx context.Context, id string) string {
	oid, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n.s.cfg.LogAccess == nil {
		return ""
	}
	name, err := n.s.cfg.LogAccess.OrgName(ctx, oid)
	if err != nil {
		return ""
	}
	return name
}

// maxListedUsers bounds the users page.
const maxListedUsers = 500

// userList shows superusers every user with their access to the logs.
func (s *Server) userList(w http.ResponseWriter, r *http.Request) {
	users, err := s.cfg.LogAccess.UsersWithAccess(r.Context(), maxListedUsers)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	s.render(w, r, "users.html", http.StatusOK, page{Users: users})
}

// grantLogViewer grants or revokes the log viewer role (superusers only).
func (s *Server) grantLogViewer(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		s.renderError(w, r, saas.Errorf(saas.ENOTFOUND, "user not found"))
		return
	}
	grant := r.PostFormValue("grant") == "1"
	if err := s.cfg.LogAccess.SetLogViewer(r.Context(), id, grant); err != nil {
		s.renderError(w, r, err)
		return
	}
	msg := "log viewer granted"
	if !grant {
		msg = "log viewer revoked"
	}
	s.log.WarnContext(r.Context(), msg, sidelog.KeyKind, sidelog.KindSecurity.String(), "target_user_id", id)
	http.Redirect(w, r, "/users", http.StatusSeeOther)
}

// adminRoutes adds the pages of log access; called from routes.
func (s *Server) adminRoutes(m routeMux) {
	if s.cfg.LogAccess == nil {
		return
	}
	m.HandleFunc("GET /users", s.requireUser(s.requireSuperuser(s.userList)))
	m.HandleFunc("POST /users/{id}/logviewer", s.requireUser(s.requireSuperuser(s.grantLogViewer)))
}
