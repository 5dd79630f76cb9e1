package handler_test

import (
	"bufio"
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/handler"
	"github.com/sidelog/sidelog/sqlite"
)

var (
	soak       = flag.Bool("soak", false, "run BenchmarkMemory (60 s per case)")
	soakTime   = flag.Duration("soak.time", 60*time.Second, "BenchmarkMemory: how long to log")
	soakRate   = flag.Int("soak.rate", 50000, "BenchmarkMemory: records per second")
	soakLocked = flag.Duration("soak.locked", 10*time.Second, "BenchmarkMemory/locked: how long the database is locked")
)

// discardWriter accepts every batch at once.
type discardWriter struct{}

func (discardWriter) WriteBatch(context.Context, []sidelog.Record) error { return nil }

// logArgs and logAttrs are the calls both sides of BenchmarkCallerCost
// make: four attributes, as key-value pairs and as slog.Attrs.
func logArgs(ctx context.Context, l *slog.Logger) {
	l.InfoContext(ctx, "request handled", "path", "/api/projects/42", "status", 200,
		"elapsed", 1234*time.Microsecond, "cached", true)
}

func logAttrs(ctx context.Context, l *slog.Logger) {
	l.LogAttrs(ctx, slog.LevelInfo, "request handled", slog.String("path", "/api/projects/42"),
		slog.Int("status", 200), slog.Duration("elapsed", 1234*time.Microsecond), slog.Bool("cached", true))
}

// BenchmarkCallerCost is what a log call with four attributes costs the
// caller: slog.JSONHandler into io.Discard against this handler in front of
// a store that discards, so the queue never fills and only the hand-over
// is measured (dropped/op must stay 0). allocs/op counts the whole
// process, the writer goroutine's conversion included.
func BenchmarkCallerCost(b *testing.B) {
	ctx := sidelog.WithRequest(context.Background(), "req-1")
	for _, call := range []struct {
		name string
		f    func(context.Context, *slog.Logger)
	}{{"args", logArgs}, {"attrs", logAttrs}} {
		b.Run(call.name+"/JSONHandler", func(b *testing.B) {
			l := slog.New(slog.NewJSONHandler(io.Discard, nil))
			b.ReportAllocs()
			defer threadCPU(b)()
			for b.Loop() {
				call.f(ctx, l)
			}
		})
		b.Run(call.name+"/sidelog", func(b *testing.B) {
			h := handler.New(discardWriter{}, &handler.Options{Fallback: io.Discard})
			l := slog.New(h)
			b.ReportAllocs()
			report := threadCPU(b)
			for b.Loop() {
				call.f(ctx, l)
			}
			report()
			h.Close(ctx)
			st := h.Stats()
			b.ReportMetric(float64(st.Dropped)/float64(b.N), "dropped/op")
		})
	}
}

// threadCPU locks the benchmark to its OS thread and returns a function
// that reports the thread's CPU time per op: the caller's own cost, steady
// on a loaded machine where wall time is not, and without the writer
// goroutine's work on other threads.
func threadCPU(b *testing.B) func() {
	runtime.LockOSThread()
	start := rusageThread()
	return func() {
		b.ReportMetric(float64(rusageThread()-start)/float64(b.N), "thread-cpu-ns/op")
		runtime.UnlockOSThread()
	}
}

// rusageSelf is the process's CPU time.
func rusageSelf() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

func rusageThread() int64 {
	var ru syscall.Rusage
	const rusageThread = 1 // RUSAGE_THREAD
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkIngest measures slog call to committed row in the real store,
// with 1 and 8 producers, beside raw batched inserts of the same rows
// through the same driver (database/sql + modernc, 1,000 rows per
// transaction, 100 rows per INSERT, the segment schema).
func BenchmarkIngest(b *testing.B) {
	for _, producers := range []int{1, 8} {
		b.Run(fmt.Sprintf("handler/producers=%d", producers), func(b *testing.B) {
			db, _ := MustOpenDB(b, sqlite.Options{})
			h := handler.New(db, &handler.Options{BlockTimeout: time.Minute, Fallback: io.Discard})
			l := slog.New(h)
			ctx := context.Background()
			b.ResetTimer()
			cpu0 := rusageSelf()
			var wg sync.WaitGroup
			for p := range producers {
				n := b.N/producers + btoi(p < b.N%producers)
				wg.Go(func() {
					for range n {
						logArgs(ctx, l)
					}
				})
			}
			wg.Wait()
			if err := h.Close(ctx); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			st := h.Stats()
			if st.Written != int64(b.N) {
				b.Fatalf("written %d of %d (%+v)", st.Written, b.N, st)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
			b.ReportMetric(float64(rusageSelf()-cpu0)/float64(b.N), "cpu-ns/record")
		})
	}
	b.Run("raw", func(b *testing.B) {
		db := mustOpenRaw(b)
		b.ResetTimer()
		cpu0 := rusageSelf()
		if err := rawInsert(db, b.N); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
		b.ReportMetric(float64(rusageSelf()-cpu0)/float64(b.N), "cpu-ns/record")
	})
}

func btoi(v bool) int {
	if v {
		return 1
	}
	return 0
}

// mustOpenRaw creates a segment database with the store's schema and
// pragmas, and the dict and msgs rows the raw rows refer to.
func mustOpenRaw(tb testing.TB) *sql.DB {
	tb.Helper()
	schema, err := os.ReadFile("../sqlite/migrations/segment/0001_init.sql")
	if err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(tb.TempDir(), "raw.db")
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)"+
		"&_pragma=synchronous(NORMAL)&_pragma=cache_size(-16384)&_pragma=temp_store(MEMORY)&_txlock=immediate")
	if err != nil {
		tb.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	tb.Cleanup(func() { db.Close() })
	for _, q := range []string{string(schema),
		`INSERT INTO dict(id, s) VALUES (1, 'app')`,
		`INSERT INTO msgs(id, s) VALUES (1, 'request handled')`,
		`INSERT INTO msgs_fts(rowid, s) VALUES (1, 'request handled')`,
	} {
		if _, err := db.Exec(q); err != nil {
			tb.Fatal(err)
		}
	}
	return db
}

// rawInsert inserts n rows like the handler's in transactions of 1,000.
func rawInsert(db *sql.DB, n int) error {
	const cols, perInsert, perTx = 8, 100, 1000
	one := "(" + strings.TrimSuffix(strings.Repeat("?,", cols), ",") + ")"
	stmt := "INSERT INTO logs(id, ts, level, kind, logger, msg, request_id, attrs) VALUES " +
		strings.TrimSuffix(strings.Repeat(one+",", perInsert), ",")
	attrs := `{"path":"/api/projects/42","status":200,"elapsed":1234000,"cached":true}`
	args := make([]any, 0, cols*perInsert)
	id := int64(1)
	for done := 0; done < n; {
		tx, err := db.Begin()
		if err != nil {
			return err
		}
		for k := 0; k < perTx && done < n; k += perInsert {
			args = args[:0]
			for range perInsert {
				args = append(args, id, time.Now().UnixNano(), 0, 0, 1, 1, "req-1", attrs)
				id++
			}
			if _, err := tx.Exec(stmt, args...); err != nil {
				tx.Rollback()
				return err
			}
			done += perInsert
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	return nil
}

// BenchmarkMemory logs at -soak.rate records/s for -soak.time into the real
// store and reports the peak resident memory above the starting point; the
// "locked" case holds the database's write lock from another connection for
// -soak.locked in the middle. It runs only with -soak:
//
//	go test ./handler -run XXX -bench Memory -benchtime 1x -args -soak
func BenchmarkMemory(b *testing.B) {
	if !*soak {
		b.Skip("needs -soak")
	}
	for _, locked := range []bool{false, true} {
		b.Run(map[bool]string{false: "steady", true: "locked"}[locked], func(b *testing.B) {
			for range b.N {
				soakOnce(b, locked)
			}
		})
	}
}

func soakOnce(b *testing.B, lock bool) {
	db, path := MustOpenDB(b, sqlite.Options{BusyTimeout: 100 * time.Millisecond})
	h := handler.New(db, &handler.Options{Fallback: io.Discard})
	l := slog.New(h)
	ctx := context.Background()
	l.Info("start")
	MustFlush(b, h)
	base := procStatus(b, "VmRSS")

	stop := make(chan struct{})
	peak, peakHeap := base, int64(0)
	var mu sync.Mutex
	go func() {
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				rss := procStatus(b, "VmRSS")
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				mu.Lock()
				peak = max(peak, rss)
				peakHeap = max(peakHeap, int64(ms.HeapInuse))
				mu.Unlock()
			}
		}
	}()

	var unlock func()
	start := time.Now()
	lockAt := start.Add((*soakTime - *soakLocked) / 2)
	tick := time.NewTicker(10 * time.Millisecond)
	perTick := *soakRate / 100
	n := 0
	for now := range tick.C {
		if now.Sub(start) >= *soakTime {
			break
		}
		if lock && unlock == nil && now.After(lockAt) {
			unlock = lockSegment(b, path)
		}
		if unlock != nil && now.After(lockAt.Add(*soakLocked)) {
			unlock()
			unlock, lock = nil, false
		}
		for range perTick {
			l.Info("request handled", "path", "/api/projects/42", "status", 200, "i", n)
			n++
		}
	}
	tick.Stop()
	if err := h.Close(ctx); err != nil {
		b.Fatal(err)
	}
	close(stop)
	mu.Lock()
	defer mu.Unlock()
	st := h.Stats()
	b.ReportMetric(float64(peak-base)/1024, "peak-RSS-MiB-above-start")
	b.ReportMetric(float64(procStatus(b, "VmHWM"))/1024, "VmHWM-MiB")
	b.ReportMetric(float64(peakHeap)/(1<<20), "peak-Go-heap-inuse-MiB")
	b.ReportMetric(float64(n), "logged")
	b.ReportMetric(float64(st.Written), "written")
	b.ReportMetric(float64(st.Dropped), "dropped")
	b.ReportMetric(float64(st.Failed), "failed")
}

// lockSegment takes today's segment's write lock from another connection
// and returns the function that lets it go.
func lockSegment(tb testing.TB, path string) func() {
	seg := filepath.Join(path+".d", time.Now().UTC().Format("2006-01-02")+"-info.db")
	other, err := sql.Open("sqlite", "file:"+seg+"?_pragma=busy_timeout(5000)")
	if err != nil {
		tb.Fatal(err)
	}
	conn, err := other.Conn(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := conn.ExecContext(context.Background(), "BEGIN IMMEDIATE"); err != nil {
		tb.Fatal(err)
	}
	return func() {
		conn.ExecContext(context.Background(), "ROLLBACK")
		conn.Close()
		other.Close()
	}
}

// procStatus returns a field of /proc/self/status in KiB.
func procStatus(tb testing.TB, field string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		tb.Skip("no /proc/self/status")
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return n
		}
	}
	return 0
}
