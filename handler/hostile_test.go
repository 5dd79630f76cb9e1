package handler_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/handler"
)

type panicValuer struct{}

func (panicValuer) LogValue() slog.Value { panic("boom in LogValue") }

type panicError struct{}

func (*panicError) Error() string { panic("boom in Error") }

// checkRecord asserts what every stored record must satisfy.
func checkRecord(t *testing.T, r sidelog.Record, o handler.Options) {
	t.Helper()
	if len(r.Message) > o.MaxMessageBytes || !utf8.ValidString(r.Message) || strings.ContainsRune(r.Message, 0) {
		t.Errorf("message of %d bytes, valid UTF-8 %v", len(r.Message), utf8.ValidString(r.Message))
	}
	if r.Attrs != nil && (len(r.Attrs) > o.MaxAttrsBytes || !json.Valid(r.Attrs) || !utf8.Valid(r.Attrs)) {
		t.Errorf("attrs of %d bytes, valid JSON %v: %.300s", len(r.Attrs), json.Valid(r.Attrs), r.Attrs)
	}
}

func TestHandler_hostileInput(t *testing.T) {
	t.Parallel()
	o := handler.Options{MaxMessageBytes: 64 << 10, MaxAttrsBytes: 64 << 10, MaxAttrs: 1024, MaxDepth: 32}
	deep := slog.Int("leaf", 1)
	for i := range 1000 {
		deep = slog.Group(fmt.Sprintf("g%d", i), deep)
	}
	many := make([]any, 0, 10000)
	for i := range 10000 {
		many = append(many, slog.Int(fmt.Sprintf("k%d", i), i))
	}
	tests := []struct {
		name  string
		h     func(slog.Handler) slog.Handler
		log   func(*slog.Logger)
		check func(*testing.T, sidelog.Record)
	}{
		{"10 MB message", nil, func(l *slog.Logger) { l.Info(strings.Repeat("x", 10<<20)) },
			func(t *testing.T, r sidelog.Record) {
				i := strings.LastIndex(r.Message, "…[truncated ")
				var n int
				if i >= 0 {
					fmt.Sscanf(r.Message[i:], "…[truncated %d bytes]", &n)
				}
				if i < 0 || i+n != 10<<20 {
					t.Errorf("kept %d bytes, marker says %d cut, of %d", i, n, 10<<20)
				}
			}},
		{"10 MB attribute", nil, func(l *slog.Logger) { l.Info("m", "big", strings.Repeat("y", 10<<20), "after", 1) },
			func(t *testing.T, r sidelog.Record) {
				if !strings.Contains(string(r.Attrs), "…[truncated ") {
					t.Errorf("no marker in %.100s", r.Attrs)
				}
			}},
		{"invalid UTF-8 and NUL", nil, func(l *slog.Logger) {
			l.Info("a\xffb\x00c", "k\xfe\x00", "v\xc3\x28\x00", "user_id", "u\x00\xff")
		}, func(t *testing.T, r sidelog.Record) {
			if r.Message != "a\uFFFDbc" || r.UserID != "u\uFFFD" || string(r.Attrs) != `{"k`+"\uFFFD"+`":"v`+"\uFFFD"+`("}` {
				t.Errorf("got msg %q user %q attrs %s", r.Message, r.UserID, r.Attrs)
			}
		}},
		{"1000-deep group value", nil, func(l *slog.Logger) { l.Info("m", deep) },
			func(t *testing.T, r sidelog.Record) {
				if !strings.Contains(string(r.Attrs), `"!truncated"`) {
					t.Errorf("no marker in %.100s", r.Attrs)
				}
			}},
		{"1000 WithGroup", func(h slog.Handler) slog.Handler {
			for i := range 1000 {
				h = h.WithGroup(fmt.Sprintf("g%d", i)).WithAttrs([]slog.Attr{slog.Int("a", i)})
			}
			return h
		}, func(l *slog.Logger) { l.Info("m", "x", 1) }, func(t *testing.T, r sidelog.Record) {
			if !strings.HasPrefix(string(r.Attrs), `{"g0":{"a":0,"g1":{"a":1,`) {
				t.Errorf("attrs %.100s", r.Attrs)
			}
		}},
		{"10,000 attributes", nil, func(l *slog.Logger) { l.Info("m", many...) },
			func(t *testing.T, r sidelog.Record) {
				m := attrsMap(t, r)
				if len(m) != 1025 || m["!truncated"] == nil {
					t.Errorf("%d keys, marker %v", len(m), m["!truncated"])
				}
			}},
		{"panicking LogValuer and Error", nil, func(l *slog.Logger) {
			l.Info("m", "v", panicValuer{}, "e", &panicError{}, "g", slog.GroupValue(slog.Any("in", panicValuer{})))
		}, func(t *testing.T, r sidelog.Record) {
			m := attrsMap(t, r)
			if m["v"] != "!PANIC: boom in LogValue" || m["e"] != "!PANIC: boom in Error" {
				t.Errorf("attrs %s", r.Attrs)
			}
		}},
		{"panicking LogValuer in WithAttrs", func(h slog.Handler) slog.Handler {
			return h.WithAttrs([]slog.Attr{slog.Any("v", panicValuer{}), slog.Any("error", &panicError{})})
		}, func(l *slog.Logger) { l.Info("m") }, func(t *testing.T, r sidelog.Record) {
			if string(r.Attrs) != `{"v":"!PANIC: boom in LogValue"}` || r.Error != "!PANIC: boom in Error" {
				t.Errorf("attrs %s, error %q", r.Attrs, r.Error)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := &memWriter{}
			oo := o
			var h slog.Handler = MustNew(t, w, &oo)
			if tt.h != nil {
				h = tt.h(h)
			}
			r := logOne(t, h, w, tt.log)
			checkRecord(t, r, o)
			tt.check(t, r)
		})
	}
}
