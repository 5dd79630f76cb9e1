package gen

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strconv"

	"github.com/sidelog/sidelog"
)

// Attrs returns the attributes of the slog call an application or the
// middleware makes for r: its columns under sidelog's Key* names, typed
// (the status an int, the duration a time.Duration), empty ones left out,
// then the members of r.Attrs in their order, nested objects as groups,
// integers as int64, other numbers as float64, arrays as []any. Attrs that
// are not a JSON object are passed whole as the string attribute "attrs".
// Benchmarks use it to log gen's records the way applications log.
func Attrs(r sidelog.Record) []slog.Attr {
	as := make([]slog.Attr, 0, 16)
	str := func(k, v string) {
		if v != "" {
			as = append(as, slog.String(k, v))
		}
	}
	str(sidelog.KeyKind, r.Kind.String())
	str(sidelog.KeyLogger, r.Logger)
	str(sidelog.KeyRequestID, r.RequestID)
	str(sidelog.KeyUserID, r.UserID)
	str(sidelog.KeyTenantID, r.TenantID)
	str(sidelog.KeyMethod, r.Method)
	str(sidelog.KeyPath, r.Path)
	str(sidelog.KeyRoute, r.Route)
	if r.Status != 0 {
		as = append(as, slog.Int(sidelog.KeyStatus, r.Status))
	}
	if r.Duration != 0 {
		as = append(as, slog.Duration(sidelog.KeyDuration, r.Duration))
	}
	str(sidelog.KeyClientIP, r.ClientIP)
	str(sidelog.KeyUserAgent, r.UserAgent)
	str(sidelog.KeyError, r.Error)
	if len(r.Attrs) > 0 {
		extra, err := jsonAttrs(r.Attrs)
		if err != nil {
			return append(as, slog.String("attrs", string(r.Attrs)))
		}
		as = append(as, extra...)
	}
	return as
}

// jsonAttrs decodes a JSON object into slog attributes in its order.
func jsonAttrs(b []byte) ([]slog.Attr, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if t, err := d.Token(); err != nil || t != json.Delim('{') {
		return nil, errNotObject
	}
	as, err := objectAttrs(d)
	if err == nil && d.More() {
		err = errNotObject
	}
	return as, err
}

var errNotObject = &json.UnsupportedValueError{Str: "attributes are not one JSON object"}

// objectAttrs reads the members of an object whose '{' has been read.
func objectAttrs(d *json.Decoder) ([]slog.Attr, error) {
	var as []slog.Attr
	for d.More() {
		t, err := d.Token()
		if err != nil {
			return nil, err
		}
		key, _ := t.(string)
		v, err := value(d)
		if err != nil {
			return nil, err
		}
		as = append(as, slog.Attr{Key: key, Value: v})
	}
	_, err := d.Token() // '}'
	return as, err
}

func value(d *json.Decoder) (slog.Value, error) {
	t, err := d.Token()
	if err != nil {
		return slog.Value{}, err
	}
	switch t := t.(type) {
	case json.Delim:
		if t == '{' {
			as, err := objectAttrs(d)
			return slog.GroupValue(as...), err
		}
		var list []any
		for d.More() {
			var v any
			if err := d.Decode(&v); err != nil {
				return slog.Value{}, err
			}
			list = append(list, v)
		}
		_, err := d.Token() // ']'
		return slog.AnyValue(list), err
	case json.Number:
		if i, err := strconv.ParseInt(string(t), 10, 64); err == nil {
			return slog.Int64Value(i), nil
		}
		f, err := t.Float64()
		return slog.Float64Value(f), err
	case string:
		return slog.StringValue(t), nil
	case bool:
		return slog.BoolValue(t), nil
	}
	return slog.AnyValue(nil), nil
}
