package web

import (
	"embed"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"

	"github.com/sidelog/sidelog/admin"
	"github.com/sidelog/sidelog/saas"
)

//go:embed templates
var templateFS embed.FS

// templates holds one template set per page, each with the layout.
var templates = func() map[string]*template.Template {
	funcs := template.FuncMap{"money": formatMoney}
	pages, _ := templateFS.ReadDir("templates")
	m := map[string]*template.Template{}
	for _, p := range pages {
		if p.Name() == "layout.html" {
			continue
		}
		m[p.Name()] = template.Must(template.New("layout.html").Funcs(funcs).
			ParseFS(templateFS, "templates/layout.html", "templates/"+p.Name()))
	}
	return m
}()

// page is the data of every template. html/template escapes every value
// by its context, so user input (project names included) is shown, never
// run.
type page struct {
	User        *saas.User
	CSRF        string
	Error       string
	Email, Name string
	Org         string
	Token       string // a sign-up's token, on its confirmation page

	Memberships []saas.Membership
	Projects    []*saas.Project
	Project     *saas.Project
	Form        projectForm
	Statuses    []saas.Status

	Users    []saas.UserAccess
	LogsRole admin.Role // what the user may do in the admin UI

	Audit *auditView // the organisation audit page
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, name string, status int, p page) {
	p.User = saas.UserFromContext(r.Context())
	p.LogsRole = s.logRole(r.Context(), p.User)
	p.CSRF = s.csrfToken(w, r)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := templates[name].Execute(w, p); err != nil {
		s.log.ErrorContext(r.Context(), "render page", "page", name, "error", err)
	}
}

// renderError shows an error page with the status of err's code.
func (s *Server) renderError(w http.ResponseWriter, r *http.Request, err error) {
	s.logError(r, err)
	code := saas.ErrorCode(err)
	s.render(w, r, "error.html", status(code), page{Error: saas.ErrorMessage(err)})
}

// parseForm parses a form body, turning an oversized one into eTooLarge.
func parseForm(r *http.Request) error {
	err := r.ParseForm()
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return saas.Errorf(eTooLarge, "the form is larger than %d bytes", tooBig.Limit)
	case err != nil:
		return saas.Errorf(saas.EINVALID, "malformed form")
	}
	return nil
}

// projectForm is the project form as typed, redisplayed on errors. Its
// field names are those of the API's JSON (org_id, name, status,
// budget_cents).
type projectForm struct {
	OrgID       int64
	Name        string
	Status      saas.Status
	BudgetCents string // whole cents, as in the API
	Budget      string // the amount, as older forms posted it ("1234.56")
}

func (f projectForm) project() (*saas.Project, error) {
	cents, err := f.cents()
	if err != nil {
		return nil, err
	}
	return &saas.Project{OrgID: f.OrgID, Name: f.Name, Status: f.Status, BudgetCents: cents}, nil
}

// cents reads budget_cents, or else the amount of the older field budget.
func (f projectForm) cents() (int64, error) {
	s := strings.TrimSpace(f.BudgetCents)
	if s == "" && f.Budget != "" {
		return parseMoney(f.Budget)
	}
	if s == "" {
		return 0, nil
	}
	c, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, saas.Errorf(saas.EINVALID, "budget_cents must be a whole number of cents, like 123456")
	}
	return c, nil
}

func readProjectForm(r *http.Request) projectForm {
	org, _ := strconv.ParseInt(r.PostFormValue("org_id"), 10, 64)
	return projectForm{OrgID: org, Name: r.PostFormValue("name"), Status: saas.Status(r.PostFormValue("status")),
		BudgetCents: r.PostFormValue("budget_cents"), Budget: r.PostFormValue("budget")}
}

func (s *Server) projectList(w http.ResponseWriter, r *http.Request) {
	ps, err := s.cfg.Projects.FindProjects(r.Context(), saas.ProjectFilter{})
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	ms, err := s.cfg.Orgs.Memberships(r.Context(), saas.UserIDFromContext(r.Context()))
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	s.render(w, r, "projects.html", http.StatusOK, page{Projects: ps, Memberships: ms})
}

func (s *Server) projectNew(w http.ResponseWriter, r *http.Request) {
	s.showProjectForm(w, r, http.StatusOK, nil, projectForm{Status: saas.StatusPlanned, BudgetCents: "0"}, "")
}

func (s *Server) showProjectForm(w http.ResponseWriter, r *http.Request, status int, p *saas.Project, f projectForm, msg string) {
	ms, err := s.cfg.Orgs.Memberships(r.Context(), saas.UserIDFromContext(r.Context()))
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	s.render(w, r, "project_form.html", status, page{Project: p, Form: f, Memberships: ms, Statuses: saas.Statuses(), Error: msg})
}

func (s *Server) projectCreate(w http.ResponseWriter, r *http.Request) {
	f := readProjectForm(r)
	r = withTenant(r, f.OrgID)
	p, err := f.project()
	if err == nil {
		err = s.cfg.Projects.CreateProject(r.Context(), p)
	}
	if saas.ErrorCode(err) == saas.EINVALID {
		s.showProjectForm(w, r, http.StatusBadRequest, nil, f, saas.ErrorMessage(err))
		return
	} else if err != nil {
		s.renderError(w, r, err)
		return
	}
	s.log.InfoContext(r.Context(), "project created", "project_id", p.ID, "org_id", p.OrgID)
	http.Redirect(w, r, "/projects", http.StatusSeeOther)
}

func (s *Server) projectEdit(w http.ResponseWriter, r *http.Request) {
	p, r, err := s.findProject(r)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	s.showProjectForm(w, r, http.StatusOK, p, projectForm{OrgID: p.OrgID, Name: p.Name, Status: p.Status, BudgetCents: strconv.FormatInt(p.BudgetCents, 10)}, "")
}

func (s *Server) projectUpdate(w http.ResponseWriter, r *http.Request) {
	p, r, err := s.findProject(r)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	f := readProjectForm(r)
	f.OrgID = p.OrgID
	cents, err := f.cents()
	if err == nil {
		p, err = s.cfg.Projects.UpdateProject(r.Context(), p.ID, saas.ProjectUpdate{Name: &f.Name, Status: &f.Status, BudgetCents: &cents})
	}
	if saas.ErrorCode(err) == saas.EINVALID {
		s.showProjectForm(w, r, http.StatusBadRequest, p, f, saas.ErrorMessage(err))
		return
	} else if err != nil {
		s.renderError(w, r, err)
		return
	}
	s.log.InfoContext(r.Context(), "project updated", "project_id", p.ID, "org_id", p.OrgID)
	http.Redirect(w, r, "/projects", http.StatusSeeOther)
}

func (s *Server) projectDelete(w http.ResponseWriter, r *http.Request) {
	p, r, err := s.findProject(r)
	if err == nil {
		err = s.cfg.Projects.DeleteProject(r.Context(), p.ID)
	}
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	s.log.InfoContext(r.Context(), "project deleted", "project_id", p.ID, "org_id", p.OrgID)
	http.Redirect(w, r, "/projects", http.StatusSeeOther)
}

// parseMoney reads "1234", "1234.5" or "1,234.56" as cents.
func parseMoney(s string) (int64, error) {
	s = strings.ReplaceAll(strings.TrimSpace(s), ",", "")
	if s == "" {
		return 0, nil
	}
	whole, frac, _ := strings.Cut(s, ".")
	bad := saas.Errorf(saas.EINVALID, "budget must be an amount like 1234.56")
	if len(frac) > 2 || whole == "" || len(whole) > 12 {
		return 0, bad
	}
	frac += "00"[len(frac):]
	w, err1 := strconv.ParseUint(whole, 10, 63)
	f, err2 := strconv.ParseUint(frac, 10, 8)
	if err1 != nil || err2 != nil {
		return 0, bad
	}
	return int64(w)*100 + int64(f), nil
}

// formatMoney writes cents as "1234.56".
func formatMoney(cents int64) string {
	return fmt.Sprintf("%d.%02d", cents/100, cents%100)
}
