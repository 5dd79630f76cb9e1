package handler_test

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/slogtest"
	"time"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/handler"
	"github.com/sidelog/sidelog/sqlite"
	"go.opentelemetry.io/otel/trace"
)

// MustOpenDB opens a log database in a temporary directory, closed at the
// end of the test.
func MustOpenDB(tb testing.TB, opts sqlite.Options) (*sqlite.DB, string) {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "logs.db")
	db, err := sqlite.Open(context.Background(), path, opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Error(err)
		}
	})
	return db, path
}

func newest(tb testing.TB, db *sqlite.DB, n int) []sidelog.Record {
	tb.Helper()
	res, err := db.Query(context.Background(), sidelog.Filter{}, sidelog.Page{Limit: n})
	if err != nil {
		tb.Fatal(err)
	}
	return res.Records
}

func TestHandler_slogtestStore(t *testing.T) {
	t.Parallel()
	var db *sqlite.DB
	var h *handler.Handler
	slogtest.Run(t, func(t *testing.T) slog.Handler {
		db, _ = MustOpenDB(t, sqlite.Options{})
		h = MustNew(t, db, nil)
		return h
	}, func(t *testing.T) map[string]any {
		MustFlush(t, h)
		recs := newest(t, db, 10)
		if len(recs) != 1 {
			t.Fatalf("got %d records, want 1", len(recs))
		}
		m := recordMap(t, recs[0])
		if strings.HasSuffix(t.Name(), zeroTimeCase) {
			delete(m, slog.TimeKey)
		}
		return m
	})
}

func TestHandler_storeRoundTrip(t *testing.T) {
	t.Parallel()
	db, _ := MustOpenDB(t, sqlite.Options{})
	h := MustNew(t, db, &handler.Options{Logger: "billing"})
	tid, _ := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	sid, _ := trace.SpanIDFromHex("00f067aa0ba902b7")
	ctx := sidelog.WithUser(sidelog.WithRequest(context.Background(), "req-1"), "42", "org-7")
	ctx = trace.ContextWithSpanContext(ctx, trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid}))
	at := time.Date(2026, 3, 4, 5, 6, 7, 890123456, time.UTC)
	r := slog.NewRecord(at, slog.LevelWarn, "payment failed", 0)
	r.AddAttrs(
		slog.Any(sidelog.KeyKind, sidelog.KindAudit),
		slog.String(sidelog.KeyMethod, "POST"), slog.String(sidelog.KeyPath, "/pay"),
		slog.String(sidelog.KeyRoute, "POST /pay"), slog.Int(sidelog.KeyStatus, 402),
		slog.Duration(sidelog.KeyDuration, 1500*time.Microsecond), slog.String(sidelog.KeyClientIP, "192.0.2.1"),
		slog.String(sidelog.KeyUserAgent, "Mozilla/5.0"), slog.Any(sidelog.KeyError, errors.New("card declined")),
		slog.Group("order", slog.Int("id", 9), slog.Float64("total", 12.5)),
	)
	if err := h.Handle(ctx, r); err != nil {
		t.Fatal(err)
	}
	MustFlush(t, h)
	got := newest(t, db, 1)[0]
	want := sidelog.Record{
		ID: got.ID, Time: at, Level: slog.LevelWarn, Kind: sidelog.KindAudit, Logger: "billing",
		Message: "payment failed", RequestID: "req-1", TraceID: tid.String(), SpanID: sid.String(),
		UserID: "42", TenantID: "org-7", Method: "POST", Path: "/pay", Route: "POST /pay", Status: 402,
		Duration: 1500 * time.Microsecond, ClientIP: "192.0.2.1", UserAgent: "Mozilla/5.0",
		Error: "card declined", Attrs: []byte(`{"order":{"id":9,"total":12.5}}`),
	}
	if !recordsEqual(got, want) {
		t.Errorf("round trip\n got %+v\nwant %+v", got, want)
	}
}

func TestHandler_storeConcurrent(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("400,000 rows")
	}
	db, _ := MustOpenDB(t, sqlite.Options{})
	h := handler.New(db, &handler.Options{BlockTimeout: time.Minute})
	l := slog.New(h)
	// 400,000 rows; under -race 16,000, which take a minute already.
	producers, each := 8, 50000
	if raceEnabled {
		each = 2000
	}
	var wg sync.WaitGroup
	for p := range producers {
		wg.Go(func() {
			for i := range each {
				l.Info("load", "producer", p, "i", i)
			}
		})
	}
	wg.Wait()
	if err := h.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	n, err := db.Count(context.Background(), sidelog.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if st := h.Stats(); n != int64(producers*each) || st.Written != n || st.Dropped+st.Failed != 0 {
		t.Errorf("count %d, stats %+v, want %d written", n, st, producers*each)
	}
}

// TestHandler_storeLocked holds the segment's write lock from another
// connection (BEGIN IMMEDIATE) while the application logs.
func TestHandler_storeLocked(t *testing.T) {
	t.Parallel()
	db, path := MustOpenDB(t, sqlite.Options{BusyTimeout: 50 * time.Millisecond})
	fb := &syncBuffer{}
	h := MustNew(t, db, &handler.Options{
		MaxRetryTime: 500 * time.Millisecond, BlockTimeout: 20 * time.Millisecond,
		QueueSize: 2000, BatchSize: 200, FlushInterval: 20 * time.Millisecond, Fallback: fb,
	})
	l := slog.New(h)
	l.Info("before")
	MustFlush(t, h) // creates today's segment

	seg := filepath.Join(path+".d", time.Now().UTC().Format("2006-01-02")+"-info.db") // info records' file
	other, err := sql.Open("sqlite", "file:"+seg+"?_pragma=busy_timeout(1000)")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	ctx := context.Background()
	conn, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}

	var longest time.Duration
	logged := 0
	for end := time.Now().Add(1500 * time.Millisecond); time.Now().Before(end); logged++ {
		t0 := time.Now()
		l.Info("while locked", "i", logged)
		longest = max(longest, time.Since(t0))
		if logged%100 == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	if longest > 2*time.Second {
		t.Errorf("a caller waited %v while the database was locked", longest)
	}
	h.Flush(ctx)
	locked := h.Stats()
	if locked.Failed == 0 || locked.Written != 1 || locked.Failed+locked.Dropped != int64(logged) {
		t.Errorf("stats while locked %+v, logged %d", locked, logged)
	}

	if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(600 * time.Millisecond) // past the probe interval
	for i := range 100 {
		l.Info("after", "i", i)
	}
	MustFlush(t, h)
	st := h.Stats()
	n, err := db.Count(ctx, sidelog.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if st.Written != 101 || n != 101 || st.Failed != locked.Failed {
		t.Errorf("after unlock: count %d, stats %+v; want 101 written", n, st)
	}
	if lines := strings.Count(fb.String(), "\n"); int64(lines) != st.Failed {
		t.Errorf("fallback has %d lines, Failed %d", lines, st.Failed)
	}
}
