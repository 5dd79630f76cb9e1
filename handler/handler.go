// Package handler is sidelog's log/slog handler: it hands records to one
// writer goroutine that stores them in batches through a
// [sidelog.BatchWriter], so a log call never waits for the disk.
//
// The caller only clones the slog.Record, captures the context's
// [sidelog.Scope] (and an OpenTelemetry span context when there is no
// trace id in the scope) and puts them into a bounded queue. Encoding the
// attributes as JSON, mapping the reserved keys of package sidelog to
// Record fields, truncation and sanitising all happen in the writer
// goroutine. See docs/handler.md for the options, the overflow policy and
// what happens when the database is unavailable.
package handler

import (
	"context"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/redact"
)

// Overflow says what Handle does when the queue is full.
type Overflow int

const (
	// Block makes the caller wait its turn for room in the queue, first
	// come first served, for as long as the writer makes progress. The
	// record is dropped and counted only when the writer is stalled: it
	// has freed no room for Options.BlockTimeout and is not inside a
	// WriteBatch call that has run less than 10 × BlockTimeout without
	// failing. Until it frees room again, later callers that find the
	// queue full are dropped at once.
	Block Overflow = iota
	// DropNewest drops the record at once and counts it.
	DropNewest
)

// Defaults of the Options fields left zero.
const (
	DefaultQueueSize       = 65536
	DefaultQueueBytes      = 32 << 20
	DefaultBatchSize       = 1000
	DefaultMaxBatchSize    = 16384
	DefaultFlushInterval   = 200 * time.Millisecond
	DefaultBlockTimeout    = 5 * time.Second
	DefaultMaxRetryTime    = 10 * time.Second
	DefaultMaxMessageBytes = 64 << 10
	DefaultMaxAttrsBytes   = 64 << 10
	DefaultMaxAttrs        = 1024
	DefaultMaxDepth        = 32
)

// ErrDropped is returned by Handle when the record was not queued: the
// queue was full (it is counted in Stats.Dropped) or the handler was closed
// (the record went to the fallback and is counted in Stats.Failed).
// slog.Logger ignores it.
var ErrDropped = sidelog.Errorf(sidelog.EUNAVAILABLE, "log record dropped")

// Options configure a Handler. The zero value is usable: every zero field
// takes its default.
type Options struct {
	// Level is the minimum level handled; nil means slog.LevelInfo. A
	// *slog.LevelVar changes it at run time.
	Level slog.Leveler

	// Logger is the Record.Logger of every record, unless a record carries
	// a "logger" attribute.
	Logger string

	// AddSource adds the caller's location as the attribute "source", an
	// object {"function", "file", "line"} as in slog.JSONHandler. It is an
	// attribute, not Record.Logger, so the logger name stays a small set of
	// values that filter well.
	AddSource bool

	// QueueSize bounds the number of queued records (default 65536);
	// QueueBytes their approximate memory (default 32 MiB), counting the
	// message and the attributes' strings the queue keeps alive.
	QueueSize  int
	QueueBytes int64

	// Overflow is the policy when the queue is full (default Block).
	// BlockTimeout (default 5s) is how long Block waits while the writer
	// frees no room at all: it bounds a stall of the store, not the wait
	// for a queue that is merely full.
	Overflow     Overflow
	BlockTimeout time.Duration

	// BatchSize queued records start a WriteBatch (default 1000); a batch
	// is also written when FlushInterval (default 200ms) has passed.
	BatchSize     int
	FlushInterval time.Duration

	// MaxBatchSize bounds a batch that grows with the backlog (default
	// 16384): when the writer finds more than BatchSize records queued,
	// it writes up to MaxBatchSize of them in one WriteBatch, because a
	// store pays per commit and per index page touched, not only per
	// row. A writer that keeps up writes batches of about BatchSize. A
	// batch is also kept to about a quarter of BlockTimeout at the
	// store's recent speed, so that producers waiting under Block see
	// progress well within their timeout.
	MaxBatchSize int

	// MaxRetryTime is how long a batch is retried while the store answers
	// EUNAVAILABLE before it goes to the fallback (default 10s).
	MaxRetryTime time.Duration

	// Fallback receives, as JSON lines, the records that cannot be stored
	// (default os.Stderr). Writes to it are serialised.
	Fallback io.Writer

	// Caps on what one record may hold. Longer messages and attribute
	// JSON are cut with a visible "…[truncated N bytes]" marker.
	MaxMessageBytes int // default 64 KiB; also caps Record.Error
	MaxAttrsBytes   int // default 64 KiB, the whole Attrs JSON
	MaxAttrs        int // default 1024 attributes, groups included
	MaxDepth        int // default 32 levels of groups

	// Redactor removes secrets before a record is stored: from the
	// message, the error, the path, every attribute at any depth (by key
	// and by value) and, with its TruncateIPs option, the client IP. nil
	// means redact.Default(), so redaction is on unless turned off with
	// redact.Disabled(). It runs in the writer goroutine, not the caller's.
	// See SECURITY.md for what the default removes.
	Redactor *redact.Redactor

	// Personal-data switches: leave the client IP, the user agent, or the
	// user id out of every record. Each costs the operator a way to
	// investigate: no client IP means no tracing of an attack or abuse to
	// its source address; no user agent means no telling browsers, bots
	// and scripts apart; no user id means no "everything this user did"
	// (nor purge --user, which finds records by it). docs/handler.md.
	OmitClientIP  bool
	OmitUserAgent bool
	OmitUserID    bool
}

func (o *Options) withDefaults() Options {
	var r Options
	if o != nil {
		r = *o
	}
	if r.Level == nil {
		r.Level = slog.LevelInfo
	}
	setDefault(&r.QueueSize, DefaultQueueSize)
	setDefault(&r.QueueBytes, DefaultQueueBytes)
	setDefault(&r.BlockTimeout, DefaultBlockTimeout)
	setDefault(&r.BatchSize, DefaultBatchSize)
	setDefault(&r.MaxBatchSize, DefaultMaxBatchSize)
	setDefault(&r.FlushInterval, DefaultFlushInterval)
	setDefault(&r.MaxRetryTime, DefaultMaxRetryTime)
	setDefault(&r.MaxMessageBytes, DefaultMaxMessageBytes)
	setDefault(&r.MaxAttrsBytes, DefaultMaxAttrsBytes)
	setDefault(&r.MaxAttrs, DefaultMaxAttrs)
	setDefault(&r.MaxDepth, DefaultMaxDepth)
	// The JSON encoder keeps room for closing braces and the truncation
	// marker inside MaxAttrsBytes.
	r.MaxAttrsBytes = max(r.MaxAttrsBytes, minAttrsBytes+r.MaxDepth)
	r.MaxMessageBytes = max(r.MaxMessageBytes, 64)
	if r.Fallback == nil {
		r.Fallback = os.Stderr
	}
	if r.Redactor == nil {
		r.Redactor = redact.Default()
	}
	return r
}

func setDefault[T int | int64 | time.Duration](p *T, def T) {
	if *p <= 0 {
		*p = def
	}
}

// Handler is a slog.Handler that stores records through a
// sidelog.BatchWriter. Handlers derived with WithAttrs and WithGroup share
// the queue, the writer goroutine and the counters of the Handler New
// returned; Flush, Close and Stats on any of them act on that pipeline.
type Handler struct {
	p  *pipeline
	st *state // nil for a handler with no attributes or groups
}

var _ slog.Handler = (*Handler)(nil)

// New returns a Handler writing to w and starts its writer goroutine. Call
// Close to drain the queue and stop it. opts may be nil.
func New(w sidelog.BatchWriter, opts *Options) *Handler {
	o := opts.withDefaults()
	return &Handler{p: newPipeline(w, o)}
}

// Enabled reports whether records at level are handled.
func (h *Handler) Enabled(_ context.Context, level slog.Level) bool {
	return level >= h.p.level.Level()
}

// Handle queues r for the writer goroutine. It never waits for the disk:
// with the Block policy and a full queue it waits its turn while the
// writer makes progress, and at most Options.BlockTimeout once it stops.
// It returns ErrDropped when the record was not queued. The context is
// read for its sidelog.Scope and OpenTelemetry span; its cancellation is
// ignored.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	var it item
	it.rec = r.Clone()
	it.st = h.st
	it.scope = sidelog.ScopeFrom(ctx)
	if it.scope.TraceID == "" {
		it.captureSpan(ctx)
	}
	size, resolve := scanRecord(&it.rec)
	if resolve {
		it.rec = resolveRecord(it.rec)
	}
	it.size = size
	return h.p.enqueue(&it)
}

// WithAttrs returns a Handler whose records carry attrs, inside the groups
// opened so far. LogValuers among them are resolved now.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	return &Handler{p: h.p, st: h.st.withAttrs(attrs)}
}

// WithGroup returns a Handler whose later attributes, the record's
// included, are nested in a group named name. An empty name returns h.
func (h *Handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return &Handler{p: h.p, st: h.st.withGroup(name)}
}

// Flush waits until every record queued before the call has been written
// or given to the fallback. It returns ctx's error if ctx ends first, and
// an EUNAVAILABLE error if some records went to the fallback meanwhile.
func (h *Handler) Flush(ctx context.Context) error { return h.p.flush(ctx) }

// Close writes everything queued and stops the writer goroutine. If ctx
// ends first, what is left goes to the fallback and Close returns ctx's
// error. Close may be called more than once; after it, Handle writes
// records to the fallback and counts them as failed.
func (h *Handler) Close(ctx context.Context) error { return h.p.close(ctx) }

// Stats returns the pipeline's counters.
func (h *Handler) Stats() Stats { return h.p.stats() }

// Stats counts what the pipeline did since New.
type Stats struct {
	Written    int64 // records the store committed
	Dropped    int64 // records refused because the queue was full
	Failed     int64 // records written to the fallback instead of the store
	Retries    int64 // WriteBatch calls that failed and were retried
	QueueDepth int   // records waiting for the writer
	QueueBytes int64 // their approximate memory
	Batches    int64 // committed WriteBatch calls

	// Blocked counts the Handle calls that waited for room under the
	// Block policy and have returned (queued or dropped), BlockedTime
	// their summed wait; Waiting is the callers waiting now.
	Blocked     int64
	BlockedTime time.Duration
	Waiting     int

	LastBatchLatency time.Duration    // duration of the last committed WriteBatch
	MaxBatchLatency  time.Duration    // the longest one
	BatchLatency     LatencyHistogram // every committed WriteBatch's duration

	// Redacted counts the values the Redactor replaced, by rule name
	// (redact.RuleJWT, ...). The default Redactor is shared by every
	// handler of the process, and so are its counts.
	Redacted map[string]int64
}
