package handler

// The fuzz target is in the package itself: it drives the encoder without
// a writer goroutine, so each input costs microseconds.

import (
	"encoding/json"
	"log/slog"
	"math"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func FuzzEncodeAttrs(f *testing.F) {
	f.Add("key", "value", uint8(2), uint8(3), []byte("x"), 1.5)
	f.Add("", "\x00\xff\"\\\n", uint8(40), uint8(200), []byte{0, 0xff}, math.NaN())
	f.Add(strings.Repeat("k", 2000), strings.Repeat("é", 500), uint8(0), uint8(1), []byte(nil), math.Inf(1))
	f.Fuzz(fuzzOne)
}

func fuzzOne(t *testing.T, key, val string, depth, n uint8, b []byte, fl float64) {
	{
		for _, o := range []Options{
			{MaxAttrsBytes: 1, MaxAttrs: 4, MaxDepth: 3}, // raised to the minimum size
			{MaxAttrsBytes: 700, MaxAttrs: 16, MaxDepth: 5},
			{},
		} {
			o := o.withDefaults()
			c := newConverter(&o)
			var st *state
			if depth%3 == 1 {
				st = st.withAttrs([]slog.Attr{slog.String(key, val)}).withGroup(val)
			}
			r := slog.NewRecord(time.Now(), slog.LevelInfo, val, 0)
			for i := range int(n) {
				var a slog.Attr
				switch i % 6 {
				case 0:
					a = slog.String(key, val)
				case 1:
					a = slog.Any(val, b)
				case 2:
					a = slog.Float64(key, fl)
				case 3:
					a = slog.Group(key, slog.String(val, key), slog.Group("", slog.Int(key, i)))
				case 4:
					a = slog.Any(key, map[string]string{val: key})
				default:
					a = slog.Attr{Key: key, Value: slog.GroupValue()}
				}
				r.AddAttrs(a)
			}
			nested := slog.String(key, val)
			for range int(depth) {
				nested = slog.Group(key, nested, slog.Int("n", 1))
			}
			r.AddAttrs(nested)
			it := item{rec: r, st: st}
			rec := c.convert(&it)
			if rec.Attrs != nil && (!json.Valid(rec.Attrs) || !utf8.Valid(rec.Attrs) || len(rec.Attrs) > o.MaxAttrsBytes) {
				t.Fatalf("opts %+v: attrs of %d bytes, valid JSON %v, valid UTF-8 %v: %q",
					o, len(rec.Attrs), json.Valid(rec.Attrs), utf8.Valid(rec.Attrs), rec.Attrs)
			}
			if len(rec.Message) > o.MaxMessageBytes || !utf8.ValidString(rec.Message) || strings.ContainsRune(rec.Message, 0) {
				t.Fatalf("message %q", rec.Message)
			}
			if rec.Attrs != nil {
				var m map[string]any
				if err := json.Unmarshal(rec.Attrs, &m); err != nil {
					t.Fatalf("not an object: %v", err)
				}
			}
		}
	}
}
