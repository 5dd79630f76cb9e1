package handler_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/sqlite"
)

// TestHandler_TimesOutOfRange logs records dated in years a 64-bit
// nanosecond time cannot hold: they are stored at the nearest end of the
// range with the original time in an attribute, instead of wrapping to
// another century (where retention would delete them as ancient).
func TestHandler_TimesOutOfRange(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "logs.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	h := MustNew(t, db, nil)
	date := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	cases := []struct {
		msg  string
		in   time.Time
		want time.Time // stored time
	}{
		{"year 1", date("0001-01-02T00:00:00Z"), sidelog.MinTime}, // 0001-01-01T00:00Z is the zero time: "no time"
		{"early 1677", date("1677-01-01T00:00:00Z"), sidelog.MinTime},
		{"late 1677", date("1677-09-22T00:00:00Z"), date("1677-09-22T00:00:00Z")},
		{"early 2262", date("2262-04-11T00:00:00Z"), date("2262-04-11T00:00:00Z")},
		{"late 2262", date("2262-04-12T00:00:00Z"), sidelog.MaxTime},
		{"year 3000", date("3000-01-01T00:00:00Z"), sidelog.MaxTime},
	}
	for _, c := range cases {
		if err := h.Handle(ctx, slog.NewRecord(c.in, slog.LevelInfo, c.msg, 0)); err != nil {
			t.Fatal(err)
		}
	}
	MustFlush(t, h)
	if st := h.Stats(); st.Written != int64(len(cases)) {
		t.Fatalf("handler stats %+v, want %d written", st, len(cases))
	}
	for _, c := range cases {
		res, err := db.Query(ctx, sidelog.Filter{Text: `"` + c.msg + `"`}, sidelog.Page{})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Records) != 1 {
			t.Errorf("%s: %d records", c.msg, len(res.Records))
			continue
		}
		r := res.Records[0]
		if !r.Time.Equal(c.want) {
			t.Errorf("%s: stored at %s, want %s", c.msg, r.Time, c.want)
		}
		var attrs map[string]any
		json.Unmarshal(r.Attrs, &attrs)
		clamped, _ := attrs[sidelog.KeyTimeClamped].(string)
		if c.want.Equal(c.in) != (clamped == "") || (clamped != "" && clamped != c.in.Format(time.RFC3339Nano)) {
			t.Errorf("%s: %s = %q (attrs %s)", c.msg, sidelog.KeyTimeClamped, clamped, r.Attrs)
		}
	}
	// Retention as of now must not take a clamped future record for an
	// ancient one.
	if _, err := db.Cleanup(ctx, sidelog.DefaultRetention(), time.Now(), false); err != nil {
		t.Fatal(err)
	}
	if n, err := db.Count(ctx, sidelog.Filter{Since: time.Now()}); n != 3 || err != nil {
		t.Errorf("after cleanup, %d records in the future (%v), want 3", n, err)
	}
}
