package sidelog_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sidelog/sidelog"
)

func walk(attrs string) []string {
	var out []string
	sidelog.WalkAttrs([]byte(attrs), func(path string, v sidelog.AttrValue) bool {
		out = append(out, fmt.Sprintf("%s=%d:%s", path, v.Kind, v.Text))
		return true
	})
	return out
}

func TestWalkAttrs(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in   string
		want []string
	}{
		{`{}`, nil},
		{`null`, nil},
		{`[1]`, nil},
		{`{"a":1}`, []string{"a=1:1"}},
		{` { "a" : 1.50 , "b":"x\"y\u00e9\ud83d\ude00", "c":true,"d":null,"e":false}`, []string{"a=1:1.5", `b=0:x"yé😀`, "c=2:true", "d=3:null", "e=2:false"}},
		{`{"http":{"client":{"os":"linux"}},"n":-2e3}`, []string{"http.client.os=0:linux", "n=1:-2000"}},
		{`{"tags":["a",{"k":1},[2]],"o":{},"l":[]}`, []string{"tags=0:a", "tags.k=1:1", "tags=1:2"}},
		{`{"big":12345678901234567890,"f":0.1}`, []string{"big=1:1.2345678901234567e+19", "f=1:0.1"}},
		{`{"a":1,"b":`, []string{"a=1:1"}},
		{`{"a":"unterminated`, nil},
		{`{"a":tru}`, nil},
		{`{"a":"\ud800"}`, []string{"a=0:\uFFFD"}},
	} {
		if got := walk(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("WalkAttrs(%s) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestAttrPaths(t *testing.T) {
	t.Parallel()
	var got []string
	sidelog.AttrPaths([]byte(`{"a":{"b":{"c":1,"d":2}},"e":[1,2],"f":{}}`), func(p string) { got = append(got, p) })
	want := []string{"a.b.c", "a.b", "a", "a.b.d", "e"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("AttrPaths = %q, want %q", got, want)
	}
}

// flatten is WalkAttrs by encoding/json, for the fuzz target.
func flatten(path string, v any, out *[]string) {
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			p := k
			if path != "" {
				p = path + "." + k
			}
			flatten(p, v[k], out)
		}
	case []any:
		for _, e := range v {
			flatten(path, e, out)
		}
	case string:
		*out = append(*out, fmt.Sprintf("%s=0:%s", path, v))
	case json.Number:
		f, _ := v.Float64()
		*out = append(*out, fmt.Sprintf("%s=1:%s", path, sidelog.FormatAttrNumber(f)))
	case bool:
		*out = append(*out, fmt.Sprintf("%s=2:%v", path, v))
	case nil:
		*out = append(*out, path+"=3:null")
	}
}

// FuzzWalkAttrs checks WalkAttrs against encoding/json on valid objects
// without repeated keys (order aside), and that it never panics on others.
func FuzzWalkAttrs(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `{"a":{"b":[1,"x",{"c":null}]}}`, `{"s":"\u00e9\n"}`, `{"a":1e400}`, `{`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := walk(s)
		var v map[string]any
		d := json.NewDecoder(bytesReader(s))
		d.UseNumber()
		if d.Decode(&v) != nil || d.More() || !json.Valid([]byte(s)) {
			return
		}
		var want []string
		flatten("", v, &want)
		if hasDupKeys(s) {
			return
		}
		slices.Sort(got)
		slices.Sort(want)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("WalkAttrs(%q) = %q, encoding/json gives %q", s, got, want)
		}
	})
}

func bytesReader(s string) *strings.Reader { return strings.NewReader(s) }

// hasDupKeys reports whether some object in the JSON text s repeats a key,
// or a number does not fit a float64: encoding/json and WalkAttrs
// rightly differ there.
func hasDupKeys(s string) bool {
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	type frame struct {
		keys  map[string]bool
		isObj bool
		key   bool // the next string token is a key
	}
	var stack []*frame
	for {
		tok, err := d.Token()
		if err != nil {
			return !utf8.ValidString(s)
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{', '[':
				if top != nil && top.isObj {
					top.key = true
				}
				stack = append(stack, &frame{keys: map[string]bool{}, isObj: v == '{', key: v == '{'})
			default:
				stack = stack[:len(stack)-1]
			}
			continue
		case string:
			if top != nil && top.isObj && top.key {
				if top.keys[v] {
					return true
				}
				top.keys[v] = true
				top.key = false
				continue
			}
		case json.Number:
			if _, err := v.Float64(); err != nil {
				return true
			}
		}
		if top != nil && top.isObj {
			top.key = true
		}
	}
}
