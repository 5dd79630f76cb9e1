// Package sentry forwards error records of log/slog to Sentry, or to a
// Sentry-compatible tracker (Bugsink, GlitchTip), through the official
// SDK, github.com/getsentry/sentry-go.
//
// Handler wraps another slog.Handler: every record goes to the wrapped
// handler as before, and records at or above a level (error by default)
// are also turned into Sentry events and handed to the SDK's HTTP
// transport, which sends them from one background goroutine. Its queue is
// bounded: when the tracker is slow or down, events are dropped and
// counted, and logging never waits for the network.
//
// The package is the only one in sidelog that imports the SDK: a service
// that uses the handler and the store without it does not compile it in.
package sentry

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	sentrygo "github.com/getsentry/sentry-go"

	"github.com/sidelog/sidelog"
)

// Options configure a Handler.
type Options struct {
	// Level is the lowest level forwarded; nil means slog.LevelError.
	Level slog.Leveler

	// Environment, Release and ServerName label every event (the SDK
	// fills ServerName with the host name when empty).
	Environment string
	Release     string
	ServerName  string

	// Skip, when set, keeps a record that is at or above Level from being
	// forwarded (it still reaches the next handler); for example request
	// records of 5xx answers that carry no error of their own.
	Skip func(r slog.Record) bool

	// QueueSize bounds the events waiting to be sent (default 100); more
	// are dropped and counted.
	QueueSize int

	// Client posts the envelopes; nil means a client with a 10 s timeout.
	// Its Transport is wrapped to count what the tracker accepted.
	Client *http.Client
}

// Stats counts what a Handler did with the events it made.
type Stats struct {
	Sent    int64 // accepted by the tracker (2xx)
	Dropped int64 // not sent: the queue was full, the handler closed, or Close gave up waiting
	Failed  int64 // the post failed or the tracker answered an error
}

// Handler is a slog.Handler that passes every record to the next handler
// and forwards error records to a Sentry-compatible tracker.
type Handler struct {
	next   slog.Handler
	shared *shared
	attrs  []groupedAttr // from WithAttrs, with the groups open then
	groups []string
}

type groupedAttr struct {
	prefix string
	attr   slog.Attr
}

// shared is the state of a Handler and all handlers derived from it.
type shared struct {
	client *sentrygo.Client
	opts   Options
	mu     sync.RWMutex // guards closed against captures during Close
	closed bool

	captured, refused atomic.Int64 // handed to the SDK; refused after Close
	sent, failed      atomic.Int64 // counted by the HTTP round tripper
}

var _ slog.Handler = (*Handler)(nil)

// New returns a Handler that wraps next and forwards error records to the
// tracker of dsn (https://KEY@host/PROJECT), starting the SDK's sender
// goroutine; call Close to drain it.
func New(next slog.Handler, dsn string, opts Options) (*Handler, error) {
	if opts.Level == nil {
		opts.Level = slog.LevelError
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = 100
	}
	sh := &shared{opts: opts}
	hc := &http.Client{Timeout: 10 * time.Second}
	if opts.Client != nil {
		c := *opts.Client
		hc = &c
	}
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	hc.Transport = counting{base, sh}
	transport := sentrygo.NewHTTPTransport()
	transport.BufferSize = opts.QueueSize
	client, err := sentrygo.NewClient(sentrygo.ClientOptions{
		Dsn:                  dsn,
		Environment:          opts.Environment,
		Release:              opts.Release,
		ServerName:           opts.ServerName,
		HTTPClient:           hc,
		Transport:            transport,
		DisableClientReports: true, // every post is an event: Stats stays exact
	})
	if err != nil {
		return nil, fmt.Errorf("sentry: %w", err)
	}
	sh.client = client
	return &Handler{next: next, shared: sh}, nil
}

// counting is the round tripper under the SDK's transport: it counts the
// posts the tracker accepted and those that failed.
type counting struct {
	rt http.RoundTripper
	sh *shared
}

func (c counting) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.rt.RoundTrip(req)
	if err != nil || resp.StatusCode/100 != 2 {
		c.sh.failed.Add(1)
	} else {
		c.sh.sent.Add(1)
	}
	return resp, err
}

// Enabled reports whether either the next handler or the tracker wants
// records at level.
func (h *Handler) Enabled(ctx context.Context, level slog.Level) bool {
	return level >= h.shared.opts.Level.Level() || h.next.Enabled(ctx, level)
}

// Handle passes r to the next handler (when it is enabled for r's level)
// and queues an event for records at or above the forwarding level. Only
// the next handler's error is returned.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	var err error
	if h.next.Enabled(ctx, r.Level) {
		err = h.next.Handle(ctx, r)
	}
	if r.Level >= h.shared.opts.Level.Level() && (h.shared.opts.Skip == nil || !h.shared.opts.Skip(r)) {
		h.shared.capture(h.event(ctx, r))
	}
	return err
}

// WithAttrs returns a Handler whose records, and events, carry attrs.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	h2 := *h
	h2.next = h.next.WithAttrs(attrs)
	h2.attrs = append(h.attrs[:len(h.attrs):len(h.attrs)], grouped(strings.Join(h.groups, "."), attrs)...)
	return &h2
}

// WithGroup returns a Handler that nests later attributes in group name.
func (h *Handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	h2 := *h
	h2.next = h.next.WithGroup(name)
	h2.groups = append(h.groups[:len(h.groups):len(h.groups)], name)
	return &h2
}

func grouped(prefix string, attrs []slog.Attr) []groupedAttr {
	out := make([]groupedAttr, len(attrs))
	for i, a := range attrs {
		out[i] = groupedAttr{prefix, a}
	}
	return out
}

// Stats returns the counters of the handler's sender. Before Close,
// events still queued count as dropped.
func (h *Handler) Stats() Stats {
	sh := h.shared
	sent, failed := sh.sent.Load(), sh.failed.Load()
	return Stats{Sent: sent, Failed: failed, Dropped: sh.captured.Load() - sent - failed + sh.refused.Load()}
}

// Close stops accepting events and waits until the queued ones are sent
// or ctx ends (at most 30 s without a deadline). It does not close the
// next handler.
func (h *Handler) Close(ctx context.Context) error {
	sh := h.shared
	sh.mu.Lock()
	already := sh.closed
	sh.closed = true
	sh.mu.Unlock()
	if already {
		return nil
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
	}
	ok := sh.client.FlushWithContext(ctx)
	sh.client.Close()
	if !ok {
		return fmt.Errorf("close sentry handler: %w", context.Cause(ctx))
	}
	return nil
}

func (sh *shared) capture(ev *sentrygo.Event) {
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	if sh.closed {
		sh.refused.Add(1)
		return
	}
	sh.captured.Add(1)
	sh.client.CaptureEvent(ev, nil, nil)
}

// event builds the Sentry event of r: the message, the error as the
// exception, ids as tags and user, the trace as the trace context, and
// every other attribute in the "attributes" context.
func (h *Handler) event(ctx context.Context, r slog.Record) *sentrygo.Event {
	ev := &sentrygo.Event{
		Timestamp: r.Time, Level: sentryLevel(r.Level), Message: r.Message,
		Tags: map[string]string{}, Contexts: map[string]sentrygo.Context{},
	}
	attrs := sentrygo.Context{}
	for _, ga := range h.attrs {
		addAttr(ev, attrs, ga.prefix, ga.attr)
	}
	prefix := strings.Join(h.groups, ".")
	r.Attrs(func(a slog.Attr) bool {
		addAttr(ev, attrs, prefix, a)
		return true
	})
	if len(attrs) > 0 {
		ev.Contexts["attributes"] = attrs
	}
	if _, panicked := attrs[keyStack]; panicked && len(ev.Exception) == 1 {
		handled := false // recovered by the middleware, but the request failed
		ev.Exception[0].Mechanism = &sentrygo.Mechanism{Type: "panic", Handled: &handled}
	}
	sc := sidelog.ScopeFrom(ctx)
	if sc.UserID != "" {
		ev.User.ID = sc.UserID
	}
	for k, v := range map[string]string{sidelog.KeyRequestID: sc.RequestID, sidelog.KeyTenantID: sc.TenantID} {
		if v != "" {
			ev.Tags[k] = v
		}
	}
	if sc.TraceID != "" {
		ev.Contexts["trace"] = sentrygo.Context{"trace_id": sc.TraceID, "span_id": sc.SpanID}
	}
	return ev
}

// keyStack is httplog's attribute for the stack of a recovered panic
// (httplog.KeyStack; not imported to keep this package's dependencies few).
const keyStack = "stack"

// addAttr files one attribute: the error becomes the exception, the
// logger the event's logger, ids tags, everything else an attribute.
func addAttr(ev *sentrygo.Event, attrs sentrygo.Context, prefix string, a slog.Attr) {
	a.Value = a.Value.Resolve()
	if a.Equal(slog.Attr{}) {
		return
	}
	if a.Value.Kind() == slog.KindGroup {
		p := prefix
		if a.Key != "" {
			p = join(prefix, a.Key)
		}
		for _, ga := range a.Value.Group() {
			addAttr(ev, attrs, p, ga)
		}
		return
	}
	if prefix == "" {
		switch a.Key {
		case sidelog.KeyError, sidelog.KeyErr:
			ev.Exception = []sentrygo.Exception{exception(a.Value)}
			return
		case sidelog.KeyLogger:
			ev.Logger = a.Value.String()
			return
		case sidelog.KeyUserID:
			ev.User.ID = a.Value.String()
			return
		case sidelog.KeyRequestID, sidelog.KeyTenantID, sidelog.KeyKind, sidelog.KeyMethod, sidelog.KeyRoute, sidelog.KeyStatus:
			ev.Tags[a.Key] = a.Value.String()
			return
		}
	}
	v := a.Value.Any()
	if e, ok := v.(error); ok {
		v = e.Error()
	} else if a.Value.Kind() == slog.KindAny {
		v = fmt.Sprint(v) // the SDK marshals events on the caller's goroutine: no arbitrary values
	}
	attrs[join(prefix, a.Key)] = v
}

// exception describes an error attribute: its Go type, its text, and the
// stack the SDK can read from it (errors made by pkg/errors, go-errors).
func exception(v slog.Value) sentrygo.Exception {
	if err, ok := v.Any().(error); ok {
		return sentrygo.Exception{Type: fmt.Sprintf("%T", err), Value: err.Error(), Stacktrace: sentrygo.ExtractStacktrace(err)}
	}
	s := v.String()
	if strings.HasPrefix(s, "panic: ") {
		return sentrygo.Exception{Type: "panic", Value: strings.TrimPrefix(s, "panic: ")}
	}
	return sentrygo.Exception{Type: "error", Value: s}
}

func join(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

func sentryLevel(l slog.Level) sentrygo.Level {
	switch {
	case l >= slog.LevelError+4:
		return sentrygo.LevelFatal
	case l >= slog.LevelError:
		return sentrygo.LevelError
	case l >= slog.LevelWarn:
		return sentrygo.LevelWarning
	case l >= slog.LevelInfo:
		return sentrygo.LevelInfo
	}
	return sentrygo.LevelDebug
}
