package ship

import (
	"bytes"
	"encoding/json"
	"math"
	"slices"
	"testing"

	"go.opentelemetry.io/otel/attribute"

	"github.com/sidelog/sidelog"
)

// refAttrs is the conversion of record attributes by encoding/json (the
// shipper's first implementation): the reference the parser of
// appendAttrs is held to.
func refAttrs(raw json.RawMessage) []attribute.KeyValue {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		return []attribute.KeyValue{attribute.String(AttrInvalidJSON, string(raw))}
	}
	var kv []attribute.KeyValue
	for _, k := range slices.Sorted(mapKeys(obj)) {
		if v := refValue(obj[k]); v.Type() != attribute.EMPTY {
			kv = append(kv, attribute.KeyValue{Key: attribute.Key(k), Value: v})
		}
	}
	return kv
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func refValue(raw json.RawMessage) attribute.Value {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return attribute.StringValue(string(raw))
	}
	return refAny(v)
}

func refAny(v any) attribute.Value {
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
			vals[i] = refAny(e)
		}
		return attribute.SliceValue(vals...)
	case map[string]any:
		var kvs []attribute.KeyValue
		for _, k := range slices.Sorted(mapKeys(v)) {
			kvs = append(kvs, attribute.KeyValue{Key: attribute.Key(k), Value: refAny(v[k])})
		}
		return attribute.MapValue(kvs...)
	}
	return attribute.Value{}
}

func equalValue(a, b attribute.Value) bool {
	if a.Type() != b.Type() {
		return false
	}
	switch a.Type() {
	case attribute.SLICE:
		return slices.EqualFunc(a.AsSlice(), b.AsSlice(), equalValue)
	case attribute.MAP:
		return equalKVs(a.AsMap(), b.AsMap())
	case attribute.EMPTY:
		return true
	}
	return a.String() == b.String()
}

func equalKVs(a, b []attribute.KeyValue) bool {
	return slices.EqualFunc(a, b, func(x, y attribute.KeyValue) bool { return x.Key == y.Key && equalValue(x.Value, y.Value) })
}

func checkAttrs(t *testing.T, raw string) {
	t.Helper()
	col := attribute.String(AttrKind, "app") // a column's attribute before them
	got := appendAttrs([]attribute.KeyValue{col}, json.RawMessage(raw))
	want := append([]attribute.KeyValue{col}, refAttrs(json.RawMessage(raw))...)
	if !equalKVs(got, want) {
		t.Fatalf("attributes of %q:\n got %v\nwant %v", raw, got, want)
	}
}

var attrSeeds = []string{
	`{}`, `{"a":1}`, ` { "b" : [1, 2.5, "x", true, null, {"c": {}}], "a": -0 } `,
	`{"http.response_bytes":1234,"slow":true}`,
	`{"order":{"id":"ord_1","total":12.50,"currency":"EUR","items":3},"customer":{"email":"u@example.com"}}`,
	`{"a":1,"a":2,"b":{"x":1,"x":"two"}}`, `{"n":null,"m":[null]}`,
	`{"big":12345678901234567890,"huge":1e999,"neg":-9223372036854775808,"e":1E2}`,
	`{"esc":"a\"b\\c\u00e9\ud83d\ude00\n","k\u0041":"v"}`, "{\"bad\":\"\xff\xfe\"}", "{\"\xffk\":1}",
	`[1,2]`, `"text"`, `null`, `12`, `{"a":`, `not json`, `{"a":1}x`, ``,
}

func TestAppendAttrs(t *testing.T) {
	for _, s := range attrSeeds {
		if s == "" {
			continue
		}
		checkAttrs(t, s)
	}
}

// FuzzAppendAttrs holds the attribute parser to encoding/json's reading of
// the same text.
func FuzzAppendAttrs(f *testing.F) {
	for _, s := range attrSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if s == "" {
			return // no attributes: nothing to convert
		}
		checkAttrs(t, s)
	})
}

// A member of the attributes named like a column's attribute replaces it;
// every key is there once.
func TestConvert_AttrNamedLikeColumn(t *testing.T) {
	r := sidelog.Record{ID: 7, Kind: sidelog.KindRequest, UserID: "42", Path: "/a", Attrs: json.RawMessage(`{"user.id":"x","z":1}`)}
	s, err := New(nil, Options{Endpoint: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	o := s.template
	convert(&o, &r, nil)
	got := map[string]string{}
	o.WalkAttributes(func(kv attribute.KeyValue) bool {
		if _, dup := got[string(kv.Key)]; dup {
			t.Errorf("key %s twice", kv.Key)
		}
		got[string(kv.Key)] = kv.Value.String()
		return true
	})
	if got[AttrUserID] != "x" || got[AttrURLPath] != "/a" || got["z"] != "1" || got[AttrRecordID] != "7" {
		t.Fatalf("attributes %v", got)
	}
}
