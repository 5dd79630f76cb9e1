// Package web serves the reference application over HTTP: HTML pages for
// people (login, signup, projects) and a JSON API under /api/, plus the
// operational endpoints /healthz and (with Config.Metrics) /metrics.
//
// It never touches the log database: it logs through the *slog.Logger it
// is given, and request logging is middleware wrapped around it by the
// caller.
package web

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sidelog/sidelog/handler"
	"github.com/sidelog/sidelog/saas"
)

// Config is what the server needs. The services are required; the rest
// has defaults.
type Config struct {
	Users    saas.UserService
	Orgs     saas.OrgService
	Sessions saas.SessionService
	Projects saas.ProjectService
	// LogAccess keeps the log viewer grants; nil offers no users page and
	// gives the logs to superusers only.
	LogAccess saas.LogAccessService

	// Ping checks the business database for /healthz.
	Ping func(context.Context) error

	// Logger receives the application's log lines; nil means slog.Default().
	Logger *slog.Logger

	// LogStats reports sidelog's pipeline counters for /healthz; nil
	// leaves them out.
	LogStats func() handler.Stats

	// Metrics, when not nil, serves GET /metrics on the application's
	// address. cmd/saas sets it only behind a bearer token (METRICS_TOKEN);
	// otherwise metrics are served on a separate address or not at all.
	Metrics http.Handler

	// SecureCookies marks cookies Secure even when the request did not
	// arrive over TLS (behind a TLS-terminating proxy).
	SecureCookies bool

	// TrustedProxies lists the proxies whose X-Forwarded-Proto: https
	// makes cookies Secure.
	TrustedProxies []netip.Prefix

	// SessionTTL is how long a login lasts (default 14 days).
	SessionTTL time.Duration

	// MaxBodyBytes caps request bodies (default 64 KiB).
	MaxBodyBytes int64

	// LogKey keys the hash that names an account in failed-login records
	// (see Server.AccountKey). Keep it secret and stable to correlate
	// attempts across restarts; nil means a random key per process.
	LogKey []byte

	// Signups keeps sign-ups until their address is confirmed; nil offers
	// no sign-up (404).
	Signups saas.SignupService

	// Mail sends the sign-up messages (the link that finishes a sign-up,
	// or a note to an address that already has an account). cmd/saas
	// prints them on its standard error, a development mailbox; a
	// deployment plugs in its mail service. Nil drops them with a warning.
	Mail func(context.Context, saas.Mail) error

	// BaseURL is where the application is reached, like
	// "https://app.example.com", for the links in mails. It is
	// configured, never taken from the request's Host header, which an
	// attacker could choose. Empty: links without a host.
	BaseURL string

	// SignupTTL is how long a sign-up link works (default 24 hours).
	SignupTTL time.Duration

	// OrgAudit reads an organisation's audit log from the log database
	// for /orgs/{id}/audit, shown to the organisation's owners. Nil
	// leaves the page out (404).
	OrgAudit OrgAuditFunc

	// DebugRoutes adds /debug/panic and /debug/error for superusers, to
	// see a recovered panic and an error travel to the log database and
	// the error tracker.
	DebugRoutes bool
}

// Server is the application's HTTP side.
type Server struct {
	cfg Config
	log *slog.Logger
	mux *http.ServeMux
	// patterns lists the registered routes (see Routes).
	patterns []string
	byCode   [6]atomic.Int64 // requests by status class: 1xx..5xx, [0] other

	lastFailed atomic.Int64 // handler's Failed at the last /healthz

	guard  *guard // login and sign-up limits
	logKey []byte
}

// New returns a Server for cfg.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 14 * 24 * time.Hour
	}
	if cfg.SignupTTL <= 0 {
		cfg.SignupTTL = 24 * time.Hour
	}
	cfg.BaseURL = strings.TrimSuffix(cfg.BaseURL, "/")
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 64 << 10
	}
	s := &Server{cfg: cfg, log: cfg.Logger.With("logger", "saas.web"), mux: http.NewServeMux(), guard: newGuard(), logKey: cfg.LogKey}
	if len(s.logKey) == 0 {
		s.logKey = newLogKey()
	}
	s.routes()
	return s
}

func (s *Server) routes() {
	m := routeMux{s}
	m.HandleFunc("GET /healthz", s.healthz)
	if s.cfg.Metrics != nil {
		m.Handle("GET /metrics", s.cfg.Metrics)
	}
	m.HandleFunc("GET /{$}", s.home)
	m.HandleFunc("GET /login", s.loginForm)
	m.HandleFunc("POST /login", s.login)
	m.HandleFunc("GET /signup", s.signupForm)
	m.HandleFunc("POST /signup", s.signup)
	m.HandleFunc("GET /signup/confirm", s.signupConfirmForm)
	m.HandleFunc("POST /signup/confirm", s.signupConfirm)
	m.HandleFunc("POST /logout", s.requireUser(s.logout))
	m.HandleFunc("GET /projects", s.requireUser(s.projectList))
	m.HandleFunc("GET /projects/new", s.requireUser(s.projectNew))
	m.HandleFunc("POST /projects", s.requireUser(s.projectCreate))
	m.HandleFunc("GET /projects/{id}/edit", s.requireUser(s.projectEdit))
	m.HandleFunc("POST /projects/{id}", s.requireUser(s.projectUpdate))
	m.HandleFunc("POST /projects/{id}/delete", s.requireUser(s.projectDelete))

	m.HandleFunc("POST /orgs/{id}/members", s.requireUser(s.pageAddMember))
	m.HandleFunc("GET /orgs/{id}/audit", s.requireUser(s.pageOrgAudit))

	m.HandleFunc("GET /api/me", s.requireAPIUser(s.apiMe))
	m.HandleFunc("POST /api/orgs/{id}/members", s.requireAPIUser(s.apiAddMember))
	m.HandleFunc("GET /api/orgs/{id}/audit", s.requireAPIUser(s.apiOrgAudit))
	m.HandleFunc("GET /api/projects", s.requireAPIUser(s.apiProjectList))
	m.HandleFunc("POST /api/projects", s.requireAPIUser(s.apiProjectCreate))
	m.HandleFunc("GET /api/projects/{id}", s.requireAPIUser(s.apiProjectGet))
	m.HandleFunc("PUT /api/projects/{id}", s.requireAPIUser(s.apiProjectUpdate))
	m.HandleFunc("DELETE /api/projects/{id}", s.requireAPIUser(s.apiProjectDelete))
	if s.cfg.DebugRoutes {
		m.HandleFunc("GET /debug/panic", s.requireSuperuser(func(http.ResponseWriter, *http.Request) {
			panic("debug panic requested")
		}))
		m.HandleFunc("GET /debug/error", s.requireSuperuser(func(w http.ResponseWriter, r *http.Request) {
			s.renderError(w, r, fmt.Errorf("debug error requested"))
		}))
	}
	s.adminRoutes(m)
	m.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		s.apiError(w, r, saas.Errorf(saas.ENOTFOUND, "no such endpoint"))
	})
}

// Route returns the pattern of the route that serves r, like
// "GET /api/projects/{id}", for request logs.
func (s *Server) Route(r *http.Request) string {
	_, pattern := s.mux.Handler(r)
	return pattern
}

// Handler returns the server's handler: routes behind cross-origin
// protection, body limits and the session lookup. Request-logging middleware goes around it; wrap it in CountRequests to
// count the answers of the whole stack, recovered panics included.
func (s *Server) Handler() http.Handler {
	// Browsers say where a request comes from (Sec-Fetch-Site, Origin);
	// net/http refuses cross-origin unsafe requests. The synchroniser
	// token of every form and the X-CSRF-Token of the API are a second,
	// independent line for browsers that send neither header.
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.csrfFailed(w, r, "cross-origin request refused")
	}))
	return cop.Handler(s.limitBody(s.loadSession(s.mux)))
}

// CountRequests tallies the responses of next by status class (see
// Requests). Put it outermost.
func (s *Server) CountRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			c := sw.status / 100
			if c < 1 || c > 5 {
				c = 0
			}
			s.byCode[c].Add(1)
		}()
		next.ServeHTTP(sw, r)
	})
}

// Requests returns how many responses of status class class (1 to 5, for
// 1xx to 5xx) CountRequests has counted.
func (s *Server) Requests(class int) int64 {
	if class < 1 || class > 5 {
		return 0
	}
	return s.byCode[class].Load()
}

// statusWriter remembers the status; Unwrap keeps http.ResponseController
// (flush, deadlines, hijack) working through it.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (s *Server) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
		next.ServeHTTP(w, r)
	})
}

// requireSuperuser answers 404 to everyone but superusers.
func (s *Server) requireSuperuser(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if u := saas.UserFromContext(r.Context()); u == nil || !u.IsSuperuser {
			http.NotFound(w, r)
			return
		}
		h(w, r)
	}
}

func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	if saas.UserFromContext(r.Context()) == nil {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/projects", http.StatusSeeOther)
}

// overTLS reports whether the browser reached us over TLS: directly, or
// through a trusted proxy that says so.
func (s *Server) overTLS(r *http.Request) bool {
	if r.TLS != nil || s.cfg.SecureCookies {
		return true
	}
	if r.Header.Get("X-Forwarded-Proto") != "https" || len(s.cfg.TrustedProxies) == 0 {
		return false
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	peer = peer.Unmap()
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(peer) {
			return true
		}
	}
	return false
}

// pathID returns the {id} path value, or EINVALID.
func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, saas.Errorf(saas.ENOTFOUND, "project not found")
	}
	return id, nil
}

// status maps an error code to an HTTP status.
func status(code string) int {
	switch code {
	case saas.EINVALID:
		return http.StatusBadRequest
	case saas.ENOTFOUND:
		return http.StatusNotFound
	case saas.ECONFLICT:
		return http.StatusConflict
	case saas.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case saas.EFORBIDDEN:
		return http.StatusForbidden
	case eTooLarge:
		return http.StatusRequestEntityTooLarge
	case eMediaType:
		return http.StatusUnsupportedMediaType
	case eTooMany:
		return http.StatusTooManyRequests
	}
	return http.StatusInternalServerError
}

// Codes of the HTTP layer only.
const (
	eTooLarge  = "too_large"
	eMediaType = "unsupported_media_type"
)

// logError logs internal errors at error level (they reach the error
// tracker) and expected ones at debug.
func (s *Server) logError(r *http.Request, err error) {
	if saas.ErrorCode(err) == saas.EINTERNAL {
		s.log.ErrorContext(r.Context(), "request failed", "error", err)
		return
	}
	s.log.DebugContext(r.Context(), "request refused", "error", err)
}
