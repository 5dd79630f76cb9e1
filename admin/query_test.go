package admin

import (
	"strings"
	"testing"
	"time"

	"github.com/sidelog/sidelog"
)

func TestReplaceTerms(t *testing.T) {
	since := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, c := range []struct{ in, want string }{
		{"", "since:2026-01-02T03:04:05Z until:2026-01-02T04:04:05Z"},
		{`level>=warn since:1h "a since:x b" SINCE:2d until:5m`, `level>=warn "a since:x b" since:2026-01-02T03:04:05Z until:2026-01-02T04:04:05Z`},
		{`path:"/a b" x`, `path:"/a b" x since:2026-01-02T03:04:05Z until:2026-01-02T04:04:05Z`},
		{`"esc \" since:1h" y`, `"esc \" since:1h" y since:2026-01-02T03:04:05Z until:2026-01-02T04:04:05Z`},
	} {
		if got := withRange(c.in, since, since.Add(time.Hour)); got != c.want {
			t.Errorf("withRange(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if got := quoteValue(`a "b"\c`); got != `"a \"b\"\\c"` {
		t.Errorf("quoteValue: %s", got)
	}
	// A quoted value reads back as itself.
	f, err := sidelog.ParseQuery("path:"+quoteValue(`/a "b" c`), time.Now())
	if err != nil || f.Path != `/a "b" c` {
		t.Errorf("quoted path: %q %v", f.Path, err)
	}
}

// FuzzSplitTerms checks the term splitter the quick filters and chart
// links rewrite queries with: terms hold no unquoted space, splitting the
// joined terms gives them back, and replacing the time range of a query
// the parser accepts gives a query it still accepts.
func FuzzSplitTerms(f *testing.F) {
	for _, s := range []string{"", "a b", `path:"/a b" level>=warn`, `"unterminated`, `x\" y`, `since:1h until:"2026-01-01T00:00:00Z"`, "\t\n a"} {
		f.Add(s)
	}
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, q string) {
		terms := splitTerms(q)
		again := splitTerms(strings.Join(terms, " "))
		if strings.Join(again, "\x00") != strings.Join(terms, "\x00") {
			t.Fatalf("split(join(split(%q))) = %q, want %q", q, again, terms)
		}
		if _, err := sidelog.ParseQuery(q, now); err != nil {
			return
		}
		r := withRange(q, now.Add(-time.Hour), now)
		if _, err := sidelog.ParseQuery(r, now); err != nil {
			t.Fatalf("withRange(%q) = %q: %v", q, r, err)
		}
	})
}
