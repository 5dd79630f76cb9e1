package handler_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/gen"
	"github.com/sidelog/sidelog/handler"
	"github.com/sidelog/sidelog/redact"
	"github.com/sidelog/sidelog/sqlite"
)

// realisticRows is how many records BenchmarkIngestRealistic writes per
// run: about four seconds of the raw baseline.
const realisticRows = 200_000

// realistic holds the benchmark's records, generated once: each as the
// gen.Record the raw baseline inserts and as the slog call the handler
// gets (the typed fields through sidelog's Key* attributes, the
// attributes as typed slog values, groups for nested objects).
type realistic struct {
	recs  []sidelog.Record
	calls []realCall
}

type realCall struct {
	level slog.Level
	msg   string
	attrs []slog.Attr
}

var realisticRecords = sync.OnceValue(func() *realistic {
	r := &realistic{}
	for rec := range gen.Records(gen.Options{Rows: realisticRows, Seed: 8, Span: time.Hour}) {
		r.recs = append(r.recs, rec)
		r.calls = append(r.calls, callOf(rec))
	}
	return r
})

// callOf is the slog call an application or the middleware makes for rec.
func callOf(r sidelog.Record) realCall {
	return realCall{r.Level, r.Message, gen.Attrs(r)}
}

// BenchmarkIngestRealistic measures slog call to committed row on
// realistic records (gen: varied messages and paths, a unique request id
// per request, 5,000 users, typed fields through the Key* attributes,
// nested attributes), with default options (debug level on), beside the raw baseline of
// the issue: the same rows inserted with database/sql + modernc into one
// table of 10 typed columns with 4 indexes and FTS5 over the message, 500
// rows per INSERT, 10,000 rows per transaction (rawRealistic). Each run
// writes the same 200,000 records into a new database; -count interleaves
// the variants. SIDELOG_INGEST_FIXED=1 adds the writer as it was, batches
// of at most 1,000 (MaxBatchSize 1000). Run with:
//
//	SIDELOG_INGEST_FIXED=1 go test ./handler -run XXX -bench IngestRealistic -benchtime 1x -count 5
//
// Redaction's share of ingest, on and off interleaved:
//
//	go test ./handler -run XXX -bench 'IngestRealistic/sidelog/producers=1' -benchtime 1x -count 6
func BenchmarkIngestRealistic(b *testing.B) {
	data := realisticRecords()
	b.Run("raw", func(b *testing.B) {
		for range b.N {
			b.StopTimer()
			dir := b.TempDir()
			db := mustOpenRawRealistic(b, filepath.Join(dir, "raw.db"))
			b.StartTimer()
			cpu0, t0 := rusageSelf(), time.Now()
			if err := rawRealistic(db, data.recs); err != nil {
				b.Fatal(err)
			}
			cpu, wall := rusageSelf()-cpu0, time.Since(t0)
			b.StopTimer()
			db.Close()
			reportIngest(b, len(data.recs), wall, cpu, dirSize(b, dir), 0)
		}
	})
	// producers=1/redact=off is producers=1 with redaction disabled
	// (redact.Disabled()): what redaction, on by default, costs ingest.
	type variant struct {
		producers int
		red       *redact.Redactor
		name      string
		maxBatch  int
	}
	variants := []variant{{8, nil, "", 0}, {1, nil, "", 0}, {1, redact.Disabled(), "/redact=off", 0}}
	if os.Getenv("SIDELOG_INGEST_FIXED") != "" {
		// The writer as it was: batches of at most BatchSize.
		variants = append(variants, variant{8, nil, "/fixed1000", handler.DefaultBatchSize},
			variant{1, nil, "/fixed1000", handler.DefaultBatchSize})
	}
	for _, v := range variants {
		producers := v.producers
		b.Run(fmt.Sprintf("sidelog/producers=%d%s", producers, v.name), func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				dir := b.TempDir()
				db, err := sqlite.Open(context.Background(), filepath.Join(dir, "logs.db"), sqlite.Options{})
				if err != nil {
					b.Fatal(err)
				}
				// Default options but for the level: the raw side stores
				// the debug lines too.
				h := handler.New(db, &handler.Options{Level: slog.LevelDebug, Fallback: io.Discard, Redactor: v.red, MaxBatchSize: v.maxBatch})
				b.StartTimer()
				cpu0, t0 := rusageSelf(), time.Now()
				logRealistic(h, data.calls, producers)
				if err := h.Close(context.Background()); err != nil {
					b.Fatal(err)
				}
				cpu, wall := rusageSelf()-cpu0, time.Since(t0)
				b.StopTimer()
				st := h.Stats()
				if err := db.Close(); err != nil {
					b.Fatal(err)
				}
				if st.Written+st.Dropped != int64(len(data.calls)) || st.Failed != 0 {
					b.Fatalf("stats %+v: want %d written or dropped", st, len(data.calls))
				}
				reportIngest(b, len(data.calls), wall, cpu, dirSize(b, dir), st.Dropped)
				b.ReportMetric(float64(st.Blocked), "blocked-calls")
			}
		})
	}
}

// logRealistic makes the calls from producers goroutines, call i from
// goroutine i % producers.
func logRealistic(h *handler.Handler, calls []realCall, producers int) {
	l := slog.New(h)
	ctx := context.Background()
	var wg sync.WaitGroup
	for p := range producers {
		wg.Go(func() {
			for i := p; i < len(calls); i += producers {
				c := &calls[i]
				l.LogAttrs(ctx, c.level, c.msg, c.attrs...)
			}
		})
	}
	wg.Wait()
}

func reportIngest(b *testing.B, n int, wall time.Duration, cpu int64, bytes int64, dropped int64) {
	b.ReportMetric(float64(n)/wall.Seconds(), "records/s")
	b.ReportMetric(float64(cpu)/float64(n)/1e3, "cpu-µs/record")
	b.ReportMetric(float64(bytes)/float64(n)*1e6/(1<<20), "MiB/Mrows")
	b.ReportMetric(float64(dropped), "dropped")
}

// dirSize sums the sizes of the files under dir.
func dirSize(tb testing.TB, dir string) int64 {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err == nil {
			n += fi.Size()
		}
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

// rawRealisticSchema is the hand-written baseline's table: ten typed
// columns, the four indexes the common questions need (newest, by level,
// one request, one user's newest), and FTS5 over the message kept as an
// external-content index filled once per transaction.
const rawRealisticSchema = `
CREATE TABLE logs (
	id         INTEGER PRIMARY KEY,
	ts         INTEGER NOT NULL,
	level      INTEGER NOT NULL,
	kind       INTEGER NOT NULL,
	msg        TEXT NOT NULL,
	request_id TEXT,
	user_id    TEXT,
	path       TEXT,
	status     INTEGER,
	duration   INTEGER,
	attrs      TEXT
);
CREATE INDEX logs_ts ON logs(ts);
CREATE INDEX logs_level_ts ON logs(level, ts);
CREATE INDEX logs_request ON logs(request_id);
CREATE INDEX logs_user_ts ON logs(user_id, ts);
CREATE VIRTUAL TABLE logs_fts USING fts5(msg, content='logs', content_rowid='id');`

func mustOpenRawRealistic(tb testing.TB, path string) *sql.DB {
	tb.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)"+
		"&_pragma=synchronous(NORMAL)&_pragma=cache_size(-16384)&_pragma=temp_store(MEMORY)&_txlock=immediate")
	if err != nil {
		tb.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(rawRealisticSchema); err != nil {
		tb.Fatal(err)
	}
	return db
}

// rawRealistic inserts recs as a competent hand-written inserter would:
// 500 rows per INSERT through one prepared statement, 10,000 rows per
// transaction, the FTS index filled per transaction with one INSERT ...
// SELECT over the new rowids.
func rawRealistic(db *sql.DB, recs []sidelog.Record) error {
	const cols, perInsert, perTx = 11, 500, 10_000
	one := "(" + strings.TrimSuffix(strings.Repeat("?,", cols), ",") + ")"
	ins := "INSERT INTO logs(id, ts, level, kind, msg, request_id, user_id, path, status, duration, attrs) VALUES "
	full, err := db.Prepare(ins + strings.TrimSuffix(strings.Repeat(one+",", perInsert), ","))
	if err != nil {
		return err
	}
	defer full.Close()
	args := make([]any, 0, cols*perInsert)
	id := int64(0)
	for start := 0; start < len(recs); start += perTx {
		txRecs := recs[start:min(start+perTx, len(recs))]
		tx, err := db.Begin()
		if err != nil {
			return err
		}
		first := id
		for k := 0; k < len(txRecs); k += perInsert {
			chunk := txRecs[k:min(k+perInsert, len(txRecs))]
			args = args[:0]
			now := time.Now().UnixNano()
			for i := range chunk {
				r := &chunk[i]
				id++
				args = append(args, id, now, int64(r.Level), int64(r.Kind), r.Message, nullStr(r.RequestID),
					nullStr(r.UserID), nullStr(r.Path), nullInt(int64(r.Status)), nullInt(int64(r.Duration)), nullStr(string(r.Attrs)))
			}
			if len(chunk) == perInsert {
				_, err = tx.Stmt(full).Exec(args...)
			} else {
				_, err = tx.Exec(ins+strings.TrimSuffix(strings.Repeat(one+",", len(chunk)), ","), args...)
			}
			if err != nil {
				tx.Rollback()
				return err
			}
		}
		if _, err := tx.Exec(`INSERT INTO logs_fts(rowid, msg) SELECT id, msg FROM logs WHERE id > ?`, first); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	return nil
}

func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullInt(n int64) any {
	if n == 0 {
		return nil
	}
	return n
}
