// Package httplog is sidelog's HTTP request logging middleware.
//
// [New] returns a plain func(http.Handler) http.Handler, so it fits
// net/http's ServeMux, chi, and any router with an adapter for that shape.
// For every request it
//
//   - assigns a request id (a well-formed incoming X-Request-ID, or a new
//     time-ordered one), echoes it in the response, and puts it into the
//     request's context with sidelog.WithRequest, so every log line made
//     while serving carries it; a valid W3C traceparent header adds the
//     trace with sidelog.WithTrace;
//   - recovers panics: the panic is logged at error with its stack and
//     answered 500 (or the connection is aborted when the response had
//     already started);
//   - writes one record of kind request when the handler returns: method,
//     path, route pattern, status, response bytes, duration, client IP
//     (honouring X-Forwarded-For from trusted proxies only), user agent,
//     user and tenant.
//
// Skip rules, sampling of fast successful requests and a slow-request
// threshold keep the volume down without losing what matters: errors and
// slow requests are always logged. docs/middleware.md describes the options.
package httplog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"net/textproto"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/redact"
)

// Attribute keys of the request record that have no column of their own in
// the sidelog store; the columns' keys are sidelog.Key*.
const (
	KeyResponseBytes     = "http.response_bytes" // body bytes sent
	KeyQuery             = "http.query"          // the raw query string, with Options.LogQuery
	KeySlow              = "slow"                // true when Options.SlowThreshold was reached
	KeyCanceled          = "canceled"            // true when the client went away before the end
	KeyHijacked          = "hijacked"            // true when the handler took over the connection
	KeyAborted           = "aborted"             // true when the handler panicked with http.ErrAbortHandler
	KeyStack             = "stack"               // the stack of a recovered panic
	KeyRejectedRequestID = "rejected_request_id" // a malformed incoming id, sanitised
)

// StatusClientClosed is recorded when the client went away before any
// status was sent (nginx's 499).
const StatusClientClosed = 499

// DefaultRequestIDHeader is the header the request id is read from and
// written to unless Options.RequestIDHeader says otherwise.
const DefaultRequestIDHeader = "X-Request-ID"

// Options configures the middleware. The zero value logs every request at
// a level derived from its status, trusts no proxy and accepts well-formed
// incoming request ids.
type Options struct {
	// Level returns the record's level for a status. The default is
	// DefaultLevel: error for 5xx, warn for 4xx, info otherwise.
	Level func(status int) slog.Level

	// SlowThreshold marks requests that took at least this long with
	// slow=true; they are always logged, at SlowLevel or higher. Zero
	// disables the threshold.
	SlowThreshold time.Duration

	// SlowLevel is the lowest level of a slow request; nil means warn.
	SlowLevel slog.Leveler

	// SampleRate is the fraction, in (0, 1], of fast successful requests
	// (status below 400 and faster than SlowThreshold) that are logged.
	// Errors, slow requests and panics are never sampled away. Zero (the
	// default) and values of 1 or more log every request; negative values
	// log none of the fast successful ones.
	SampleRate float64

	// Skip, when it returns true, drops the request's record (panics are
	// still logged). The request still gets its id and panic recovery.
	Skip func(r *http.Request) bool

	// SkipPaths drops the records of requests whose URL path starts with
	// one of these prefixes, like "/healthz" or "/static/". Mind the
	// trailing slash: "/static" also matches "/statistics".
	SkipPaths []string

	// TrustedProxies lists the networks of reverse proxies whose
	// X-Forwarded-For header is believed; see ClientIP. Single addresses
	// are /32 or /128 prefixes. Empty means the peer is the client.
	TrustedProxies []netip.Prefix

	// RequestIDHeader names the request id header; "" means X-Request-ID.
	RequestIDHeader string

	// IgnoreIncomingRequestID makes every request get a new id, whatever
	// the client sent.
	IgnoreIncomingRequestID bool

	// RouteFunc returns the route pattern that served r, called after the
	// handler returned. When it is nil or returns "", the pattern given to
	// SetRoute, or else r.Pattern (set by net/http's ServeMux since Go
	// 1.22), is used. For chi:
	//
	//	RouteFunc: func(r *http.Request) string {
	//		return chi.RouteContext(r.Context()).RoutePattern()
	//	}
	RouteFunc func(r *http.Request) string

	// UserFunc returns the acting user and tenant of r, called after the
	// handler returned. When it is nil or returns two empty strings, the
	// user attached during the request with sidelog.WithUser is used (see
	// sidelog.RequestUser).
	UserFunc func(r *http.Request) (userID, tenantID string)

	// LogQuery adds the raw query string as http.query. It is off by
	// default because query strings carry tokens: the values of secret
	// parameters (token, access_token, password, api_key, ...) and
	// credentials the Redactor recognises are replaced by markers before
	// the record leaves the middleware.
	LogQuery bool

	// LogHeaders lists request headers to record, in a group
	// http.request.header keyed by the lower-case header name. Headers
	// whose name is secret to the Redactor (Authorization, Cookie,
	// X-Api-Key, ...) are recorded as "[REDACTED:key]"; the values of the
	// others go through its value rules.
	LogHeaders []string

	// Redactor redacts the query string and headers; nil means
	// redact.Default() and redact.Disabled() turns it off. The sidelog
	// handler redacts the path, the message and every attribute again
	// with its own Redactor, in its writer goroutine.
	Redactor *redact.Redactor

	// Now is the clock; nil means time.Now. For tests.
	Now func() time.Time

	// Rand returns a number in [0, 1) for sampling; nil means
	// math/rand/v2.Float64. For tests.
	Rand func() float64
}

// DefaultLevel is the level of a request by status: error for 5xx, warn
// for 4xx, info for everything else.
func DefaultLevel(status int) slog.Level {
	switch {
	case status >= 500:
		return slog.LevelError
	case status >= 400:
		return slog.LevelWarn
	}
	return slog.LevelInfo
}

// middleware holds the options with their defaults filled in.
type middleware struct {
	logger    *slog.Logger
	opts      Options
	header    string
	slowLevel slog.Leveler
	level     func(int) slog.Level
	now       func() time.Time
	rand      func() float64
}

// New returns middleware that logs one record per request to logger (nil
// means slog.Default()). See Options for what it records and when.
func New(logger *slog.Logger, opts Options) func(http.Handler) http.Handler {
	m := &middleware{logger: logger, opts: opts, header: textproto.CanonicalMIMEHeaderKey(opts.RequestIDHeader),
		slowLevel: opts.SlowLevel, level: opts.Level, now: opts.Now, rand: opts.Rand}
	if m.logger == nil {
		m.logger = slog.Default()
	}
	if m.header == "" {
		m.header = textproto.CanonicalMIMEHeaderKey(DefaultRequestIDHeader)
	}
	if m.slowLevel == nil {
		m.slowLevel = slog.LevelWarn
	}
	if m.level == nil {
		m.level = DefaultLevel
	}
	if m.now == nil {
		m.now = time.Now
	}
	if m.opts.Redactor == nil {
		m.opts.Redactor = redact.Default()
	}
	if m.rand == nil {
		m.rand = rand.Float64
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			m.serve(next, w, r)
		})
	}
}

// state is what the middleware knows about one request while it is
// served. One allocation holds it, the response writer, and the request's
// context: state is a context.Context that answers stateKey itself and
// asks its parent for everything else, which saves context.WithValue's
// allocation on every request.
type state struct {
	context.Context // the request's context with the sidelog scope
	rw              responseWriter
	start           time.Time
	skip            bool
	rejected        string // a malformed incoming request id, sanitised

	mu    sync.Mutex
	attrs []slog.Attr // added by the handler with AddAttrs
	route string      // set by a framework's router with SetRoute
}

type stateKey struct{}

// Value returns st for stateKey and defers other keys to the parent.
func (st *state) Value(key any) any {
	if key == (stateKey{}) {
		return st
	}
	return st.Context.Value(key)
}

// AddAttrs adds attributes to the record of the request ctx belongs to,
// for values only the handler knows (a project id, a cache hit). It does
// nothing outside a request served by this middleware. It is safe for
// concurrent use.
func AddAttrs(ctx context.Context, attrs ...slog.Attr) {
	st, _ := ctx.Value(stateKey{}).(*state)
	if st == nil {
		return
	}
	st.mu.Lock()
	st.attrs = append(st.attrs, attrs...)
	st.mu.Unlock()
}

// SetRoute records the route pattern that serves the request ctx belongs
// to ("GET /projects/:id"), for routers that keep it to themselves: a
// middleware of echo or gin calls it with the framework's pattern, and the
// request record carries it in http.route. Options.RouteFunc, when it
// returns a pattern, still wins; r.Pattern is used when neither gives one.
// It does nothing outside a request served by this middleware and is safe
// for concurrent use.
func SetRoute(ctx context.Context, pattern string) {
	st, _ := ctx.Value(stateKey{}).(*state)
	if st == nil {
		return
	}
	st.mu.Lock()
	st.route = pattern
	st.mu.Unlock()
}

func (m *middleware) serve(next http.Handler, w http.ResponseWriter, r *http.Request) {
	st := &state{rw: responseWriter{ResponseWriter: w}, start: m.now()}
	st.skip = m.skipped(r)
	id := m.requestID(r, st)
	w.Header()[m.header] = []string{id} // the key is canonical: Set without its cost
	ctx := sidelog.WithRequest(r.Context(), id)
	if tid, sid, ok := ParseTraceparent(first(r.Header["Traceparent"])); ok {
		ctx = sidelog.WithTrace(ctx, tid, sid)
	}
	st.Context = ctx
	r = r.WithContext(st)
	defer func() {
		m.finish(st, r, recover())
	}()
	next.ServeHTTP(wrap(&st.rw), r)
}

func (m *middleware) skipped(r *http.Request) bool {
	for _, p := range m.opts.SkipPaths {
		if strings.HasPrefix(r.URL.Path, p) {
			return true
		}
	}
	return m.opts.Skip != nil && m.opts.Skip(r)
}

// requestID returns the incoming id when it is well-formed, or a new one;
// a malformed incoming id is kept in st for the record.
func (m *middleware) requestID(r *http.Request, st *state) string {
	if !m.opts.IgnoreIncomingRequestID {
		in := first(r.Header[m.header])
		if ValidRequestID(in) {
			return in
		}
		if in != "" {
			st.rejected = sanitizeRejected(in)
		}
	}
	return newRequestID(st.start)
}

// finish runs deferred after the handler: it answers a recovered panic,
// writes the record, and re-panics with http.ErrAbortHandler when the
// connection must be dropped. It runs on the panicking goroutine's stack,
// so debug.Stack shows where the panic happened.
func (m *middleware) finish(st *state, r *http.Request, rec any) {
	if rec == nil {
		m.log(st, r, nil, nil)
		return
	}
	if rec == http.ErrAbortHandler { //nolint:errorlint // net/http compares it the same way
		m.log(st, r, rec, nil)
		panic(rec)
	}
	stack := debug.Stack()
	started := st.rw.wroteHeader || st.rw.hijacked
	if !started {
		http.Error(&st.rw, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
	}
	m.log(st, r, rec, stack)
	if started && !st.rw.hijacked {
		// The client has part of a response that would look complete
		// if we returned normally; aborting tells it otherwise.
		panic(http.ErrAbortHandler)
	}
}

// log writes the request's record, unless it is skipped or sampled away.
func (m *middleware) log(st *state, r *http.Request, rec any, stack []byte) {
	ctx := r.Context()
	canceled := st.rw.err != nil || errors.Is(ctx.Err(), context.Canceled)
	status := st.rw.status
	switch {
	case status != 0:
	case st.rw.hijacked:
		status = http.StatusSwitchingProtocols
	case canceled:
		status = StatusClientClosed
	case rec == nil:
		status = http.StatusOK // what net/http sends for a handler that wrote nothing
	}
	end := m.now()
	dur := end.Sub(st.start)
	slow := m.opts.SlowThreshold > 0 && dur >= m.opts.SlowThreshold
	level := m.level(status)
	if slow {
		level = max(level, m.slowLevel.Level())
	}
	panicked := rec != nil && rec != http.ErrAbortHandler //nolint:errorlint
	switch {
	case panicked:
		level = max(level, slog.LevelError)
	case rec != nil:
		level = max(level, slog.LevelWarn)
	case st.skip:
		return
	case !slow && status < 400 && m.sampledAway():
		return
	}
	if !m.logger.Enabled(ctx, level) {
		return
	}
	var buf [24]slog.Attr
	attrs := append(buf[:0],
		slog.Any(sidelog.KeyKind, sidelog.KindRequest),
		slog.String(sidelog.KeyMethod, r.Method),
		slog.String(sidelog.KeyPath, r.URL.Path),
		slog.Int(sidelog.KeyStatus, status),
		slog.Int64(KeyResponseBytes, st.rw.bytes),
		slog.Duration(sidelog.KeyDuration, dur),
		slog.String(sidelog.KeyRequestID, sidelog.ScopeFrom(ctx).RequestID),
	)
	attrs = m.appendOptional(attrs, st, r)
	if slow {
		attrs = append(attrs, slog.Bool(KeySlow, true))
	}
	if canceled {
		attrs = append(attrs, slog.Bool(KeyCanceled, true))
	}
	if st.rw.hijacked {
		attrs = append(attrs, slog.Bool(KeyHijacked, true))
	}
	if panicked {
		attrs = append(attrs, slog.String(sidelog.KeyError, fmt.Sprintf("panic: %v", rec)), slog.String(KeyStack, string(stack)))
	} else if rec != nil {
		attrs = append(attrs, slog.Bool(KeyAborted, true))
	}
	st.mu.Lock()
	attrs = append(attrs, st.attrs...)
	st.mu.Unlock()
	// A record made here, rather than by Logger.LogAttrs, skips slog's
	// lookup of the caller's source line, which would only name this
	// function; it was a tenth of the middleware's cost.
	out := slog.NewRecord(end, level, message(r.Method, r.URL.Path, status), 0)
	out.AddAttrs(attrs...)
	m.logger.Handler().Handle(ctx, out) //nolint:errcheck // a log handler's error has nowhere to go
}

// clientIP returns the client's address as text. Without trusted proxies it
// is the peer's host as net/http gave it, with no parsing and formatting.
func (m *middleware) clientIP(r *http.Request) string {
	if len(m.opts.TrustedProxies) == 0 {
		if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
			return host
		}
	}
	if ip := ClientIP(r, m.opts.TrustedProxies); ip.IsValid() {
		return ip.String()
	}
	return ""
}

// appendOptional adds the attributes that are present only sometimes.
func (m *middleware) appendOptional(attrs []slog.Attr, st *state, r *http.Request) []slog.Attr {
	if route := m.route(r); route != "" {
		attrs = append(attrs, slog.String(sidelog.KeyRoute, route))
	}
	if ip := m.clientIP(r); ip != "" {
		attrs = append(attrs, slog.String(sidelog.KeyClientIP, ip))
	}
	if ua := first(r.Header["User-Agent"]); ua != "" {
		attrs = append(attrs, slog.String(sidelog.KeyUserAgent, ua))
	}
	user, tenant := m.user(r)
	if user != "" {
		attrs = append(attrs, slog.String(sidelog.KeyUserID, user))
	}
	if tenant != "" {
		attrs = append(attrs, slog.String(sidelog.KeyTenantID, tenant))
	}
	if sc := sidelog.ScopeFrom(r.Context()); sc.TraceID != "" {
		attrs = append(attrs, slog.String(sidelog.KeyTraceID, sc.TraceID), slog.String(sidelog.KeySpanID, sc.SpanID))
	}
	if m.opts.LogQuery && r.URL.RawQuery != "" {
		attrs = append(attrs, slog.String(KeyQuery, m.opts.Redactor.String(r.URL.RawQuery)))
	}
	if len(m.opts.LogHeaders) > 0 {
		if a, ok := m.headers(r); ok {
			attrs = append(attrs, a)
		}
	}
	if st.rejected != "" {
		attrs = append(attrs, slog.String(KeyRejectedRequestID, st.rejected))
	}
	return attrs
}

// KeyHeaders is the group of the request headers named in
// Options.LogHeaders.
const KeyHeaders = "http.request.header"

// headers returns the group of the headers named in Options.LogHeaders
// that the request has, redacted.
func (m *middleware) headers(r *http.Request) (slog.Attr, bool) {
	red := m.opts.Redactor
	var as []slog.Attr
	for _, name := range m.opts.LogHeaders {
		vals := r.Header.Values(name)
		if len(vals) == 0 {
			continue
		}
		key := strings.ToLower(name)
		v := strings.Join(vals, ", ")
		if red.Key(key) {
			v = red.Value(key, v).(string)
		} else {
			v = red.String(v)
		}
		as = append(as, slog.String(key, v))
	}
	if len(as) == 0 {
		return slog.Attr{}, false
	}
	return slog.Attr{Key: KeyHeaders, Value: slog.GroupValue(as...)}, true
}

// sampledAway reports whether a fast successful request is dropped by
// SampleRate.
func (m *middleware) sampledAway() bool {
	rate := m.opts.SampleRate
	switch {
	case rate == 0 || rate >= 1:
		return false
	case rate < 0:
		return true
	}
	return m.rand() >= rate
}

func (m *middleware) route(r *http.Request) string {
	if m.opts.RouteFunc != nil {
		if s := m.opts.RouteFunc(r); s != "" {
			return s
		}
	}
	if st, _ := r.Context().Value(stateKey{}).(*state); st != nil {
		st.mu.Lock()
		s := st.route
		st.mu.Unlock()
		if s != "" {
			return s
		}
	}
	return r.Pattern
}

func (m *middleware) user(r *http.Request) (user, tenant string) {
	if m.opts.UserFunc != nil {
		if user, tenant = m.opts.UserFunc(r); user != "" || tenant != "" {
			return user, tenant
		}
	}
	return sidelog.RequestUser(r.Context())
}

// first returns the first of a header's values, like Header.Get for a
// canonical key, without canonicalising it again.
func first(vals []string) string {
	if len(vals) == 0 {
		return ""
	}
	return vals[0]
}

// message returns "GET /projects 200" in a single allocation.
func message(method, path string, status int) string {
	var buf [128]byte
	b := append(buf[:0], method...)
	b = append(b, ' ')
	b = append(b, path...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(status), 10)
	return string(b)
}
