package admin

import (
	"bytes"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
)

// templates holds one template set per page, each with the layout.
var templates = func() map[string]*template.Template {
	funcs := template.FuncMap{
		"f1":      func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) },
		"rowdata": func(r row) rowData { return rowData{Row: r} },
		"ms":      formatDuration,
		"num":     formatCount,
		"mib":     func(n int64) string { return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MiB" },
	}
	pages, _ := assets.ReadDir("templates")
	m := map[string]*template.Template{}
	for _, p := range pages {
		if p.Name() == "layout.html" {
			continue
		}
		m[p.Name()] = template.Must(template.New("layout.html").Funcs(funcs).
			ParseFS(assets, "templates/layout.html", "templates/"+p.Name()))
	}
	return m
}()

// formatCount writes n with thin separators: 1 234 567.
func formatCount(n int64) string {
	s := strconv.FormatInt(n, 10)
	if n < 0 {
		return s
	}
	var b []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			b = append(b, ',')
		}
		b = append(b, s[i])
	}
	return string(b)
}

// newPage fills the fields every page has.
func (h *Handler) newPage(r *http.Request, title string) page {
	u := h.user(r)
	p := page{
		Title:       title,
		Prefix:      h.opts.Prefix,
		User:        u,
		CSRF:        h.opts.Auth.CSRFToken(r),
		CanDelete:   u.Role >= RoleSuperuser,
		CanSettings: u.Role >= RoleSuperuser,
		Presets:     presets,
	}
	_, p.HasRequests = h.opts.Store.(RequestAnalyzer)
	return p
}

// flashCookie carries a one-time message to the page after a redirect; a
// cookie rather than a URL parameter, so that a link cannot fake one.
const flashCookie = "sidelog_flash"

func (h *Handler) setFlash(w http.ResponseWriter, msg string) {
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: url.QueryEscape(msg), Path: h.opts.Prefix + "/",
		MaxAge: 60, HttpOnly: true, SameSite: http.SameSiteStrictMode})
}

// takeFlash returns the flash message, if any, and clears it.
func (h *Handler) takeFlash(w http.ResponseWriter, r *http.Request) string {
	c, err := r.Cookie(flashCookie)
	if err != nil {
		return ""
	}
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Path: h.opts.Prefix + "/", MaxAge: -1})
	msg, _ := url.QueryUnescape(c.Value)
	return msg
}

// render writes a page; the body is built before the status goes out so
// that a template error is a clean 500.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, name string, status int, p page) {
	if p.Flash == "" && status == http.StatusOK {
		p.Flash = h.takeFlash(w, r)
	}
	if p.User != nil && p.User.Role >= RoleViewer && p.Views == nil {
		p.Views, p.ViewsOK = h.sideViews(r, p.User, p.Q)
	}
	var b bytes.Buffer
	if err := templates[name].Execute(&b, p); err != nil {
		h.opts.Logger.ErrorContext(r.Context(), "render admin page", "page", name, "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

func (h *Handler) renderError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	p := h.newPage(r, http.StatusText(status))
	p.Error = msg
	if u := h.opts.Auth.User(r); u == nil || u.Role < RoleViewer {
		p.Views = []viewItem{}
	}
	h.render(w, r, "error.html", status, p)
}
