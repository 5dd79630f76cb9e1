package handler

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/sidelog/sidelog"
	"go.opentelemetry.io/otel/trace"
)

// state is what WithAttrs and WithGroup added to a handler: a list linked
// towards the root, never changed once made, so records in the queue can
// point at it. Each node either opens a group or adds attributes.
type state struct {
	parent *state
	group  string      // non-empty: this node opens a group
	attrs  []slog.Attr // resolved; in the innermost group opened so far
	depth  int         // the number of nodes up to the root, this one included
}

func (s *state) withAttrs(as []slog.Attr) *state {
	rs := make([]slog.Attr, len(as))
	for i, a := range as {
		rs[i] = slog.Attr{Key: a.Key, Value: resolveValue(a.Value, 0)}
	}
	return &state{parent: s, attrs: rs, depth: s.nodes() + 1}
}

func (s *state) withGroup(name string) *state {
	return &state{parent: s, group: name, depth: s.nodes() + 1}
}

func (s *state) nodes() int {
	if s == nil {
		return 0
	}
	return s.depth
}

// item is one queued record: what Handle captured for the writer.
type item struct {
	rec     slog.Record
	st      *state
	scope   sidelog.Scope
	traceID trace.TraceID
	spanID  trace.SpanID
	hasSpan bool
	size    int64 // approximate memory kept alive by the queue
}

// captureSpan takes the trace and span ids of an OpenTelemetry span in ctx.
func (it *item) captureSpan(ctx context.Context) {
	if ctx == nil {
		return
	}
	sc := trace.SpanContextFromContext(ctx)
	if sc.IsValid() {
		it.traceID, it.spanID, it.hasSpan = sc.TraceID(), sc.SpanID(), true
	}
}

// itemBase is the fixed cost of a queued record in the bytes bound.
const itemBase = 512

// scanRecord estimates the memory r keeps alive and reports whether it
// holds a LogValuer that must be resolved before the call returns: the
// caller may change the value afterwards, and the writer goroutine must not
// race with it.
func scanRecord(r *slog.Record) (size int64, resolve bool) {
	size = itemBase + int64(len(r.Message))
	r.Attrs(func(a slog.Attr) bool {
		n, res := attrCost(a, 0)
		size += n
		resolve = resolve || res
		return true
	})
	return size, resolve
}

func attrCost(a slog.Attr, depth int) (int64, bool) {
	n := int64(len(a.Key)) + 40
	switch a.Value.Kind() {
	case slog.KindString:
		return n + int64(len(a.Value.String())), false
	case slog.KindLogValuer:
		return n, true
	case slog.KindGroup:
		res := false
		for _, g := range a.Value.Group() {
			if depth > maxResolveDepth {
				break
			}
			m, r := attrCost(g, depth+1)
			n, res = n+m, res || r
		}
		return n, res
	}
	return n, false
}

// maxResolveDepth bounds recursion into nested group values when resolving
// and estimating; deeper values are left for the encoder, which drops them.
const maxResolveDepth = 256

// resolveRecord returns a copy of r with every LogValuer resolved.
func resolveRecord(r slog.Record) slog.Record {
	nr := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	r.Attrs(func(a slog.Attr) bool {
		nr.AddAttrs(slog.Attr{Key: a.Key, Value: resolveValue(a.Value, 0)})
		return true
	})
	return nr
}

// resolveValue resolves v and, inside groups, the values it holds. A
// panicking LogValue becomes the string "!PANIC: ...".
func resolveValue(v slog.Value, depth int) slog.Value {
	rv, _ := resolveChanged(v, depth)
	return rv
}

func resolveChanged(v slog.Value, depth int) (slog.Value, bool) {
	changed := false
	if v.Kind() == slog.KindLogValuer {
		v, changed = safeResolve(v), true
	}
	if v.Kind() != slog.KindGroup || depth > maxResolveDepth {
		return v, changed
	}
	as := v.Group()
	var out []slog.Attr
	for i, a := range as {
		rv, ch := resolveChanged(a.Value, depth+1)
		if ch && out == nil {
			out = make([]slog.Attr, len(as))
			copy(out, as[:i])
		}
		if out != nil {
			out[i] = slog.Attr{Key: a.Key, Value: rv}
		}
	}
	if out == nil {
		return v, changed
	}
	return slog.GroupValue(out...), true
}

// maxLogValues is how many LogValue calls in a row resolving allows, as in
// slog.
const maxLogValues = 100

func safeResolve(v slog.Value) (rv slog.Value) {
	defer func() {
		if r := recover(); r != nil {
			rv = slog.StringValue("!PANIC: " + panicText(r))
		}
	}()
	for i := 0; i < maxLogValues && v.Kind() == slog.KindLogValuer; i++ {
		v = v.LogValuer().LogValue()
	}
	if v.Kind() == slog.KindLogValuer {
		return slog.StringValue("!ERROR: LogValue called too many times")
	}
	return v
}

// panicText prints a recovered value, even one whose String method panics.
func panicText(r any) (s string) {
	defer func() {
		if recover() != nil {
			s = fmt.Sprintf("(unprintable %T)", r)
		}
	}()
	return fmt.Sprint(r)
}
