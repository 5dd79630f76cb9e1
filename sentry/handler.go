package sentry

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sidelog/sidelog"
)

// Options configure a Handler.
type Options struct {
	// Level is the lowest level forwarded; nil means slog.LevelError.
	Level slog.Leveler

	// Environment, Release and ServerName label every event.
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
	Client *http.Client
}

// Stats counts what a Handler did with the events it made.
type Stats struct {
	Sent    int64 // accepted by the tracker (2xx)
	Dropped int64 // refused because the queue was full or the handler closed
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
	dsn    *DSN
	opts   Options
	queue  chan []byte
	done   chan struct{}
	mu     sync.RWMutex // guards closed against sends on a closed queue
	closed bool

	sent, dropped, failed atomic.Int64
}

var _ slog.Handler = (*Handler)(nil)

// New returns a Handler that wraps next and posts error records to the
// tracker of dsn, starting its sender goroutine; call Close to drain it.
func New(next slog.Handler, dsn string, opts Options) (*Handler, error) {
	d, err := ParseDSN(dsn)
	if err != nil {
		return nil, err
	}
	if opts.Level == nil {
		opts.Level = slog.LevelError
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = 100
	}
	if opts.Client == nil {
		opts.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if opts.ServerName == "" {
		opts.ServerName, _ = os.Hostname()
	}
	sh := &shared{dsn: d, opts: opts, queue: make(chan []byte, opts.QueueSize), done: make(chan struct{})}
	go sh.run()
	return &Handler{next: next, shared: sh}, nil
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
		h.shared.enqueue(h.envelope(ctx, r))
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

// Stats returns the counters of the handler's sender.
func (h *Handler) Stats() Stats {
	return Stats{Sent: h.shared.sent.Load(), Dropped: h.shared.dropped.Load(), Failed: h.shared.failed.Load()}
}

// Close stops accepting events and waits until the queued ones are sent
// or ctx ends. It does not close the next handler.
func (h *Handler) Close(ctx context.Context) error {
	sh := h.shared
	sh.mu.Lock()
	if !sh.closed {
		sh.closed = true
		close(sh.queue)
	}
	sh.mu.Unlock()
	select {
	case <-sh.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("close sentry handler: %w", ctx.Err())
	}
}

func (sh *shared) enqueue(env []byte) {
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	if sh.closed {
		sh.dropped.Add(1)
		return
	}
	select {
	case sh.queue <- env:
	default:
		sh.dropped.Add(1)
	}
}

func (sh *shared) run() {
	defer close(sh.done)
	for env := range sh.queue {
		if err := sh.post(env); err != nil {
			sh.failed.Add(1)
			continue
		}
		sh.sent.Add(1)
	}
}

func (sh *shared) post(env []byte) error {
	req, err := http.NewRequest(http.MethodPost, sh.dsn.EnvelopeURL(), bytes.NewReader(env))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-sentry-envelope")
	req.Header.Set("X-Sentry-Auth", sh.dsn.authHeader())
	resp, err := sh.opts.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("sentry: %s", resp.Status)
	}
	return nil
}

// event is the subset of Sentry's event payload that we fill.
type event struct {
	EventID     string            `json:"event_id"`
	Timestamp   float64           `json:"timestamp"`
	Platform    string            `json:"platform"`
	Level       string            `json:"level"`
	Logger      string            `json:"logger,omitempty"`
	Message     *message          `json:"logentry,omitempty"`
	Exception   *exceptions       `json:"exception,omitempty"`
	Environment string            `json:"environment,omitempty"`
	Release     string            `json:"release,omitempty"`
	ServerName  string            `json:"server_name,omitempty"`
	User        map[string]string `json:"user,omitempty"`
	Tags        map[string]string `json:"tags,omitempty"`
	Extra       map[string]any    `json:"extra,omitempty"`
	Contexts    map[string]any    `json:"contexts,omitempty"`
}

type message struct {
	Formatted string `json:"formatted"`
}

type exceptions struct {
	Values []exception `json:"values"`
}

type exception struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

// envelope builds the event of r and wraps it in an envelope: a header
// line, an item header line and the event.
func (h *Handler) envelope(ctx context.Context, r slog.Record) []byte {
	sh := h.shared
	id := make([]byte, 16)
	rand.Read(id)
	ev := event{
		EventID: hex.EncodeToString(id), Timestamp: float64(r.Time.UnixMicro()) / 1e6, Platform: "go",
		Level: sentryLevel(r.Level), Message: &message{Formatted: r.Message},
		Environment: sh.opts.Environment, Release: sh.opts.Release, ServerName: sh.opts.ServerName,
		Tags: map[string]string{}, Extra: map[string]any{},
	}
	if r.Time.IsZero() {
		ev.Timestamp = float64(time.Now().UnixMicro()) / 1e6
	}
	for _, ga := range h.attrs {
		h.addAttr(&ev, ga.prefix, ga.attr)
	}
	prefix := strings.Join(h.groups, ".")
	r.Attrs(func(a slog.Attr) bool {
		h.addAttr(&ev, prefix, a)
		return true
	})
	sc := sidelog.ScopeFrom(ctx)
	if sc.UserID != "" {
		ev.User = map[string]string{"id": sc.UserID}
	}
	for k, v := range map[string]string{"request_id": sc.RequestID, "tenant_id": sc.TenantID} {
		if v != "" {
			ev.Tags[k] = v
		}
	}
	if sc.TraceID != "" {
		ev.Contexts = map[string]any{"trace": map[string]string{"trace_id": sc.TraceID, "span_id": sc.SpanID}}
	}
	body, err := json.Marshal(ev)
	if err != nil {
		ev.Extra = map[string]any{"marshal_error": err.Error()}
		body, _ = json.Marshal(ev)
	}
	hdr, _ := json.Marshal(map[string]string{"event_id": ev.EventID, "dsn": sh.dsn.String(), "sent_at": time.Now().UTC().Format(time.RFC3339Nano)})
	item, _ := json.Marshal(map[string]any{"type": "event", "length": len(body), "content_type": "application/json"})
	var b bytes.Buffer
	b.Grow(len(hdr) + len(item) + len(body) + 3)
	b.Write(hdr)
	b.WriteByte('\n')
	b.Write(item)
	b.WriteByte('\n')
	b.Write(body)
	b.WriteByte('\n')
	return b.Bytes()
}

// addAttr files one attribute: the error becomes the exception, the
// logger the event's logger, ids tags, everything else extra.
func (h *Handler) addAttr(ev *event, prefix string, a slog.Attr) {
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
			h.addAttr(ev, p, ga)
		}
		return
	}
	if prefix == "" {
		switch a.Key {
		case sidelog.KeyError, sidelog.KeyErr:
			ev.Exception = &exceptions{Values: []exception{{Type: errorType(a.Value), Value: a.Value.String()}}}
			return
		case sidelog.KeyLogger:
			ev.Logger = a.Value.String()
			return
		case sidelog.KeyUserID:
			ev.User = map[string]string{"id": a.Value.String()}
			return
		case sidelog.KeyRequestID, sidelog.KeyTenantID, sidelog.KeyKind, sidelog.KeyMethod, sidelog.KeyRoute, sidelog.KeyStatus:
			ev.Tags[a.Key] = a.Value.String()
			return
		}
	}
	ev.Extra[join(prefix, a.Key)] = a.Value.Any()
	if e, ok := a.Value.Any().(error); ok {
		ev.Extra[join(prefix, a.Key)] = e.Error()
	}
}

func join(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

func errorType(v slog.Value) string {
	if e, ok := v.Any().(error); ok {
		return fmt.Sprintf("%T", e)
	}
	return "error"
}

func sentryLevel(l slog.Level) string {
	switch {
	case l >= slog.LevelError+4:
		return "fatal"
	case l >= slog.LevelError:
		return "error"
	case l >= slog.LevelWarn:
		return "warning"
	case l >= slog.LevelInfo:
		return "info"
	}
	return "debug"
}
