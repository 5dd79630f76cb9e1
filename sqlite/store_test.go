package sqlite_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/sqlite"
)

// MustOpen opens a new log database in a temporary directory.
func MustOpen(tb testing.TB) *sqlite.DB {
	tb.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "logs.db"), sqlite.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func MustWrite(tb testing.TB, db *sqlite.DB, recs []sidelog.Record) {
	tb.Helper()
	if err := db.WriteBatch(context.Background(), recs); err != nil {
		tb.Fatal(err)
	}
}

var t0 = time.Date(2026, 11, 20, 12, 0, 0, 123456789, time.UTC)

func fullRecord() sidelog.Record {
	return sidelog.Record{
		Time: t0, Level: slog.LevelWarn, Kind: sidelog.KindRequest, Logger: "http",
		Message: "GET /projects 404", RequestID: "req-1", TraceID: "4bf92f3577b34da6a3ce929d0e0e4736",
		SpanID: "00f067aa0ba902b7", UserID: "42", TenantID: "7", Method: "GET", Path: "/projects",
		Route: "GET /projects", Status: 404, Duration: 1234567 * time.Nanosecond, ClientIP: "192.0.2.1",
		UserAgent: "curl/8.0", Error: "not found: project 9", Attrs: json.RawMessage(`{"bytes":17,"q":{"a":"b"}}`),
	}
}

func TestDB_RoundTrip(t *testing.T) {
	t.Parallel()
	db := MustOpen(t)
	want := fullRecord()
	recs := []sidelog.Record{want}
	MustWrite(t, db, recs)
	want.ID = recs[0].ID
	if want.ID == 0 {
		t.Fatal("WriteBatch did not set the ID")
	}
	got, err := db.Get(context.Background(), want.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	res, err := db.Query(context.Background(), sidelog.Filter{}, sidelog.Page{})
	if err != nil || len(res.Records) != 1 || !reflect.DeepEqual(res.Records[0], want) {
		t.Errorf("Query = %+v, %v", res, err)
	}
}

// genRecords returns n records one second apart from start, with a
// predictable mix of levels, kinds, users and statuses.
func genRecords(start time.Time, n int) []sidelog.Record {
	recs := make([]sidelog.Record, n)
	for i := range recs {
		r := sidelog.Record{
			Time: start.Add(time.Duration(i) * time.Second), Level: slog.LevelInfo,
			Message: fmt.Sprintf("message %d", i%10), UserID: fmt.Sprint(i % 5),
		}
		if i%100 == 0 {
			r.Level, r.Error = slog.LevelError, "boom"
		}
		if i%2 == 0 {
			r.Kind, r.Method, r.Path, r.Status = sidelog.KindRequest, "GET", fmt.Sprintf("/p/%d", i%3), 200
			if i%50 == 0 {
				r.Status = 503
			}
		}
		if i == n/2 {
			r.Message, r.RequestID = "a unique zanzibar event", "only-one"
		}
		recs[i] = r
	}
	return recs
}

func TestDB_Query(t *testing.T) {
	t.Parallel()
	db := MustOpen(t)
	// 3000 records spanning two days, written in batches.
	start := time.Date(2026, 11, 20, 23, 30, 0, 0, time.UTC)
	recs := genRecords(start, scaled(3000))
	for i := 0; i < len(recs); i += 250 {
		MustWrite(t, db, recs[i:min(i+250, len(recs))])
	}
	ctx := context.Background()
	errLevel := slog.LevelError
	tests := []struct {
		name string
		f    sidelog.Filter
		want func(sidelog.Record) bool
	}{
		{"all", sidelog.Filter{}, func(sidelog.Record) bool { return true }},
		{"errors", sidelog.Filter{MinLevel: &errLevel}, func(r sidelog.Record) bool { return r.Level >= slog.LevelError }},
		{"kind", sidelog.Filter{Kinds: []sidelog.Kind{sidelog.KindRequest}}, func(r sidelog.Record) bool { return r.Kind == sidelog.KindRequest }},
		{"user", sidelog.Filter{UserID: "3"}, func(r sidelog.Record) bool { return r.UserID == "3" }},
		{"request", sidelog.Filter{RequestID: "only-one"}, func(r sidelog.Record) bool { return r.RequestID == "only-one" }},
		{"5xx", sidelog.Filter{MinStatus: 500, MaxStatus: 599}, func(r sidelog.Record) bool { return r.Status >= 500 }},
		{"path prefix", sidelog.Filter{Path: "/p/1*"}, func(r sidelog.Record) bool { return r.Path == "/p/1" }},
		{"path", sidelog.Filter{Path: "/p/2", Method: "get"}, func(r sidelog.Record) bool { return r.Path == "/p/2" }},
		{"text", sidelog.Filter{Text: "zanzibar"}, func(r sidelog.Record) bool { return r.RequestID == "only-one" }},
		{"text prefix", sidelog.Filter{Text: "zanz*"}, func(r sidelog.Record) bool { return r.RequestID == "only-one" }},
		{"error text", sidelog.Filter{Text: "boom"}, func(r sidelog.Record) bool { return r.Error == "boom" }},
		{"time", sidelog.Filter{Since: start.Add(1000 * time.Second), Until: start.Add(2000 * time.Second)},
			func(r sidelog.Record) bool {
				return !r.Time.Before(start.Add(1000*time.Second)) && r.Time.Before(start.Add(2000*time.Second))
			}},
		{"user and errors", sidelog.Filter{UserID: "0", MinLevel: &errLevel}, func(r sidelog.Record) bool { return r.UserID == "0" && r.Level >= slog.LevelError }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want []int64
			for i := len(recs) - 1; i >= 0; i-- {
				if tt.want(recs[i]) {
					want = append(want, recs[i].ID)
				}
			}
			// Page through 7 at a time: every record once, newest first.
			var got []int64
			var cur sidelog.Cursor
			for {
				res, err := db.Query(ctx, tt.f, sidelog.Page{Limit: 7, After: cur})
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range res.Records {
					if !tt.want(r) {
						t.Fatalf("record %+v does not match", r)
					}
					got = append(got, r.ID)
				}
				if res.Next.ID == 0 {
					break
				}
				cur = res.Next
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("got %d records, want %d", len(got), len(want))
			}
			n, err := db.Count(ctx, tt.f)
			if err != nil || n != int64(len(want)) {
				t.Errorf("Count = %d, %v; want %d", n, err, len(want))
			}
			var scanned int
			for r, err := range db.Scan(ctx, tt.f) {
				if err != nil {
					t.Fatal(err)
				}
				if want[len(want)-1-scanned] != r.ID {
					t.Fatalf("Scan out of order at %d", scanned)
				}
				scanned++
			}
			if scanned != len(want) {
				t.Errorf("Scan yielded %d, want %d", scanned, len(want))
			}
		})
	}
}

func TestDB_Histogram(t *testing.T) {
	t.Parallel()
	db := MustOpen(t)
	start := time.Date(2026, 11, 20, 23, 30, 0, 0, time.UTC)
	recs := genRecords(start, scaled(3000))
	MustWrite(t, db, recs)
	ctx := context.Background()
	for _, f := range []sidelog.Filter{
		{Since: start, Until: start.Add(time.Hour)},                                // from the rollup
		{Since: start, Until: start.Add(time.Hour), UserID: "2"},                   // from the rows
		{Since: start.Add(time.Second), Until: start.Add(time.Hour + time.Second)}, // unaligned
	} {
		buckets, err := db.Histogram(ctx, f, 10*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		want := make([][4]int64, 6)
		for _, r := range recs {
			if r.Time.Before(f.Since) || !r.Time.Before(f.Until) || (f.UserID != "" && r.UserID != f.UserID) {
				continue
			}
			want[r.Time.Sub(f.Since)/(10*time.Minute)][sidelog.LevelClass(r.Level)]++
		}
		for i, b := range buckets {
			if b.Counts != want[i] || !b.Start.Equal(f.Since.Add(time.Duration(i)*10*time.Minute)) {
				t.Errorf("%+v bucket %d = %v at %v, want %v", f, i, b.Counts, b.Start, want[i])
			}
		}
	}
	if _, err := db.Histogram(ctx, sidelog.Filter{}, time.Minute); sidelog.ErrorCode(err) != sidelog.EINVALID {
		t.Errorf("histogram without a range: %v", err)
	}
}

func TestOpen_Errors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	notDB := filepath.Join(dir, "notes.txt")
	os.WriteFile(notDB, []byte("hello, this is not sqlite"), 0o600)
	ctx := context.Background()
	for _, tt := range []struct {
		name, path string
		opts       sqlite.Options
		code       string
	}{
		{"missing", filepath.Join(dir, "missing.db"), sqlite.Options{MustExist: true}, sidelog.ENOTFOUND},
		{"not sqlite", notDB, sqlite.Options{}, sidelog.EINVALID},
		{"directory", dir, sqlite.Options{}, sidelog.EINVALID},
	} {
		_, err := sqlite.Open(ctx, tt.path, tt.opts)
		if got := sidelog.ErrorCode(err); got != tt.code {
			t.Errorf("%s: code %q (%v), want %q", tt.name, got, err, tt.code)
		}
	}
}

func TestDB_InvalidFilter(t *testing.T) {
	t.Parallel()
	db := MustOpen(t)
	hi, lo := slog.LevelError, slog.LevelInfo
	for _, f := range []sidelog.Filter{
		{MinLevel: &hi, MaxLevel: &lo},
		{Since: t0, Until: t0.Add(-time.Hour)},
		{Text: `" ** "`},
		{MinStatus: 500, MaxStatus: 400},
	} {
		if _, err := db.Query(context.Background(), f, sidelog.Page{}); sidelog.ErrorCode(err) != sidelog.EINVALID {
			t.Errorf("Query(%+v) = %v, want EINVALID", f, err)
		}
	}
}

// A reader holding a read transaction open for a long time (an export, a
// slow admin page) must not stop the writer; it keeps its snapshot.
func TestDB_LongReadTransaction(t *testing.T) {
	t.Parallel()
	db := MustOpen(t)
	ctx := context.Background()
	now := time.Now().UTC()
	batch := func(n int) []sidelog.Record {
		recs := make([]sidelog.Record, n)
		for i := range recs {
			recs[i] = sidelog.Record{Time: now, Message: "row"}
		}
		return recs
	}
	MustWrite(t, db, batch(100))
	seg := filepath.Join(db.Path()+".d", now.Format("2006-01-02")+"-info.db")
	other, err := sql.Open("sqlite", "file:"+seg+"?_pragma=busy_timeout(1000)")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	tx, err := other.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	count := func() (n int) {
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM logs`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(); n != 100 {
		t.Fatalf("reader sees %d rows, want 100", n)
	}
	for range 20 {
		MustWrite(t, db, batch(500)) // each would fail with SQLITE_BUSY if the reader blocked it
	}
	if n := count(); n != 100 {
		t.Errorf("reader's snapshot changed to %d rows", n)
	}
	if n, err := db.Count(ctx, sidelog.Filter{}); err != nil || n != 10100 {
		t.Errorf("store count = %d, %v; want 10100", n, err)
	}
}

// Buckets of whole days come from the files' class counts; they must agree
// with the records.
func TestDB_HistogramByDay(t *testing.T) {
	t.Parallel()
	db := MustOpen(t)
	ctx := context.Background()
	end := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	recs := MustGenerate(t, db, scaled(4000), end, 4*sidelog.Day)
	f := sidelog.Filter{Since: end.Add(-5 * sidelog.Day), Until: end.Add(sidelog.Day)}
	for _, g := range []sidelog.Filter{f, {Since: f.Since, Until: f.Until, Kinds: []sidelog.Kind{sidelog.KindRequest}}} {
		buckets, err := db.Histogram(ctx, g, sidelog.Day)
		if err != nil {
			t.Fatal(err)
		}
		want := make([][4]int64, 6)
		for _, r := range recs {
			if len(g.Kinds) == 0 || r.Kind == g.Kinds[0] {
				want[r.Time.Sub(g.Since)/sidelog.Day][sidelog.LevelClass(r.Level)]++
			}
		}
		for i, b := range buckets {
			if b.Counts != want[i] {
				t.Errorf("%v day %d = %v, want %v", g.Kinds, i, b.Counts, want[i])
			}
		}
	}
}

// TestDB_HistogramUnaligned checks histograms and counts over windows that
// start and end inside a minute (answered from the rollup with the cut
// minutes read from the rows) against a brute-force count of the same
// records, for random windows, steps and class filters.
func TestDB_HistogramUnaligned(t *testing.T) {
	t.Parallel()
	db := MustOpen(t)
	start := time.Date(2026, 11, 20, 21, 0, 0, 0, time.UTC)
	rng := rand.New(rand.NewPCG(7, 9))
	recs := make([]sidelog.Record, scaled(6000))
	at := start
	for i := range recs {
		at = at.Add(time.Duration(rng.IntN(4000)) * time.Millisecond)
		r := sidelog.Record{Time: at, Level: slog.Level(4*rng.IntN(4) - 4), Message: "m"}
		if rng.IntN(2) == 0 {
			r.Kind, r.Status = sidelog.KindRequest, []int{200, 302, 404, 503}[rng.IntN(4)]
		}
		recs[i] = r
	}
	MustWrite(t, db, recs)
	end := at
	ctx := context.Background()
	warn, info := slog.LevelWarn, slog.LevelInfo
	filters := []sidelog.Filter{{}, {MinLevel: &warn}, {MaxLevel: &info}, {Kinds: []sidelog.Kind{sidelog.KindRequest}}, {MinStatus: 500, MaxStatus: 599}}
	steps := []time.Duration{time.Minute, 5 * time.Minute, 7 * time.Minute, time.Hour, 90 * time.Minute, 30 * time.Second}
	for i := range 60 {
		f := filters[rng.IntN(len(filters))]
		step := steps[rng.IntN(len(steps))]
		span := end.Sub(start)
		f.Since = start.Add(time.Duration(rng.Int64N(int64(span))))
		if i%3 == 0 {
			f.Since = f.Since.Truncate(time.Minute) // aligned start, unaligned end
		}
		f.Until = f.Since.Add(time.Duration(rng.Int64N(int64(end.Sub(f.Since)))) + time.Nanosecond)
		if n := (f.Until.Sub(f.Since) + step - 1) / step; n > 500 {
			f.Until = f.Since.Add(500 * step)
		}
		buckets, err := db.Histogram(ctx, f, step)
		if err != nil {
			t.Fatal(err)
		}
		want := make([][4]int64, len(buckets))
		var total int64
		for j := range recs {
			r := &recs[j]
			if f.Match(r) {
				want[r.Time.Sub(f.Since)/step][sidelog.LevelClass(r.Level)]++
				total++
			}
		}
		for j, b := range buckets {
			if b.Counts != want[j] {
				t.Fatalf("%s..%s step %v, %+v: bucket %d = %v, want %v", f.Since.Format(time.RFC3339Nano), f.Until.Format(time.RFC3339Nano), step, f, j, b.Counts, want[j])
			}
		}
		if n, err := db.Count(ctx, f); err != nil || n != total {
			t.Fatalf("%s..%s, %+v: Count = %d, %v; want %d", f.Since.Format(time.RFC3339Nano), f.Until.Format(time.RFC3339Nano), f, n, err, total)
		}
	}
}
