package handler

import (
	"fmt"
	"log/slog"
	"runtime"
	"strconv"
	"time"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/redact"
)

// maxFieldBytes caps the short text fields of a Record (ids, method, path,
// route, client IP, user agent, logger).
const maxFieldBytes = 4 << 10

// converter turns queued items into sidelog.Records. The writer goroutine
// owns one; it is not safe for concurrent use.
type converter struct {
	o     *Options
	red   *redact.Redactor
	enc   *encoder
	chain []*state
	now   func() time.Time
}

func newConverter(o *Options) *converter {
	return &converter{o: o, red: o.Redactor, enc: newEncoder(o), now: time.Now}
}

func (c *converter) convert(it *item) sidelog.Record {
	r := sidelog.Record{
		Time:    it.rec.Time,
		Level:   it.rec.Level,
		Logger:  c.o.Logger,
		Message: sanitizeText(c.red.String(it.rec.Message), c.o.MaxMessageBytes),
	}
	if r.Time.IsZero() {
		r.Time = c.now() // a row needs a time: the time it was handled
	}
	c.applyScope(&r, it)
	c.enc.reset()
	if t, clamped := sidelog.ClampTime(r.Time); clamped {
		// Stored as 64-bit nanoseconds, it would wrap to another century.
		c.enc.attr(slog.String(sidelog.KeyTimeClamped, r.Time.Format(time.RFC3339Nano)))
		r.Time = t
	}
	if c.o.AddSource && it.rec.PC != 0 {
		c.enc.attr(sourceAttr(it.rec.PC))
	}
	top := c.applyChain(&r, it.st)
	it.rec.Attrs(func(a slog.Attr) bool {
		c.attr(&r, a, top)
		return true
	})
	r.Attrs = c.enc.finish()
	c.privacy(&r)
	return r
}

// privacy applies the personal-data switches and IP truncation.
func (c *converter) privacy(r *sidelog.Record) {
	if c.o.OmitClientIP {
		r.ClientIP = ""
	} else {
		r.ClientIP = c.red.IP(r.ClientIP)
	}
	if c.o.OmitUserAgent {
		r.UserAgent = ""
	}
	if c.o.OmitUserID {
		r.UserID = ""
	}
}

func (c *converter) applyScope(r *sidelog.Record, it *item) {
	s := it.scope
	r.RequestID = sanitizeText(s.RequestID, maxFieldBytes)
	r.TraceID = sanitizeText(s.TraceID, maxFieldBytes)
	r.SpanID = sanitizeText(s.SpanID, maxFieldBytes)
	r.UserID = sanitizeText(s.UserID, maxFieldBytes)
	r.TenantID = sanitizeText(s.TenantID, maxFieldBytes)
	if it.hasSpan && r.TraceID == "" {
		r.TraceID, r.SpanID = it.traceID.String(), it.spanID.String()
	}
}

// applyChain encodes what WithAttrs and WithGroup added, from the root
// down, and reports whether the record's own attributes are at the top
// level (no group is open).
func (c *converter) applyChain(r *sidelog.Record, st *state) bool {
	c.chain = c.chain[:0]
	for s := st; s != nil; s = s.parent {
		c.chain = append(c.chain, s)
	}
	top := true
	for i := len(c.chain) - 1; i >= 0; i-- {
		s := c.chain[i]
		if s.group != "" {
			c.enc.open(s.group)
			top = false
			continue
		}
		for _, a := range s.attrs {
			c.attr(r, a, top)
		}
	}
	clear(c.chain)
	return top
}

// attr fills a Record field from a top-level attribute with a reserved key,
// or encodes the attribute into Attrs.
func (c *converter) attr(r *sidelog.Record, a slog.Attr, top bool) {
	if !top {
		c.enc.attr(a)
		return
	}
	v := a.Value
	if v.Kind() == slog.KindLogValuer {
		v = safeResolve(v)
		a.Value = v
	}
	if a.Key == "" && v.Kind() == slog.KindGroup {
		for _, g := range v.Group() { // an inlined group is top level too
			c.attr(r, g, top)
		}
		return
	}
	if !c.reserved(r, a.Key, v) {
		c.enc.attr(a)
	}
}

// reserved sets the Record field for key from v, and reports whether key
// is reserved and v of a kind that fits the field. Values that do not fit
// stay ordinary attributes.
func (c *converter) reserved(r *sidelog.Record, key string, v slog.Value) bool {
	var p *string
	switch key {
	case sidelog.KeyKind:
		return setKind(r, v)
	case sidelog.KeyStatus:
		return setInt(&r.Status, v)
	case sidelog.KeyDuration:
		if v.Kind() != slog.KindDuration {
			return false
		}
		r.Duration = v.Duration()
		return true
	case sidelog.KeyError, sidelog.KeyErr:
		s, ok := errorText(v)
		if ok {
			r.Error = sanitizeText(c.red.String(s), c.o.MaxMessageBytes)
		}
		return ok
	case sidelog.KeyLogger:
		p = &r.Logger
	case sidelog.KeyRequestID:
		p = &r.RequestID
	case sidelog.KeyTraceID:
		p = &r.TraceID
	case sidelog.KeySpanID:
		p = &r.SpanID
	case sidelog.KeyUserID:
		p = &r.UserID
	case sidelog.KeyTenantID:
		p = &r.TenantID
	case sidelog.KeyMethod:
		p = &r.Method
	case sidelog.KeyPath:
		p = &r.Path
	case sidelog.KeyRoute:
		p = &r.Route
	case sidelog.KeyClientIP:
		p = &r.ClientIP
	case sidelog.KeyUserAgent:
		p = &r.UserAgent
	default:
		return false
	}
	s, ok := text(v)
	if ok {
		if key == sidelog.KeyPath {
			s = c.red.String(s)
		}
		*p = sanitizeText(s, maxFieldBytes)
	}
	return ok
}

func setKind(r *sidelog.Record, v slog.Value) bool {
	switch v.Kind() {
	case slog.KindAny:
		k, ok := v.Any().(sidelog.Kind)
		if ok {
			r.Kind = k
		}
		return ok
	case slog.KindString:
		k, err := sidelog.ParseKind(v.String())
		if err == nil {
			r.Kind = k
		}
		return err == nil
	}
	return false
}

func setInt(p *int, v slog.Value) bool {
	switch v.Kind() {
	case slog.KindInt64:
		*p = int(v.Int64())
	case slog.KindUint64:
		*p = int(v.Uint64())
	default:
		return false
	}
	return true
}

// text returns the text of a scalar value: strings, integers and
// fmt.Stringers (such as netip.Addr).
func text(v slog.Value) (s string, ok bool) {
	switch v.Kind() {
	case slog.KindString:
		return v.String(), true
	case slog.KindInt64:
		return strconv.FormatInt(v.Int64(), 10), true
	case slog.KindUint64:
		return strconv.FormatUint(v.Uint64(), 10), true
	case slog.KindAny:
		st, ok := v.Any().(fmt.Stringer)
		if !ok {
			return "", false
		}
		return callString(st.String), true
	}
	return "", false
}

// errorText returns the text of an error or string value.
func errorText(v slog.Value) (string, bool) {
	switch v.Kind() {
	case slog.KindString:
		return v.String(), true
	case slog.KindAny:
		if err, ok := v.Any().(error); ok {
			return callString(err.Error), true
		}
	}
	return "", false
}

// callString calls a String or Error method, turning a panic into text.
func callString(f func() string) (s string) {
	defer func() {
		if r := recover(); r != nil {
			s = "!PANIC: " + panicText(r)
		}
	}()
	return f()
}

// sourceAttr is the "source" attribute, shaped as slog.JSONHandler's.
func sourceAttr(pc uintptr) slog.Attr {
	fs := runtime.CallersFrames([]uintptr{pc})
	f, _ := fs.Next()
	return slog.Group(slog.SourceKey,
		slog.String("function", f.Function),
		slog.String("file", f.File),
		slog.Int("line", f.Line),
	)
}
