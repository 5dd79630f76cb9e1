package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/gen"
	"github.com/sidelog/sidelog/sqlite"
)

// MustGenerate writes n generated records spanning span before end.
func MustGenerate(tb testing.TB, db *sqlite.DB, n int, end time.Time, span time.Duration) []sidelog.Record {
	tb.Helper()
	recs := slices.Collect(gen.Records(gen.Options{Rows: n, End: end, Span: span, Seed: 1, Users: 50}))
	for i := 0; i < len(recs); i += 5000 {
		MustWrite(tb, db, recs[i:min(i+5000, len(recs))])
	}
	return recs
}

func expired(r sidelog.Record, pol sidelog.Retention, now time.Time) bool {
	age := pol.MaxAge[sidelog.LevelClass(r.Level)]
	if r.Kind == sidelog.KindAudit || r.Kind == sidelog.KindSecurity {
		age = pol.AuditAge
	}
	return age > 0 && r.Time.Before(now.Add(-age))
}

func TestDB_Cleanup(t *testing.T) {
	t.Parallel()
	db := MustOpen(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 27, 10, 17, 0, 0, time.UTC)
	recs := MustGenerate(t, db, scaled(12000), now, 60*sidelog.Day)
	pol := sidelog.DefaultRetention()
	// Everything but warnings expires inside the span; the oldest days go whole.
	pol.MaxAge[2], pol.MaxAge[3], pol.AuditAge = 45*sidelog.Day, 45*sidelog.Day, 50*sidelog.Day
	var want []int64
	for _, r := range recs {
		if !expired(r, pol, now) {
			want = append(want, r.ID)
		}
	}
	before := db.Size()

	dry, err := db.Cleanup(ctx, pol, now, true)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := db.Count(ctx, sidelog.Filter{}); n != int64(len(recs)) || dry.Removed != int64(len(recs)-len(want)) {
		t.Fatalf("dry run: %d records left, reported %d removed; want %d left and %d reported", n, dry.Removed, len(recs), len(recs)-len(want))
	}

	rep, err := db.Cleanup(ctx, pol, now, false)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Removed != int64(len(recs)-len(want)) || rep.SegmentsDropped == 0 || rep.SegmentsRewritten == 0 {
		t.Errorf("report %+v, want %d removed", rep, len(recs)-len(want))
	}
	var got []int64
	for r, err := range db.Scan(ctx, sidelog.Filter{}) {
		if err != nil {
			t.Fatal(err)
		}
		if isCleanupEvent(r) {
			continue
		}
		got = append(got, r.ID)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("after cleanup %d records, want %d", len(got), len(want))
	}
	if ev := cleanupEvents(t, db); !slices.Equal(ev, []string{"started", "done"}) {
		t.Errorf("cleanup's security events %v, want started and done", ev)
	}
	if after := db.Size(); after >= before {
		t.Errorf("size %d -> %d: the file did not shrink", before, after)
	}
	// Counts, text search and writes still work on rewritten days.
	if n, err := db.Count(ctx, sidelog.Filter{Kinds: []sidelog.Kind{sidelog.KindAudit}}); err != nil || n == 0 {
		t.Errorf("audit count after cleanup = %d, %v", n, err)
	}
	old := now.Add(-40 * sidelog.Day)
	MustWrite(t, db, []sidelog.Record{{Time: old, Message: "late arrival xylophone"}})
	res, err := db.Query(ctx, sidelog.Filter{Text: "xylophone"}, sidelog.Page{})
	if err != nil || len(res.Records) != 1 {
		t.Errorf("write into a rewritten day: %+v, %v", res, err)
	}
	// A second run has nothing left to do.
	if rep, err := db.Cleanup(ctx, pol, now, false); err != nil || rep.Removed != 1 {
		t.Errorf("second run: %+v, %v (want the late info record removed)", rep, err)
	}
}

func TestDB_CleanupMaxBytes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	// The store's clock is the run's, as in a service: the cleanup's own
	// security events go to today's file, not to a new day of their own.
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "logs.db"), sqlite.Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	MustGenerate(t, db, scaled(20000), now, 10*sidelog.Day)
	audits, _ := db.Count(ctx, sidelog.Filter{Kinds: []sidelog.Kind{sidelog.KindAudit, sidelog.KindSecurity}})
	// A limit that removing the oldest days can reach: every day file
	// keeps its tables' pages and its audit records, so a limit below
	// what today and those take is not reachable (under -race the data
	// is a quarter and that floor is about a third of the size).
	limit := db.Size() * 2 / 3
	rep, err := db.Cleanup(ctx, sidelog.Retention{MaxBytes: limit}, now, false)
	if err != nil {
		t.Fatal(err)
	}
	// The size when the removal was done, measured by the store itself:
	// the run's "done" event goes to today's file afterwards, and today's
	// growth is not the cleanup's to bound.
	if rep.BytesAfter > limit || db.Size() >= rep.BytesBefore || rep.Removed == 0 {
		t.Errorf("size %d after cleanup, limit %d; report %+v", rep.BytesAfter, limit, rep)
	}
	// Oldest first, and no further than the limit asks: the oldest day
	// keeps no ordinary record, yesterday keeps its own.
	ordinary := []sidelog.Kind{sidelog.KindApp, sidelog.KindRequest}
	day := func(d int) sidelog.Filter {
		start := now.Truncate(24*time.Hour).AddDate(0, 0, d)
		return sidelog.Filter{Kinds: ordinary, Since: start, Until: start.AddDate(0, 0, 1)}
	}
	if n, _ := db.Count(ctx, day(-9)); n != 0 {
		t.Errorf("the oldest day keeps %d ordinary records after a size cleanup", n)
	}
	if n, _ := db.Count(ctx, day(-1)); n == 0 {
		t.Errorf("yesterday lost every ordinary record: the cleanup went past the limit %d (report %+v)", limit, rep)
	}
	if n, _ := db.Count(ctx, sidelog.Filter{Kinds: []sidelog.Kind{sidelog.KindAudit, sidelog.KindSecurity}}); n != audits+2 {
		t.Errorf("audit and security records %d -> %d: size cleanup must keep them (and add its started and done events)", audits, n)
	}
	if ev := cleanupEvents(t, db); !slices.Equal(ev, []string{"started", "done"}) {
		t.Errorf("cleanup's security events %v, want started and done", ev)
	}
}

func TestDB_Purge(t *testing.T) {
	t.Parallel()
	db := MustOpen(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	recs := MustGenerate(t, db, scaled(5000), now, 3*sidelog.Day)
	MustWrite(t, db, []sidelog.Record{{Time: now, UserID: "7", Message: "secret note for quokka"}})
	var want int64 = 1
	for _, r := range recs {
		if r.UserID == "7" {
			want++
		}
	}
	total, _ := db.Count(ctx, sidelog.Filter{})
	n, err := db.Purge(ctx, "7", "", "admin")
	if err != nil || n != want {
		t.Fatalf("Purge = %d, %v; want %d", n, err, want)
	}
	if c, _ := db.Count(ctx, sidelog.Filter{UserID: "7"}); c != 0 {
		t.Errorf("%d records of user 7 left", c)
	}
	if res, _ := db.Query(ctx, sidelog.Filter{Text: "quokka"}, sidelog.Page{}); len(res.Records) != 0 {
		t.Errorf("purged message still found by text search")
	}
	// The rollup follows: total count = before - purged + the security
	// events (started, done).
	if c, _ := db.Count(ctx, sidelog.Filter{}); c != total-n+2 {
		t.Errorf("count %d, want %d", c, total-n+2)
	}
	ev, err := db.Query(ctx, sidelog.Filter{Kinds: []sidelog.Kind{sidelog.KindSecurity}, UserID: "admin"}, sidelog.Page{})
	if err != nil || len(ev.Records) != 2 || !strings.HasPrefix(ev.Records[0].Message, "purged ") || !strings.HasSuffix(ev.Records[1].Message, " started") {
		t.Errorf("purge events: %+v, %v", ev, err)
	}
	MustWrite(t, db, []sidelog.Record{{Time: now, UserID: "8", Message: "secret note for quokka"}})
	if res, _ := db.Query(ctx, sidelog.Filter{Text: "quokka"}, sidelog.Page{}); len(res.Records) != 1 || res.Records[0].Message != "secret note for quokka" {
		t.Errorf("a message purged and written again: %+v", res.Records)
	}
	if _, err := db.Purge(ctx, "", "", "admin"); sidelog.ErrorCode(err) != sidelog.EINVALID {
		t.Errorf("purge of nobody: %v", err)
	}
}

func TestDB_StatsCheckVacuum(t *testing.T) {
	t.Parallel()
	db := MustOpen(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	recs := MustGenerate(t, db, 3000, now, 2*sidelog.Day)
	st, err := db.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var byKind [4]int64
	for _, r := range recs {
		byKind[r.Kind]++
	}
	if st.Records != 3000 || st.ByKind != byKind || !st.Newest.Equal(recs[len(recs)-1].Time) || !st.Oldest.Equal(recs[0].Time) || st.Segments != 9 { // 3 days × 3 classes
		t.Errorf("stats %+v", st)
	}
	if probs, err := db.Check(ctx); err != nil || len(probs) != 0 {
		t.Errorf("Check = %v, %v", probs, err)
	}
	if err := db.Vacuum(ctx); err != nil {
		t.Fatal(err)
	}
	// Corrupt one segment's pages: Check must say so.
	ents, _ := os.ReadDir(db.Path() + ".d")
	seg := db.Path() + ".d/" + ents[0].Name()
	f, err := os.OpenFile(seg, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	junk := make([]byte, 4096)
	for i := range junk {
		junk[i] = 0xA5
	}
	f.WriteAt(junk, 4096*3)
	f.Close()
	db2, err := sqlite.Open(ctx, db.Path(), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	probs, err := db2.Check(ctx)
	if err != nil || len(probs) == 0 {
		t.Errorf("Check of a corrupt segment = %v, %v; want problems", probs, err)
	}
}

func TestSQLiteVersion(t *testing.T) {
	t.Parallel()
	v, err := MustOpen(t).SQLiteVersion(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("SQLite %s", v)
	if v < sqlite.MinSQLiteVersion && len(v) == len(sqlite.MinSQLiteVersion) {
		t.Errorf("SQLite %s is older than %s", v, sqlite.MinSQLiteVersion)
	}
}

func TestDB_Retention(t *testing.T) {
	t.Parallel()
	db := MustOpen(t)
	ctx := context.Background()
	got, err := db.Retention(ctx)
	if err != nil || got != sidelog.DefaultRetention() {
		t.Fatalf("Retention of a new database = %+v, %v; want the default", got, err)
	}
	want := sidelog.Retention{MaxAge: [4]time.Duration{sidelog.Day, 2 * sidelog.Day, 3 * sidelog.Day, 0}, AuditAge: 400 * sidelog.Day, MaxBytes: 1 << 30}
	if err := db.SetRetention(ctx, want); err != nil {
		t.Fatal(err)
	}
	if got, err := db.Retention(ctx); err != nil || got != want {
		t.Errorf("Retention = %+v, %v; want %+v", got, err, want)
	}
	bad := want
	bad.MaxAge[1] = -1
	if err := db.SetRetention(ctx, bad); sidelog.ErrorCode(err) != sidelog.EINVALID {
		t.Errorf("SetRetention(negative) = %v", err)
	}
}

func TestDB_WriteCorruptSegment(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := t.TempDir() + "/logs.db"
	db, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	MustWrite(t, db, []sidelog.Record{{Time: now, Message: "before the damage"}})
	db.Close()
	seg := path + ".d/" + now.Format("2006-01-02") + "-info.db"
	if err := os.WriteFile(seg, []byte("this day file was overwritten by something else entirely, not sqlite at all"), 0o600); err != nil {
		t.Fatal(err)
	}
	os.Remove(seg + "-wal")
	if db, err = sqlite.Open(ctx, path, sqlite.Options{}); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	MustWrite(t, db, []sidelog.Record{{Time: now, Message: "after the damage"}})
	res, err := db.Query(ctx, sidelog.Filter{Kinds: []sidelog.Kind{sidelog.KindApp}}, sidelog.Page{})
	if err != nil || len(res.Records) != 1 || res.Records[0].Message != "after the damage" {
		t.Fatalf("after writing past a corrupt day file: %+v, %v", res.Records, err)
	}
	ev, err := db.Query(ctx, sidelog.Filter{Kinds: []sidelog.Kind{sidelog.KindSecurity}}, sidelog.Page{})
	if err != nil || len(ev.Records) != 1 || !strings.Contains(ev.Records[0].Message, "set aside damaged log file") {
		t.Errorf("security events after setting a file aside: %+v, %v", ev.Records, err)
	}
	if m, _ := filepath.Glob(seg + ".corrupt-*"); len(m) != 1 {
		t.Errorf("the damaged file was not kept aside: %v", m)
	}
}

func TestDB_StartRetention(t *testing.T) {
	t.Parallel()
	db := MustOpen(t)
	ctx := context.Background()
	old := time.Now().Add(-3 * sidelog.Day)
	MustWrite(t, db, []sidelog.Record{{Time: old, Message: "old"}, {Time: time.Now(), Message: "new"}})
	pol := sidelog.DefaultRetention()
	pol.MaxAge[1] = sidelog.Day
	if err := db.SetRetention(ctx, pol); err != nil {
		t.Fatal(err)
	}
	reports := make(chan sqlite.CleanupReport, 1)
	stop := db.StartRetention(time.Hour, func(rep sqlite.CleanupReport, err error) {
		if err != nil {
			t.Error(err)
		}
		reports <- rep
	})
	rep := <-reports
	stop()
	if rep.Removed != 1 || rep.SegmentsDropped != 1 {
		t.Errorf("background run %+v: want the old info file deleted", rep)
	}
	if n, _ := db.Count(ctx, sidelog.Filter{Kinds: []sidelog.Kind{sidelog.KindApp}}); n != 1 {
		t.Errorf("%d records left, want 1", n)
	}
	if ev := cleanupEvents(t, db); !slices.Equal(ev, []string{"started", "done"}) {
		t.Errorf("cleanup's security events %v, want started and done", ev)
	}
}

// isCleanupEvent reports whether r is a security event of a cleanup run.
func isCleanupEvent(r sidelog.Record) bool {
	return r.Kind == sidelog.KindSecurity && r.Logger == "sidelog" && strings.HasPrefix(r.Message, "retention cleanup ")
}

// cleanupEvents returns the words after "retention cleanup" of the
// cleanup runs' security events, oldest first.
func cleanupEvents(t *testing.T, db *sqlite.DB) []string {
	t.Helper()
	var out []string
	for r, err := range db.Scan(context.Background(), sidelog.Filter{Kinds: []sidelog.Kind{sidelog.KindSecurity}}) {
		if err != nil {
			t.Fatal(err)
		}
		if isCleanupEvent(r) {
			w, _, _ := strings.Cut(strings.TrimPrefix(r.Message, "retention cleanup "), ":")
			out = append(out, w)
		}
	}
	return out
}
