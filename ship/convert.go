package ship

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"math"
	"slices"

	"go.opentelemetry.io/otel/attribute"
	otellog "go.opentelemetry.io/otel/log"
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

// convert builds the OTLP form of r: its time, severity, message as the
// body, trace context and every other column as an attribute.
func convert(r *sidelog.Record) (context.Context, otellog.Record) {
	var o otellog.Record
	o.SetTimestamp(r.Time)
	o.SetObservedTimestamp(r.Time)
	o.SetSeverity(Severity(r.Level))
	o.SetSeverityText(r.Level.String())
	o.SetBody(attribute.StringValue(r.Message))
	kv := make([]attribute.KeyValue, 0, 16)
	kv = append(kv, attribute.Int64(AttrRecordID, r.ID), attribute.String(AttrKind, r.Kind.String()))
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
	var sc trace.SpanContextConfig
	if r.TraceID != "" {
		if id, err := trace.TraceIDFromHex(r.TraceID); err == nil {
			sc.TraceID = id
		} else {
			str(AttrRawTraceID, r.TraceID)
		}
	}
	if r.SpanID != "" {
		if id, err := trace.SpanIDFromHex(r.SpanID); err == nil && sc.TraceID.IsValid() {
			sc.SpanID = id
		} else {
			str(AttrRawSpanID, r.SpanID)
		}
	}
	kv = appendAttrs(kv, r.Attrs)
	o.AddAttributes(kv...)
	ctx := context.Background()
	if sc.TraceID.IsValid() {
		ctx = trace.ContextWithSpanContext(ctx, trace.NewSpanContext(sc))
	}
	return ctx, o
}

// appendAttrs adds the members of a JSON object as attributes, keeping
// nested objects and arrays as maps and slices. Anything but an object is
// kept whole as text under AttrInvalidJSON.
func appendAttrs(kv []attribute.KeyValue, raw json.RawMessage) []attribute.KeyValue {
	if len(raw) == 0 {
		return kv
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		return append(kv, attribute.String(AttrInvalidJSON, string(raw)))
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		kv = append(kv, attribute.KeyValue{Key: attribute.Key(k), Value: jsonValue(obj[k])})
	}
	return kv
}

// jsonValue converts one JSON value: integers that fit stay integers,
// other numbers become floats, null becomes an empty value.
func jsonValue(raw json.RawMessage) attribute.Value {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return attribute.StringValue(string(raw))
	}
	return anyValue(v)
}

func anyValue(v any) attribute.Value {
	switch v := v.(type) {
	case string:
		return attribute.StringValue(v)
	case bool:
		return attribute.BoolValue(v)
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return attribute.Int64Value(i)
		}
		if f, err := v.Float64(); err == nil && !math.IsInf(f, 0) {
			return attribute.Float64Value(f)
		}
		return attribute.StringValue(v.String())
	case []any:
		vals := make([]attribute.Value, len(v))
		for i, e := range v {
			vals[i] = anyValue(e)
		}
		return attribute.SliceValue(vals...)
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		kvs := make([]attribute.KeyValue, len(keys))
		for i, k := range keys {
			kvs[i] = attribute.KeyValue{Key: attribute.Key(k), Value: anyValue(v[k])}
		}
		return attribute.MapValue(kvs...)
	}
	return attribute.Value{} // null
}
