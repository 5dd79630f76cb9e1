// Package admin is sidelog's web UI for reading and managing a log
// database: a list with a query box, a chart of the matching records over
// time, record details, live tail, export, delete by query, saved views and
// the database's statistics and retention settings.
//
// New returns an http.Handler over a sidelog.Reader. The application mounts
// it under a prefix of its own (the reference app uses /admin/) behind its
// login, and tells it who the user is through the Auth interface; `sidelog
// serve` serves the same UI over any log database.
//
// Pages are rendered on the server with html/template; every asset is
// embedded; every page carries a strict Content-Security-Policy (no inline
// script or style). Everything but live tail works without JavaScript.
package admin

import (
	"context"
	"crypto/subtle"
	"embed"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/handler"
)

// Role is what a user may do in the UI.
type Role int

// The roles, from least to most.
const (
	// RoleNone may not see the logs (403).
	RoleNone Role = iota
	// RoleViewer reads, searches, exports and saves views; no delete, no
	// settings.
	RoleViewer
	// RoleSuperuser may do everything.
	RoleSuperuser
)

// String returns the role's name.
func (r Role) String() string {
	switch r {
	case RoleViewer:
		return "log viewer"
	case RoleSuperuser:
		return "superuser"
	}
	return "none"
}

// User is the person making a request, as the application knows them.
type User struct {
	ID   string // the user's id in the business database (Record.UserID)
	Name string // shown in the header
	Role Role
}

// Auth connects the UI to the application's login.
type Auth interface {
	// User returns the user making r, or nil for an anonymous request.
	User(r *http.Request) *User
	// CSRFToken returns the token that forms posted by r's user must carry.
	CSRFToken(r *http.Request) string
	// LoginURL returns where to send an anonymous visitor of r.
	LoginURL(r *http.Request) string
}

// Names looks up display names in the business database: the design's
// application-level join, since the log and business databases cannot be
// joined in SQL. An empty result shows the bare id.
type Names interface {
	UserName(ctx context.Context, id string) string
	TenantName(ctx context.Context, id string) string
}

// Deleter removes the records matching a filter, recording the deletion
// as a security event by actor. *sqlite.DB implements it.
type Deleter interface {
	Delete(ctx context.Context, f sidelog.Filter, actor string) (int64, error)
}

// SettingsStore keeps small named values beside the logs (saved views).
// *sqlite.DB implements it.
type SettingsStore interface {
	Setting(ctx context.Context, key string) (string, bool, error)
	SetSetting(ctx context.Context, key, value string) error
}

// RetentionStore holds the retention policy the cleaner follows.
// *sqlite.DB implements it.
type RetentionStore interface {
	Retention(ctx context.Context) (sidelog.Retention, error)
	SetRetention(ctx context.Context, r sidelog.Retention) error
}

// DBStats describes a log database on disk for the stats page.
type DBStats struct {
	Path          string
	SQLiteVersion string
	Bytes         int64 // everything on disk
	Segments      int64 // the day files: records, dictionaries, indexes
	Catalog       int64
	WAL           int64 // write-ahead logs not yet checkpointed
	Files         int   // day files
	// Detailed (when asked for): the pages inside the files by what
	// they hold. Reading them costs a read of every page header.
	Detailed bool
	Tables   int64 // records, messages, dictionaries, rollups
	Indexes  int64 // secondary indexes on the records
	Search   int64 // full-text indexes
	Free     int64 // free pages, given back by vacuum
	Records  int64
	ByLevel  [4]int64 // by level class: debug, info, warn, error
	ByKind   [4]int64 // by sidelog.Kind
	Oldest   time.Time
	Newest   time.Time
}

// Options configure the UI. Store and Auth are required.
type Options struct {
	// Store is the log database. When it also implements Deleter,
	// SettingsStore or RetentionStore, the matching actions are offered.
	Store sidelog.Reader
	// Stats describes the database on disk for the stats page; detailed
	// asks for the split by tables, indexes and search, which reads every
	// page header. Nil shows only what Store can count.
	Stats func(ctx context.Context, detailed bool) (DBStats, error)
	Auth  Auth
	// Names resolves user and tenant ids; nil shows bare ids.
	Names Names
	// Logger receives the security events (reads of the logs, deletions,
	// settings changes) as records of kind security. Nil discards them,
	// which a deployment should not do.
	Logger *slog.Logger
	// Follow starts following the records matching a filter as they are
	// written, in whatever file or day they land (a late record for an
	// earlier day included); live tail uses it. Nil: live tail polls for
	// records newer than the newest shown, which misses late records of
	// earlier days. cli.AdminOptions sets it to the store's Follow.
	Follow func(ctx context.Context, f sidelog.Filter) (Follower, error)
	// Pipeline reports the running log pipeline's counters for the stats
	// page; nil when there is none (a standalone server).
	Pipeline func() handler.Stats
	// Prefix is the path the handler is mounted at, like "/admin"
	// (without the trailing slash). The handler expects the full path.
	Prefix string
	// Now returns the current time; default time.Now.
	Now func() time.Time
	// TailInterval is how often live tail looks for new records; default 1s.
	TailInterval time.Duration
	// ReadEventInterval is the least time between two security events
	// for the same user reading with the same query (so that paging does
	// not flood the store); default one minute.
	ReadEventInterval time.Duration
}

// Follower yields the records written since it started, matching its
// filter; *sqlite.Follower implements it.
type Follower interface {
	Next(ctx context.Context, limit int) ([]sidelog.Record, error)
}

// Handler is the admin UI.
type Handler struct {
	opts   Options
	mux    *http.ServeMux
	routes []Route
	static http.Handler

	readMu   sync.Mutex
	lastRead map[string]time.Time // user + action + query → last event

	viewsMu sync.Mutex // serialises read-modify-write of saved views
	counts  countCache
}

// Route is one route of the UI, for tests and documentation.
type Route struct {
	Method  string
	Pattern string // with the prefix, like "/admin/records/{id}"
	Role    Role   // the least role that may use it
}

//go:embed templates static
var assets embed.FS

// New returns the UI for opts.
func New(opts Options) *Handler {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.TailInterval <= 0 {
		opts.TailInterval = time.Second
	}
	if opts.ReadEventInterval <= 0 {
		opts.ReadEventInterval = time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	opts.Prefix = strings.TrimSuffix(opts.Prefix, "/")
	static, _ := fs.Sub(assets, "static")
	h := &Handler{
		opts:     opts,
		mux:      http.NewServeMux(),
		static:   http.StripPrefix(opts.Prefix+"/static/", http.FileServerFS(static)),
		lastRead: map[string]time.Time{},
	}
	h.counts.m = map[string]countEntry{}
	h.handle("GET", "/{$}", RoleViewer, h.list)
	h.handle("GET", "/chart", RoleViewer, h.chartPart)
	h.handle("GET", "/records/{id}", RoleViewer, h.detail)
	h.handle("GET", "/tail", RoleViewer, h.tail)
	h.handle("GET", "/export", RoleViewer, h.export)
	h.handle("GET", "/delete", RoleSuperuser, h.deleteForm)
	h.handle("POST", "/delete", RoleSuperuser, h.deletePost)
	h.handle("POST", "/views", RoleViewer, h.viewCreate)
	h.handle("POST", "/views/{id}/delete", RoleViewer, h.viewDelete)
	h.handle("GET", "/requests", RoleViewer, h.requests)
	h.handle("GET", "/stats", RoleViewer, h.stats)
	h.handle("POST", "/settings", RoleSuperuser, h.settingsPost)
	h.handle("GET", "/help", RoleViewer, h.help)
	h.handle("GET", "/history", RoleViewer, h.history)
	h.handle("GET", "/static/", RoleNone, h.serveStatic)
	h.handle("GET", "/favicon.ico", RoleNone, h.serveStatic)
	return h
}

// Routes lists every route the handler serves, with the least role each
// needs (RoleNone: anyone, logged in or not).
func (h *Handler) Routes() []Route { return append([]Route(nil), h.routes...) }

// handle registers a route behind the role check (and the CSRF check for
// unsafe methods).
func (h *Handler) handle(method, path string, role Role, fn http.HandlerFunc) {
	pattern := h.opts.Prefix + path
	h.routes = append(h.routes, Route{Method: method, Pattern: pattern, Role: role})
	h.mux.HandleFunc(method+" "+pattern, func(w http.ResponseWriter, r *http.Request) {
		setSecurityHeaders(w)
		if role > RoleNone {
			u := h.opts.Auth.User(r)
			if u != nil {
				r = r.WithContext(context.WithValue(r.Context(), userKey{}, u))
			}
			switch {
			case u == nil:
				http.Redirect(w, r, h.opts.Auth.LoginURL(r), http.StatusSeeOther)
				return
			case u.Role < role:
				h.renderError(w, r, http.StatusForbidden, "You may not see this page. Ask a superuser for the log viewer grant.")
				return
			}
			if method != http.MethodGet && !h.validCSRF(r) {
				h.renderError(w, r, http.StatusForbidden, "The form expired or did not come from this site. Go back, reload and try again.")
				return
			}
		}
		fn(w, r)
	})
}

// ServeHTTP implements http.Handler. Requests the routes do not know get
// 404, and cross-origin unsafe requests 403.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, pattern := h.mux.Handler(r); pattern == "" {
		setSecurityHeaders(w)
		if h.opts.Auth.User(r) == nil {
			http.Redirect(w, r, h.opts.Auth.LoginURL(r), http.StatusSeeOther)
			return
		}
		h.renderError(w, r, http.StatusNotFound, "There is no such page.")
		return
	}
	crossOrigin.ServeHTTP(w, r, h.mux)
}

// crossOrigin refuses unsafe cross-origin requests before any handler runs.
var crossOrigin = crossOriginGuard{http.NewCrossOriginProtection()}

type crossOriginGuard struct{ cop *http.CrossOriginProtection }

func (g crossOriginGuard) ServeHTTP(w http.ResponseWriter, r *http.Request, next http.Handler) {
	if err := g.cop.Check(r); err != nil {
		setSecurityHeaders(w)
		http.Error(w, "cross-origin request refused", http.StatusForbidden)
		return
	}
	next.ServeHTTP(w, r)
}

// csp is the policy of every page: nothing inline, nothing from elsewhere.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

func setSecurityHeaders(w http.ResponseWriter) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", csp)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "same-origin")
}

// validCSRF compares the form's token with the user's in constant time.
func (h *Handler) validCSRF(r *http.Request) bool {
	want := h.opts.Auth.CSRFToken(r)
	got := r.PostFormValue("csrf_token")
	return want != "" && len(got) == len(want) && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

func (h *Handler) serveStatic(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "public, max-age=3600")
	if strings.HasSuffix(r.URL.Path, "/favicon.ico") {
		b, _ := assets.ReadFile("static/favicon.svg")
		w.Header().Set("Content-Type", "image/svg+xml")
		w.Write(b)
		return
	}
	h.static.ServeHTTP(w, r)
}

type userKey struct{}

// user returns the request's user; the route's check made sure there is one.
func (h *Handler) user(r *http.Request) *User {
	if u, ok := r.Context().Value(userKey{}).(*User); ok {
		return u
	}
	if u := h.opts.Auth.User(r); u != nil {
		return u
	}
	return &User{}
}

// security records a security event with the acting user.
func (h *Handler) security(r *http.Request, level slog.Level, msg string, args ...any) {
	u := h.user(r)
	args = append([]any{sidelog.KeyKind, sidelog.KindSecurity.String(), sidelog.KeyLogger, "sidelog.admin", sidelog.KeyUserID, u.ID}, args...)
	h.opts.Logger.Log(r.Context(), level, msg, args...)
}

// readEvent records a read of the logs, at most once per ReadEventInterval
// for one user, action and query.
func (h *Handler) readEvent(r *http.Request, action, query string, args ...any) {
	key := h.user(r).ID + "\x00" + action + "\x00" + query
	now := h.opts.Now()
	h.readMu.Lock()
	last, seen := h.lastRead[key]
	if seen && now.Sub(last) < h.opts.ReadEventInterval {
		h.readMu.Unlock()
		return
	}
	if len(h.lastRead) > 10000 {
		for k, t := range h.lastRead {
			if now.Sub(t) >= h.opts.ReadEventInterval {
				delete(h.lastRead, k)
			}
		}
	}
	h.lastRead[key] = now
	h.readMu.Unlock()
	h.security(r, slog.LevelInfo, "logs "+action, append([]any{"query", query}, args...)...)
}
