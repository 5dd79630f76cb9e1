package ship

import (
	"encoding/json"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"
	otellog "go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/trace"

	"github.com/sidelog/sidelog"
)

// Attribute keys of the OTLP log records. Where the OpenTelemetry semantic
// conventions name a value, that name is used; sidelog's own columns that
// have none are under "sidelog.".
const (
	AttrHTTPMethod  = "http.request.method"       // Record.Method
	AttrURLPath     = "url.path"                  // Record.Path
	AttrHTTPRoute   = "http.route"                // Record.Route
	AttrHTTPStatus  = "http.response.status_code" // Record.Status
	AttrUserID      = "user.id"                   // Record.UserID
	AttrClientAddr  = "client.address"            // Record.ClientIP
	AttrUserAgent   = "user_agent.original"       // Record.UserAgent
	AttrException   = "exception.message"         // Record.Error
	AttrRecordID    = "sidelog.record.id"         // Record.ID: unique within one host's log database, growing in write order
	AttrKind        = "sidelog.kind"              // Record.Kind by name: app, request, audit, security
	AttrLogger      = "sidelog.logger"            // Record.Logger
	AttrRequestID   = "sidelog.request_id"        // Record.RequestID
	AttrTenantID    = "sidelog.tenant_id"         // Record.TenantID
	AttrDurationNS  = "sidelog.duration_ns"       // Record.Duration in nanoseconds
	AttrRawTraceID  = "sidelog.trace_id"          // Record.TraceID when it is not a valid W3C trace id
	AttrRawSpanID   = "sidelog.span_id"           // Record.SpanID when it is not a valid W3C span id
	AttrInvalidJSON = "sidelog.attrs"             // Record.Attrs when it is not a JSON object
)

// Severity returns the OpenTelemetry severity number of a slog level, as
// the OpenTelemetry slog bridge maps it: DEBUG 5, INFO 9, WARN 13, ERROR 17,
// and levels in between onto the numbers in between.
func Severity(l slog.Level) otellog.Severity {
	n := int(l) + 9
	return otellog.Severity(min(max(n, 1), 24))
}

// convert fills o, a copy of the shipper's template record (resource and
// scope set), with the OTLP form of r: its time, severity, message as the
// body, trace context and every other column as an attribute. kv is
// scratch space for the attributes (o keeps a copy); convert returns it
// for the next call.
func convert(o *sdklog.Record, r *sidelog.Record, kv []attribute.KeyValue) []attribute.KeyValue {
	o.SetTimestamp(r.Time)
	o.SetObservedTimestamp(r.Time)
	o.SetSeverity(Severity(r.Level))
	o.SetSeverityText(r.Level.String())
	o.SetBody(attribute.StringValue(r.Message))
	kv = append(kv[:0], attribute.Int64(AttrRecordID, r.ID), attribute.String(AttrKind, r.Kind.String()))
	str := func(k, v string) {
		if v != "" {
			kv = append(kv, attribute.String(k, v))
		}
	}
	str(AttrLogger, r.Logger)
	str(AttrRequestID, r.RequestID)
	str(AttrUserID, r.UserID)
	str(AttrTenantID, r.TenantID)
	str(AttrHTTPMethod, r.Method)
	str(AttrURLPath, r.Path)
	str(AttrHTTPRoute, r.Route)
	if r.Status != 0 {
		kv = append(kv, attribute.Int(AttrHTTPStatus, r.Status))
	}
	if r.Duration != 0 {
		kv = append(kv, attribute.Int64(AttrDurationNS, int64(r.Duration)))
	}
	str(AttrClientAddr, r.ClientIP)
	str(AttrUserAgent, r.UserAgent)
	str(AttrException, r.Error)
	var traceID trace.TraceID
	if r.TraceID != "" {
		if id, err := trace.TraceIDFromHex(r.TraceID); err == nil {
			traceID = id
		} else {
			str(AttrRawTraceID, r.TraceID)
		}
	}
	o.SetTraceID(traceID)
	var spanID trace.SpanID
	if r.SpanID != "" {
		if id, err := trace.SpanIDFromHex(r.SpanID); err == nil && traceID.IsValid() {
			spanID = id
		} else {
			str(AttrRawSpanID, r.SpanID)
		}
	}
	o.SetSpanID(spanID)
	cols := len(kv)
	kv = appendAttrs(kv, r.Attrs)
	if len(kv) > cols {
		// A member of the attributes named like a column's attribute
		// wins (as the SDK's own de-duplication had it; that is off, the
		// keys being unique here).
		attrs := kv[cols:] // sorted by key, each key once
		n := 0
		for _, c := range kv[:cols] {
			if _, found := slices.BinarySearchFunc(attrs, c.Key, func(a attribute.KeyValue, k attribute.Key) int {
				return strings.Compare(string(a.Key), string(k))
			}); !found {
				kv[n] = c
				n++
			}
		}
		if n < cols {
			kv = append(kv[:n], attrs...)
		}
	}
	o.SetAttributes(kv...)
	return kv
}

// appendAttrs adds the members of a JSON object as attributes, keeping
// nested objects and arrays as maps and slices; integers that fit stay
// integers, other numbers become floats, object members are sorted by key
// and the last of duplicate keys wins. Null members are left out.
// Anything but an object is kept whole as text under AttrInvalidJSON.
func appendAttrs(kv []attribute.KeyValue, raw json.RawMessage) []attribute.KeyValue {
	if len(raw) == 0 {
		return kv
	}
	p := jsonParser{s: string(raw)}
	p.space()
	if !json.Valid(raw) || p.s[p.i] != '{' {
		return append(kv, attribute.String(AttrInvalidJSON, p.s)) // not JSON, or an array, a string, null
	}
	start := len(kv)
	kv = p.members(kv)
	kept := slices.DeleteFunc(kv[start:], func(a attribute.KeyValue) bool { return a.Value.Type() == attribute.EMPTY })
	return kv[:start+len(kept)]
}

// jsonParser reads attribute values out of text that json.Valid accepted;
// it does not check the syntax again. Strings without escapes are
// substrings of the text: one allocation for a whole record's attributes.
type jsonParser struct {
	s string
	i int
}

func (p *jsonParser) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n' || p.s[p.i] == '\r') {
		p.i++
	}
}

// members appends the members of the object at p.i, sorted by key, the
// last of equal keys kept (as encoding/json does).
func (p *jsonParser) members(kv []attribute.KeyValue) []attribute.KeyValue {
	start := len(kv)
	p.i++ // {
	p.space()
	if p.s[p.i] == '}' {
		p.i++
		return kv
	}
	for {
		p.space()
		k := p.str()
		p.space()
		p.i++ // :
		p.space()
		kv = append(kv, attribute.KeyValue{Key: attribute.Key(k), Value: p.value()})
		p.space()
		p.i++ // , or }
		if p.s[p.i-1] == '}' {
			break
		}
	}
	m := kv[start:]
	slices.SortStableFunc(m, func(a, b attribute.KeyValue) int { return strings.Compare(string(a.Key), string(b.Key)) })
	out := m[:0]
	for i, a := range m {
		if i+1 < len(m) && m[i+1].Key == a.Key {
			continue // a later member has the same key
		}
		out = append(out, a)
	}
	return kv[:start+len(out)]
}

func (p *jsonParser) value() attribute.Value {
	switch p.s[p.i] {
	case '"':
		return attribute.StringValue(p.str())
	case '{':
		return attribute.MapValue(p.members(nil)...)
	case '[':
		p.i++
		p.space()
		var vals []attribute.Value
		if p.s[p.i] == ']' {
			p.i++
			return attribute.SliceValue()
		}
		for {
			p.space()
			vals = append(vals, p.value())
			p.space()
			p.i++ // , or ]
			if p.s[p.i-1] == ']' {
				return attribute.SliceValue(vals...)
			}
		}
	case 't':
		p.i += len("true")
		return attribute.BoolValue(true)
	case 'f':
		p.i += len("false")
		return attribute.BoolValue(false)
	case 'n':
		p.i += len("null")
		return attribute.Value{}
	}
	j := p.i
	for p.i < len(p.s) && strings.IndexByte("+-0123456789.eE", p.s[p.i]) >= 0 {
		p.i++
	}
	return number(p.s[j:p.i])
}

// str reads the string at p.i.
func (p *jsonParser) str() string {
	j := p.i + 1
	k := j
	for p.s[k] != '"' && p.s[k] != '\\' {
		k++
	}
	if p.s[k] == '"' && utf8.ValidString(p.s[j:k]) {
		p.i = k + 1
		return p.s[j:k]
	}
	// Escapes, or bytes that are not UTF-8 (which encoding/json replaces).
	for p.s[k] != '"' {
		if p.s[k] == '\\' {
			k++
		}
		k++
	}
	var out string
	json.Unmarshal([]byte(p.s[p.i:k+1]), &out)
	p.i = k + 1
	return out
}

// number converts a JSON number: an integer that fits int64 stays one,
// others become floats, and one too large for a float is kept as text.
func number(s string) attribute.Value {
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return attribute.Int64Value(i)
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsInf(f, 0) {
		return attribute.Float64Value(f)
	}
	return attribute.StringValue(s)
}
