//go:build scale

// Large-database benchmarks: 5 million generated rows over 30 days for the
// read side, 5 million over 60 days for retention. They are kept out of the
// normal test run by the build tag:
//
//	go test -tags scale -run 'TestScaleBuild(30|60)$' -v -timeout 3h ./sqlite/
//	go test -tags scale -run '^$' -bench ScaleQuery -benchtime 20x -count 1 -timeout 60m ./sqlite/
//	go test -tags scale -run '^$' -bench ScaleRetention -benchtime 1x -count 1 -timeout 60m ./sqlite/
//	go test -tags scale -run TestScaleExplain -v ./sqlite/
//
// The databases are built once (by SIDELOG_SCALE_WORKERS processes, default
// 5) and cached in $SIDELOG_SCALE_DIR (default /tmp/sidelog-scale); delete
// that directory to rebuild them. Results: BENCHMARKS.md, "Log store at
// scale (5M rows)".
package sqlite_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/gen"
	"github.com/sidelog/sidelog/sqlite"
)

const (
	scaleBatch = 10_000
	scaleSeed  = 1
)

// scaleRows is 5 million unless SIDELOG_SCALE_ROWS says otherwise (a
// smaller database for a quicker run on a busy machine; give it its own
// SIDELOG_SCALE_DIR, since the cache does not record the size).
var scaleRows = func() int {
	n := 5_000_000
	fmt.Sscan(os.Getenv("SIDELOG_SCALE_ROWS"), &n)
	return n
}()

// scaleEnd is the newest generated record's time: one millisecond before a
// UTC midnight, so 30 (60) days of records fill exactly 30 (60) day files.
var scaleEnd = time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC).Add(-time.Millisecond)

func scaleDir(tb testing.TB) string {
	dir := os.Getenv("SIDELOG_SCALE_DIR")
	if dir == "" {
		dir = "/tmp/sidelog-scale"
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	return dir
}

// buildInfo is what building a scale database measured; it is kept beside
// the database so later runs can report it.
type buildInfo struct {
	Rows        int
	Days        int     // UTC days
	Files       int     // segment files (a day has up to three: debug, info, main)
	Workers     int     // processes that built disjoint day ranges at once
	Seconds     float64 // wall time of the whole build
	RowsPerSec  float64 // Rows / Seconds
	CPUSeconds  float64 // user+system CPU of all workers
	RowsPerCPU  float64 // Rows / CPUSeconds: what one writer does per core
	Bytes       int64   // db.Size() after Close and reopen
	MiBPerMRows float64 // Bytes per million rows
}

// partInfo is one worker's result.
type partInfo struct {
	Rows       int
	Seconds    float64
	CPUSeconds float64
}

// scaleWorkers is how many processes build a database: each writes the
// records of its own range of days (through its own sqlite.DB and
// WriteBatch, batches of 10,000) and the day files are then moved into one
// database. On a shared 2-core machine this takes the build from an hour
// to minutes; the per-core rate (RowsPerCPU) is the figure to compare.
func scaleWorkers() int {
	var n int
	if _, err := fmt.Sscan(os.Getenv("SIDELOG_SCALE_WORKERS"), &n); err != nil || n < 1 {
		return 5
	}
	return n
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// scaleDB returns the path of the cached database of 5M rows over days
// days, building it first if needed.
func scaleDB(tb testing.TB, days int) (string, buildInfo) {
	tb.Helper()
	dir := filepath.Join(scaleDir(tb), fmt.Sprintf("%dd", days))
	path := filepath.Join(dir, "logs.db")
	infoPath := filepath.Join(dir, "build.json")
	var info buildInfo
	if b, err := os.ReadFile(infoPath); err == nil && json.Unmarshal(b, &info) == nil {
		return path, info
	}
	os.RemoveAll(dir)
	if err := os.MkdirAll(path+".d", 0o755); err != nil {
		tb.Fatal(err)
	}
	workers := scaleWorkers()
	start := time.Now()
	var wg sync.WaitGroup
	parts := make([]partInfo, workers)
	for k := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			partDir := filepath.Join(dir, fmt.Sprintf("part%d", k))
			cmd := exec.Command(os.Args[0], "-test.run=^TestScaleBuildPart$", "-test.v", "-test.timeout=3h")
			cmd.Env = append(os.Environ(), fmt.Sprintf("SIDELOG_SCALE_PART=%d,%d,%d,%s", days, k, workers, partDir))
			out, err := cmd.CombinedOutput()
			if err != nil {
				tb.Errorf("part %d: %v\n%s", k, err, out)
				return
			}
			b, err := os.ReadFile(filepath.Join(partDir, "part.json"))
			if err == nil {
				err = json.Unmarshal(b, &parts[k])
			}
			if err != nil {
				tb.Errorf("part %d: %v", k, err)
			}
		}()
	}
	wg.Wait()
	if tb.Failed() {
		tb.FailNow()
	}
	info.Seconds = time.Since(start).Seconds()
	for k, p := range parts {
		info.CPUSeconds += p.CPUSeconds
		tb.Logf("%dd part %d: %d rows in %.1f s wall, %.1f CPU-s: %.0f rows/s, %.0f rows per CPU-s",
			days, k, p.Rows, p.Seconds, p.CPUSeconds, float64(p.Rows)/p.Seconds, float64(p.Rows)/p.CPUSeconds)
		partDir := filepath.Join(dir, fmt.Sprintf("part%d", k))
		files, _ := filepath.Glob(filepath.Join(partDir, "logs.db.d", "*"))
		for _, f := range files {
			if err := os.Rename(f, filepath.Join(path+".d", filepath.Base(f))); err != nil {
				tb.Fatal(err)
			}
		}
		os.RemoveAll(partDir)
	}
	ctx := context.Background()
	db, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	st, err := db.Stats(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	if err := db.Close(); err != nil {
		tb.Fatal(err)
	}
	if st.Records != int64(scaleRows) {
		tb.Fatalf("built %d rows, want %d", st.Records, scaleRows)
	}
	info.Rows, info.Files, info.Workers = int(st.Records), st.Segments, workers
	info.Days = len(segmentDays(tb, path))
	info.RowsPerSec = float64(info.Rows) / info.Seconds
	info.RowsPerCPU = float64(info.Rows) / info.CPUSeconds
	info.Bytes = st.Bytes
	info.MiBPerMRows = float64(st.Bytes) / (1 << 20) / (float64(info.Rows) / 1e6)
	b, _ := json.MarshalIndent(info, "", "  ")
	if err := os.WriteFile(infoPath, b, 0o644); err != nil {
		tb.Fatal(err)
	}
	return path, info
}

// TestScaleBuildPart is one build worker, started by scaleDB with
// SIDELOG_SCALE_PART=days,k,n,dir: it writes the records of the k-th of n
// day ranges into dir/logs.db.
func TestScaleBuildPart(t *testing.T) {
	var days, k, n int
	var dir string
	spec := os.Getenv("SIDELOG_SCALE_PART")
	if spec == "" {
		t.Skip("started by scaleDB only")
	}
	if _, err := fmt.Sscanf(strings.ReplaceAll(spec, ",", " "), "%d %d %d %s", &days, &k, &n, &dir); err != nil {
		t.Fatal(spec, err)
	}
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "logs.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	firstDay := scaleEnd.Unix()/86400 - int64(days) + 1 // UTC day numbers, as the store's
	dayIdx := func(r sidelog.Record) int { return int(r.Time.Unix()/86400 - firstDay) }
	lo, hi := k*days/n, (k+1)*days/n
	cpu0, start := cpuSeconds(), time.Now()
	batch := make([]sidelog.Record, 0, scaleBatch)
	rows := 0
	flush := func() {
		if err := db.WriteBatch(ctx, batch); err != nil {
			t.Fatal(err)
		}
		rows += len(batch)
		batch = batch[:0]
	}
	for r := range gen.Records(gen.Options{Rows: scaleRows, End: scaleEnd, Span: time.Duration(days) * sidelog.Day, Seed: scaleSeed}) {
		d := dayIdx(r)
		if d >= hi {
			break
		}
		if d < lo {
			continue
		}
		batch = append(batch, r)
		if len(batch) == scaleBatch {
			flush()
		}
	}
	if len(batch) > 0 {
		flush()
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	p := partInfo{Rows: rows, Seconds: time.Since(start).Seconds(), CPUSeconds: cpuSeconds() - cpu0}
	b, _ := json.Marshal(p)
	if err := os.WriteFile(filepath.Join(dir, "part.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func logBuild(tb testing.TB, info buildInfo) {
	tb.Logf("built %d rows in %d days (%d files) by %d processes: %.1f s wall = %.0f rows/s; %.1f CPU-s = %.0f rows per CPU-second; %.1f MiB = %.1f MiB per million rows (target <= 360)",
		info.Rows, info.Days, info.Files, info.Workers, info.Seconds, info.RowsPerSec, info.CPUSeconds, info.RowsPerCPU, float64(info.Bytes)/(1<<20), info.MiBPerMRows)
}

// TestScaleBuild30 and TestScaleBuild60 build (or report) the cached
// databases.
func TestScaleBuild30(t *testing.T) { _, info := scaleDB(t, 30); logBuild(t, info) }
func TestScaleBuild60(t *testing.T) { _, info := scaleDB(t, 60); logBuild(t, info) }

// openScale opens a cached scale database read-write (queries only).
func openScale(b *testing.B, days int) (*sqlite.DB, string, buildInfo) {
	b.Helper()
	path, info := scaleDB(b, days)
	db, err := sqlite.Open(context.Background(), path, sqlite.Options{MustExist: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db, path, info
}

// segmentFiles returns the segment files of the database at path
// (YYYY-MM-DD-debug.db, -info.db, -main.db), newest day first.
func segmentFiles(tb testing.TB, path string) []string {
	ents, err := os.ReadDir(path + ".d")
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".db") {
			out = append(out, filepath.Join(path+".d", e.Name()))
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(out)))
	return out
}

// rawSegments opens every segment file read-only through the same driver,
// for the naive baselines, grouped by day, newest day first.
func rawSegments(b *testing.B, path string) [][]*sql.DB {
	var out [][]*sql.DB
	for _, files := range segmentDays(b, path) {
		var day []*sql.DB
		for _, f := range files {
			h, err := sql.Open("sqlite", "file:"+f+"?mode=ro&_pragma=cache_size(-16384)&_pragma=query_only(1)")
			if err != nil {
				b.Fatal(err)
			}
			h.SetMaxOpenConns(1)
			b.Cleanup(func() { h.Close() })
			day = append(day, h)
		}
		out = append(out, day)
	}
	return out
}

// segmentDays returns the segment files of the database at path grouped by
// UTC day, newest day first. A day's files share one rowid sequence, so
// their ids merge into one order.
func segmentDays(tb testing.TB, path string) [][]string {
	var out [][]string
	last := ""
	for _, f := range segmentFiles(tb, path) {
		day := filepath.Base(f)[:10]
		if day != last {
			out = append(out, nil)
			last = day
		}
		out[len(out)-1] = append(out[len(out)-1], f)
	}
	return out
}

func lvl(l slog.Level) *slog.Level { return &l }

// reportMs reports the mean time of n operations that took d.
func reportMs(b *testing.B, d time.Duration, n int) {
	b.ReportMetric(float64(d.Microseconds())/1000/float64(n), "ms/op")
}

// BenchmarkScaleQuery measures the read side on 5M rows over 30 days, with
// the naive ways of answering the same questions as baselines.
func BenchmarkScaleQuery(b *testing.B) {
	db, path, info := openScale(b, 30)
	logBuild(b, info)
	ctx := context.Background()

	// Values picked from the data, 15 days back.
	mid := scaleEnd.Add(-15 * sidelog.Day)
	pick, err := db.Query(ctx, sidelog.Filter{Kinds: []sidelog.Kind{sidelog.KindRequest}, Until: mid}, sidelog.Page{Limit: 1})
	if err != nil || len(pick.Records) != 1 {
		b.Fatal("pick:", err)
	}
	reqID, ip := pick.Records[0].RequestID, pick.Records[0].ClientIP
	b.Logf("picked request %s, client IP %s", reqID, ip)

	queries := []struct {
		name string
		f    sidelog.Filter
		want int // expected page size at least (0: any)
	}{
		{"none", sidelog.Filter{}, 50},
		{"level>=error", sidelog.Filter{MinLevel: lvl(slog.LevelError)}, 50},
		{"kind=audit", sidelog.Filter{Kinds: []sidelog.Kind{sidelog.KindAudit}}, 50},
		{"kind=security", sidelog.Filter{Kinds: []sidelog.Kind{sidelog.KindSecurity}}, 50},
		{"request_id", sidelog.Filter{RequestID: reqID}, 1},
		{"user", sidelog.Filter{UserID: "42"}, 50},
		{"tenant", sidelog.Filter{TenantID: "7"}, 50},
		{"status=5xx", sidelog.Filter{MinStatus: 500, MaxStatus: 599}, 50},
		{"status=404", sidelog.Filter{MinStatus: 404, MaxStatus: 404}, 50},
		{"path=exact", sidelog.Filter{Path: "/api/projects/42"}, 50},
		{"path=prefix_rare", sidelog.Filter{Path: "/api/projects/4*"}, 50},
		{"path=prefix_common", sidelog.Filter{Path: "/api/*"}, 50},
		{"method=DELETE", sidelog.Filter{Method: "DELETE"}, 50},
		{"method=PATCH_none", sidelog.Filter{Method: "PATCH"}, 0},
		{"logger=audit", sidelog.Filter{Logger: "audit"}, 50},
		{"client_ip", sidelog.Filter{ClientIP: ip}, 1},
		{"window_1h_15d_ago", sidelog.Filter{Since: mid, Until: mid.Add(time.Hour)}, 50},
		{"text=zq4321x_once", sidelog.Filter{Text: "zq4321x"}, 1},
		{"text=cache_common", sidelog.Filter{Text: "cache"}, 50},
		{"text=none", sidelog.Filter{Text: "xylophone"}, 0},
		{"user+level>=warn", sidelog.Filter{UserID: "42", MinLevel: lvl(slog.LevelWarn)}, 1},
	}
	for _, q := range queries {
		b.Run("newest50/"+q.name, func(b *testing.B) {
			var n int
			start := time.Now()
			for range b.N {
				res, err := db.Query(ctx, q.f, sidelog.Page{Limit: 50})
				if err != nil {
					b.Fatal(err)
				}
				n = len(res.Records)
			}
			reportMs(b, time.Since(start), b.N)
			b.ReportMetric(float64(n), "rows")
			if n < q.want {
				b.Errorf("got %d rows, want at least %d", n, q.want)
			}
		})
	}
	for _, q := range []struct {
		name string
		f    sidelog.Filter
	}{{"none", sidelog.Filter{}}, {"level>=error", sidelog.Filter{MinLevel: lvl(slog.LevelError)}}, {"user", sidelog.Filter{UserID: "42"}}} {
		b.Run("page2/"+q.name, func(b *testing.B) {
			first, err := db.Query(ctx, q.f, sidelog.Page{Limit: 50})
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			start := time.Now()
			for range b.N {
				res, err := db.Query(ctx, q.f, sidelog.Page{Limit: 50, After: first.Next})
				if err != nil || len(res.Records) != 50 || res.Records[0].ID >= first.Next.ID {
					b.Fatal("page 2:", err, len(res.Records))
				}
			}
			reportMs(b, time.Since(start), b.N)
		})
	}
	for _, q := range []struct {
		name string
		f    sidelog.Filter
	}{{"none", sidelog.Filter{}}, {"level>=error", sidelog.Filter{MinLevel: lvl(slog.LevelError)}}, {"user_raw", sidelog.Filter{UserID: "42"}}} {
		b.Run("count/"+q.name, func(b *testing.B) {
			var n int64
			start := time.Now()
			for range b.N {
				if n, err = db.Count(ctx, q.f); err != nil {
					b.Fatal(err)
				}
			}
			reportMs(b, time.Since(start), b.N)
			b.ReportMetric(float64(n), "rows")
		})
	}
	for _, h := range []struct {
		name string
		f    sidelog.Filter
		step time.Duration
	}{
		{"24h_by_1h", sidelog.Filter{Since: scaleEnd.Add(-sidelog.Day).Truncate(time.Minute), Until: scaleEnd.Truncate(time.Minute)}, time.Hour},
		{"24h_by_1m", sidelog.Filter{Since: scaleEnd.Add(-sidelog.Day).Truncate(time.Minute), Until: scaleEnd.Truncate(time.Minute)}, time.Minute},
		{"30d_by_1d", sidelog.Filter{Since: scaleEnd.Add(-30 * sidelog.Day).Truncate(time.Minute), Until: scaleEnd.Truncate(time.Minute)}, sidelog.Day},
		{"24h_by_1h_user_raw", sidelog.Filter{UserID: "42", Since: scaleEnd.Add(-sidelog.Day).Truncate(time.Minute), Until: scaleEnd.Truncate(time.Minute)}, time.Hour},
		{"24h_by_1h_logger_http_raw", sidelog.Filter{Logger: "http", Since: scaleEnd.Add(-sidelog.Day).Truncate(time.Minute), Until: scaleEnd.Truncate(time.Minute)}, time.Hour},
	} {
		b.Run("histogram/"+h.name, func(b *testing.B) {
			var total int64
			start := time.Now()
			for range b.N {
				bs, err := db.Histogram(ctx, h.f, h.step)
				if err != nil {
					b.Fatal(err)
				}
				total = 0
				for _, x := range bs {
					total += x.Counts[0] + x.Counts[1] + x.Counts[2] + x.Counts[3]
				}
			}
			reportMs(b, time.Since(start), b.N)
			b.ReportMetric(float64(total), "rows")
		})
	}

	// Naive baselines, straight SQL on the day files through the same
	// driver; each runs at most 3 times (they take seconds).
	segs := rawSegments(b, path)
	var allFiles []*sql.DB
	for _, day := range segs {
		allFiles = append(allFiles, day...)
	}
	naive := func(name string, run func() int64) {
		b.Run("naive/"+name, func(b *testing.B) {
			n := min(b.N, 3)
			var got int64
			start := time.Now()
			for range n {
				got = run()
			}
			reportMs(b, time.Since(start), n)
			b.ReportMetric(float64(got), "rows")
		})
	}
	// Newest 50 whose message is LIKE the word, reading every row's message
	// as a one-table store would (CROSS JOIN keeps logs the outer loop); a
	// day's files are each asked for their newest and merged by id.
	likeNewest := func(word string) func() int64 {
		return func() int64 {
			var n int64
			for _, day := range segs {
				var ids []int64
				for _, h := range day {
					rows, err := h.QueryContext(ctx, `SELECT l.id FROM logs l CROSS JOIN msgs m ON m.id = l.msg
						WHERE m.s LIKE ? ORDER BY l.id DESC LIMIT ?`, "%"+word+"%", 50-n)
					if err != nil {
						b.Fatal(err)
					}
					for rows.Next() {
						var id int64
						rows.Scan(&id)
						ids = append(ids, id)
					}
					rows.Close()
				}
				n += min(int64(len(ids)), 50-n)
				if n >= 50 {
					break
				}
			}
			return n
		}
	}
	naive("like_zq4321x_once", likeNewest("zq4321x"))
	naive("like_cache_common", likeNewest("cache"))
	// Per-level counts by bucket from the raw rows over the ts index.
	rawHist := func(since, until time.Time, step time.Duration) func() int64 {
		return func() int64 {
			var total int64
			for _, h := range allFiles {
				rows, err := h.QueryContext(ctx, `SELECT (ts - ?) / ?, CASE WHEN level < 0 THEN 0 WHEN level < 4 THEN 1 WHEN level < 8 THEN 2 ELSE 3 END, count(*)
					FROM logs WHERE ts >= ? AND ts < ? GROUP BY 1, 2`, since.UnixNano(), int64(step), since.UnixNano(), until.UnixNano())
				if err != nil {
					b.Fatal(err)
				}
				for rows.Next() {
					var bk, c, k int64
					if err := rows.Scan(&bk, &c, &k); err != nil {
						b.Fatal(err)
					}
					total += k
				}
				rows.Close()
			}
			return total
		}
	}
	end := scaleEnd.Truncate(time.Minute)
	naive("groupby_24h_by_1h", rawHist(end.Add(-sidelog.Day), end, time.Hour))
	naive("groupby_30d_by_1d", rawHist(end.Add(-30*sidelog.Day), end, sidelog.Day))
	// count(*) of everything and of errors from the rows.
	naive("count_all_rows", func() int64 {
		var total int64
		for _, h := range allFiles {
			var n int64
			if err := h.QueryRowContext(ctx, `SELECT count(*) FROM logs`).Scan(&n); err != nil {
				b.Fatal(err)
			}
			total += n
		}
		return total
	})
}

// retentionResult is what one retention run measured.
type retentionResult struct {
	rep                      sqlite.CleanupReport
	want                     int64 // rows the policy says expire, counted from the generator
	left, wantLeft           int64 // rows older than the data's end after cleanup, and expected
	writerRows               int64
	before, during, after    []time.Duration
	oldBytesAfter, walBefore int64
}

// expectedExpired counts the generated records the default policy removes
// at the data's end time, outside the day that is still being written.
func expectedExpired(days int, pol sidelog.Retention, now time.Time) int64 {
	today := now.Unix() / 86400
	var n int64
	for r := range gen.Records(gen.Options{Rows: scaleRows, End: scaleEnd, Span: time.Duration(days) * sidelog.Day, Seed: scaleSeed}) {
		if r.Time.Unix()/86400 >= today {
			continue
		}
		age := pol.MaxAge[sidelog.LevelClass(r.Level)]
		if r.Kind == sidelog.KindAudit || r.Kind == sidelog.KindSecurity {
			age = pol.AuditAge
		}
		if age > 0 && r.Time.Before(now.Add(-age)) {
			n++
		}
	}
	return n
}

func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[min(len(s)-1, int(p*float64(len(s))))]
}

func runRetention(b *testing.B) retentionResult {
	// SIDELOG_RETENTION_BEFORE=1: the store as before the retention stall
	// work (checkpoints in the writer, class counts from the per-minute
	// rollup), the baseline.
	if os.Getenv("SIDELOG_RETENTION_BEFORE") == "1" {
		sqlite.SetRetentionBefore(true)
		defer sqlite.SetRetentionBefore(false)
	}
	src, _ := scaleDB(b, 60)
	ctx := context.Background()
	pol := sidelog.DefaultRetention()
	var res retentionResult
	want := make(chan int64)
	go func() { want <- expectedExpired(60, pol, scaleEnd) }()
	work := filepath.Join(b.TempDir(), "copy")
	if out, err := exec.Command("cp", "-r", filepath.Dir(src), work).CombinedOutput(); err != nil {
		b.Fatal(err, string(out))
	}
	// Write the copy's 1.2 GB of dirty pages out now, so that the kernel's
	// writeback does not land in the writer's latencies below.
	syscall.Sync()
	res.want = <-want
	res.wantLeft = int64(scaleRows) - res.want
	path := filepath.Join(work, "logs.db")
	db, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()

	// The writer: batches of 1,000 current-time records, 10 ms apart.
	pool := make([]sidelog.Record, 0, 50_000)
	for r := range gen.Records(gen.Options{Rows: cap(pool), End: time.Now(), Span: time.Hour, Seed: 7}) {
		pool = append(pool, r)
	}
	var (
		mu      sync.Mutex
		phase   int // 0 warm-up, 1 before cleanup, 2 during, 3 after
		lat     [4][]time.Duration
		stop    = make(chan struct{})
		stopped = make(chan struct{})
	)
	// SIDELOG_SCALE_NOWRITER=1 runs the cleanup alone, to tell its own
	// time from the time it waits for the writer's lock.
	noWriter := os.Getenv("SIDELOG_SCALE_NOWRITER") == "1"
	go func() {
		defer close(stopped)
		if noWriter {
			return
		}
		// SIDELOG_SCALE_WRITER_BATCH sets the writer's batch size (default
		// 1,000): a batch's own cost sets a floor under its latency.
		size := 1000
		fmt.Sscan(os.Getenv("SIDELOG_SCALE_WRITER_BATCH"), &size)
		batch := make([]sidelog.Record, size)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			copy(batch, pool[(i*size)%len(pool):])
			now := time.Now()
			for j := range batch {
				batch[j].ID, batch[j].Time = 0, now
			}
			t := time.Now()
			if err := db.WriteBatch(ctx, batch); err != nil {
				b.Error(err)
				return
			}
			d := time.Since(t)
			mu.Lock()
			lat[phase] = append(lat[phase], d)
			res.writerRows += int64(len(batch))
			mu.Unlock()
			time.Sleep(10 * time.Millisecond)
		}
	}()
	setPhase := func(p int) { mu.Lock(); phase = p; mu.Unlock() }
	time.Sleep(time.Second) // the writer's new day file is created and warm
	setPhase(1)
	time.Sleep(5 * time.Second)
	setPhase(2)
	res.rep, err = db.Cleanup(ctx, pol, scaleEnd, false)
	setPhase(3)
	if err != nil {
		b.Fatal(err)
	}
	time.Sleep(time.Second)
	close(stop)
	<-stopped
	res.before, res.during, res.after = lat[1], lat[2], lat[3]

	// What is left of the generated days, and their size without the
	// writer's new file.
	if res.left, err = db.Count(ctx, sidelog.Filter{Until: scaleEnd.Add(time.Millisecond)}); err != nil {
		b.Fatal(err)
	}
	today := time.Now().UTC().Format("2006-01-02") + "-" // the writer's files
	files, _ := filepath.Glob(path + ".d/*")
	for _, f := range files {
		if st, err := os.Stat(f); err == nil && !strings.HasPrefix(filepath.Base(f), today) {
			res.oldBytesAfter += st.Size()
		}
	}
	return res
}

var (
	retentionOnce sync.Once
	retention     retentionResult
)

// BenchmarkScaleRetention applies the default retention policy at the
// data's end time to a fresh copy of the 60-day database while a writer
// goroutine writes 1,000-record batches every 10 ms. It runs once however
// large b.N is.
func BenchmarkScaleRetention(b *testing.B) {
	retentionOnce.Do(func() { retention = runRetention(b) })
	r := retention
	sec := r.rep.Elapsed.Seconds()
	b.ReportMetric(float64(r.rep.Removed), "rows_removed")
	b.ReportMetric(sec, "s")
	b.ReportMetric(float64(r.rep.Removed)/sec, "rows_removed/s")
	b.ReportMetric(float64(r.rep.BytesBefore)/(1<<20), "MiB_before")
	b.ReportMetric(float64(r.oldBytesAfter)/(1<<20), "MiB_after")
	b.ReportMetric(float64(percentile(r.before, 0.99).Microseconds())/1000, "ms_p99_before")
	b.ReportMetric(float64(percentile(r.before, 1).Microseconds())/1000, "ms_max_before")
	b.ReportMetric(float64(percentile(r.during, 0.99).Microseconds())/1000, "ms_p99_during")
	b.ReportMetric(float64(percentile(r.during, 1).Microseconds())/1000, "ms_max_during")
	b.ReportMetric(float64(percentile(r.after, 1).Microseconds())/1000, "ms_max_after")
	b.Logf("removed %d rows (policy: %d) in %.2f s = %.0f rows/s; dropped %d day files, rewrote %d; %d generated rows left (want %d)",
		r.rep.Removed, r.want, sec, float64(r.rep.Removed)/sec, r.rep.SegmentsDropped, r.rep.SegmentsRewritten, r.left, r.wantLeft)
	b.Logf("bytes before %d (%.1f MiB), after %d (%.1f MiB; report incl. writer's file %.1f MiB)",
		r.rep.BytesBefore, float64(r.rep.BytesBefore)/(1<<20), r.oldBytesAfter, float64(r.oldBytesAfter)/(1<<20), float64(r.rep.BytesAfter)/(1<<20))
	b.Logf("writer, 1,000-row batches: before cleanup n=%d p50 %v p99 %v max %v; during n=%d p50 %v p99 %v max %v; %d rows written",
		len(r.before), percentile(r.before, 0.5), percentile(r.before, 0.99), percentile(r.before, 1),
		len(r.during), percentile(r.during, 0.5), percentile(r.during, 0.99), percentile(r.during, 1), r.writerRows)
	if r.rep.Removed != r.want || r.left != r.wantLeft {
		b.Errorf("removed %d, left %d; the policy says remove %d, leave %d", r.rep.Removed, r.left, r.want, r.wantLeft)
	}
}

// BenchmarkScaleWriteBatch writes 200,000 generated records (one day) in
// batches of 10,000 into a new database: the build's rate at a small size,
// for profiling the writer. One op is one batch.
func BenchmarkScaleWriteBatch(b *testing.B) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "logs.db"), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	var recs []sidelog.Record
	for r := range gen.Records(gen.Options{Rows: 200_000, End: scaleEnd, Span: sidelog.Day / 2, Seed: scaleSeed}) {
		recs = append(recs, r)
	}
	b.ResetTimer()
	cpu0, start := cpuSeconds(), time.Now()
	for i := range b.N {
		off := (i * scaleBatch) % len(recs)
		batch := recs[off : off+scaleBatch]
		if i >= len(recs)/scaleBatch { // later rounds: same rows, later times
			shift := time.Duration(i/(len(recs)/scaleBatch)) * sidelog.Day / 2
			batch = append([]sidelog.Record(nil), batch...)
			for j := range batch {
				batch[j].Time = batch[j].Time.Add(shift)
			}
		}
		if err := db.WriteBatch(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	rows := float64(b.N * scaleBatch)
	b.ReportMetric(rows/time.Since(start).Seconds(), "rows/s")
	b.ReportMetric(rows/(cpuSeconds()-cpu0), "rows/CPU-s")
}

// TestScaleExplain prints SQLite's plan and the time, on the newest info
// file (the largest of a day) of the 30-day database, of the statements the store runs for the slower
// cases (copied from read.go), and of the alternatives proposed for them.
func TestScaleExplain(t *testing.T) {
	path, _ := scaleDB(t, 30)
	seg := segmentDays(t, path)[0][1] // newest day: main, info, debug
	if !strings.HasSuffix(seg, "-info.db") {
		t.Fatal("not an info file:", seg)
	}
	h, err := sql.Open("sqlite", "file:"+seg+"?mode=ro&_pragma=cache_size(-16384)&_pragma=query_only(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	h.SetMaxOpenConns(1)
	const sel = `SELECT l.id, l.ts, l.level, l.kind,
	(SELECT s FROM dict WHERE id = l.logger), (SELECT s FROM msgs WHERE id = l.msg),
	l.request_id, l.trace_id, l.span_id, l.user_id, l.tenant_id,
	(SELECT s FROM dict WHERE id = l.method), (SELECT s FROM dict WHERE id = l.path),
	(SELECT s FROM dict WHERE id = l.route), l.status, l.duration, l.client_ip,
	(SELECT s FROM dict WHERE id = l.user_agent), (SELECT s FROM msgs WHERE id = l.err), l.attrs
	FROM logs l`
	const ids = ` AND l.id >= 1 AND l.id < 4611686018427387904 ORDER BY l.id DESC LIMIT 50`
	const fts = `(SELECT rowid FROM msgs_fts WHERE msgs_fts MATCH ?)`
	for _, c := range []struct {
		name, q string
		args    []any
	}{
		{"text cache (store)", sel + ` WHERE (l.msg IN ` + fts + ` OR l.err IN ` + fts + `)` + ids, []any{`"cache"`, `"cache"`}},
		{"text cache (+msg, +err: walk rowids)", sel + ` WHERE (+l.msg IN ` + fts + ` OR +l.err IN ` + fts + `)` + ids, []any{`"cache"`, `"cache"`}},
		{"text zq4321x (store)", sel + ` WHERE (l.msg IN ` + fts + ` OR l.err IN ` + fts + `)` + ids, []any{`"zq4321x"`, `"zq4321x"`}},
		{"path /api/* (store)", sel + ` WHERE l.path IN (SELECT id FROM dict WHERE s >= ? AND s < ?)` + ids, []any{"/api/", "/api/\U0010FFFF"}},
		{"path /api/* (+path: walk rowids)", sel + ` WHERE +l.path IN (SELECT id FROM dict WHERE s >= ? AND s < ?)` + ids, []any{"/api/", "/api/\U0010FFFF"}},
		{"path /api/projects/4* (store)", sel + ` WHERE l.path IN (SELECT id FROM dict WHERE s >= ? AND s < ?)` + ids, []any{"/api/projects/4", "/api/projects/4\U0010FFFF"}},
		{"method PATCH (store, no index)", sel + ` WHERE l.method = (SELECT id FROM dict WHERE s = ?)` + ids, []any{"PATCH"}},
		{"method DELETE (store)", sel + ` WHERE l.method = (SELECT id FROM dict WHERE s = ?)` + ids, []any{"DELETE"}},
		{"level>=8 (store, class index)", sel + ` WHERE l.level >= ?` + ids, []any{8}},
		{"status 500..599 (store, class index)", sel + ` WHERE l.status >= ? AND l.status <= ?` + ids, []any{500, 599}},
		{"status 404 (store, rowid walk)", sel + ` WHERE +l.status >= ? AND +l.status <= ?` + ids, []any{404, 404}},
		{"request_id (store)", sel + ` WHERE l.request_id = ?` + ids, []any{"nonexistent"}},
		{"client_ip (store)", sel + ` WHERE l.client_ip = ?` + ids, []any{"10.9.9.9"}},
		{"fts lookup only", `SELECT rowid FROM msgs_fts WHERE msgs_fts MATCH ?`, []any{`"xylophone"`}},
		{"text none (store)", sel + ` WHERE (l.msg IN ` + fts + ` OR l.err IN ` + fts + `)` + ids, []any{`"xylophone"`, `"xylophone"`}},
		{"text cache (ids first, then rows)", sel + ` WHERE l.id IN (SELECT id FROM logs WHERE (msg IN ` + fts + ` OR err IN ` + fts + `) AND id >= 1 AND id < 4611686018427387904 ORDER BY id DESC LIMIT 50) ORDER BY l.id DESC`, []any{`"cache"`, `"cache"`}},
		{"status 500..599 (INDEXED BY logs_status)", strings.Replace(sel, "FROM logs l", "FROM logs l INDEXED BY logs_status", 1) + ` WHERE l.status >= ? AND l.status <= ?` + ids, []any{500, 599}},
		{"level>=8 (INDEXED BY logs_level)", strings.Replace(sel, "FROM logs l", "FROM logs l INDEXED BY logs_level", 1) + ` WHERE l.level >= ?` + ids, []any{8}},
		{"rollup count all (store)", `SELECT coalesce(sum(n), 0) FROM rollup`, nil},
		{"rollup count level_class>=3 (store)", `SELECT coalesce(sum(n), 0) FROM rollup WHERE level_class >= ?`, []any{3}},
		{"rollup day by 1h, sums in Go", `SELECT minute, level_class, n FROM rollup`, nil},
		{"rollup 24h by 1h (store)", `SELECT (minute * 60000000000 - ?) / ?, level_class, sum(n) FROM rollup GROUP BY 1, 2`, []any{0, int64(time.Hour)}},
	} {
		var plan []string
		rows, err := h.Query(`EXPLAIN QUERY PLAN `+c.q, c.args...)
		if err != nil {
			t.Fatal(c.name, err)
		}
		for rows.Next() {
			var id, parent, notused int
			var detail string
			rows.Scan(&id, &parent, &notused, &detail)
			plan = append(plan, detail)
		}
		rows.Close()
		best := time.Hour
		var n int
		for range 3 {
			start := time.Now()
			rows, err := h.Query(c.q, c.args...)
			if err != nil {
				t.Fatal(c.name, err)
			}
			n = 0
			for rows.Next() {
				n++
			}
			rows.Close()
			best = min(best, time.Since(start))
		}
		st, err := h.Prepare(c.q)
		if err != nil {
			t.Fatal(c.name, err)
		}
		bestPrep := time.Hour
		for range 3 {
			start := time.Now()
			rows, err := st.Query(c.args...)
			if err != nil {
				t.Fatal(c.name, err)
			}
			for rows.Next() {
			}
			rows.Close()
			bestPrep = min(bestPrep, time.Since(start))
		}
		st.Close()
		t.Logf("%-42s %8.3f ms (prepared %8.3f ms) %3d rows | %s", c.name, float64(best.Microseconds())/1000,
			float64(bestPrep.Microseconds())/1000, n, strings.Join(plan, "; "))
	}
}

// BenchmarkScaleRollupHour measures a per-hour, per-level chart of the
// newest 30 and 60 days of the 60-day database read from the per-minute
// rollup (summed by hour in SQL) and from rollup_hour, on every file of
// those days opened once beforehand (warm): the storage side of a long
// chart, without the store's query planning.
//
//	go test -tags scale -run '^$' -bench ScaleRollupHour -benchtime 20x ./sqlite/
func BenchmarkScaleRollupHour(b *testing.B) {
	src, _ := scaleDB(b, 60)
	files, _ := filepath.Glob(src + ".d/*.db")
	sort.Sort(sort.Reverse(sort.StringSlice(files)))
	var dbs []*sql.DB
	for _, f := range files {
		h, err := sql.Open("sqlite", "file:"+f+"?mode=ro&_pragma=query_only(1)")
		if err != nil {
			b.Fatal(err)
		}
		defer h.Close()
		dbs = append(dbs, h)
	}
	queries := map[string]string{
		"minute": `SELECT (minute - ((minute % 60) + 60) % 60) / 60, level_class, sum(n) FROM rollup GROUP BY 1, 2`,
		"hour":   `SELECT hour, level_class, sum(n) FROM rollup_hour GROUP BY 1, 2`,
	}
	for _, days := range []int{30, 60} {
		for _, table := range []string{"minute", "hour"} {
			b.Run(fmt.Sprintf("days=%d/from=%s", days, table), func(b *testing.B) {
				var total int64
				for b.Loop() {
					total = 0
					for _, h := range dbs[:min(len(dbs), 3*days)] {
						rows, err := h.Query(queries[table])
						if err != nil {
							b.Fatal(err)
						}
						for rows.Next() {
							var hr, lc, n int64
							rows.Scan(&hr, &lc, &n)
							total += n
						}
						rows.Close()
					}
				}
				b.ReportMetric(float64(total), "records")
			})
		}
	}
}
