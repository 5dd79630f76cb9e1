package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sidelog/sidelog"
)

var derivedT0 = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

// derivedRecords returns n records with varied attributes, half of them
// requests.
func derivedRecords(n int) []sidelog.Record {
	recs := make([]sidelog.Record, n)
	for i := range recs {
		r := sidelog.Record{Time: derivedT0.Add(time.Duration(i) * 7 * time.Second), Level: slog.LevelInfo, Message: "m"}
		switch i % 4 {
		case 0:
			r.Attrs = json.RawMessage(fmt.Sprintf(`{"project_id":%d,"user":{"email":"u%d@example.com"},"tags":["a","b%d"]}`, i%7, i%3, i%2))
		case 1:
			r.Attrs = json.RawMessage(fmt.Sprintf(`{"order":{"total":%d.5,"paid":%v},"note":null}`, i, i%3 == 0))
		}
		if i%2 == 0 {
			r.Kind, r.Route, r.Method, r.Status = sidelog.KindRequest, "GET /p/{id}", "GET", []int{200, 404, 500}[i%3]
			r.Duration = time.Duration(1+i%50) * time.Millisecond
			if i%10 == 0 {
				r.Level = slog.LevelWarn // another file of the day
			}
		}
		recs[i] = r
	}
	return recs
}

// dumpDerived returns the derived tables of a segment file as text.
func dumpDerived(t *testing.T, path string) string {
	t.Helper()
	h, err := sql.Open(driverName, "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	var lines []string
	q := func(query string) {
		rows, err := h.Query(query)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				if b, ok := v.([]byte); ok {
					hist := durHist{}
					if err := hist.decode(b); err != nil {
						t.Fatal(err)
					}
					vals[i] = fmt.Sprint(map[uint16]uint64(hist))
				}
			}
			var f []string
			for _, v := range vals {
				f = append(f, fmt.Sprint(v))
			}
			lines = append(lines, strings.Join(f, " "))
		}
	}
	if _, err := h.Exec(`CREATE VIRTUAL TABLE temp.vocab USING fts5vocab(main, attrs_fts, 'instance')`); err != nil {
		t.Fatal(err)
	}
	q(`SELECT * FROM temp.vocab ORDER BY doc, "offset"`)
	q(`SELECT * FROM attr_keys ORDER BY path`)
	q(`SELECT * FROM reqs_minute ORDER BY 1, 2, 3, 4`)
	q(`SELECT * FROM reqs_hour ORDER BY 1, 2, 3, 4`)
	q(`SELECT 'rollup_hour', * FROM rollup_hour ORDER BY 2, 3, 4, 5`)
	return strings.Join(lines, "\n")
}

func mustOpen(t *testing.T) *DB {
	t.Helper()
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "logs.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestDerived_WriterMatchesRebuild checks that what the writer keeps batch
// by batch equals what a rebuild from the rows gives (the rebuild serves
// retention rewrites and old files), and spot-checks the index.
func TestDerived_WriterMatchesRebuild(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := mustOpen(t)
	recs := derivedRecords(600)
	for i := 0; i < len(recs); i += 37 {
		if err := db.WriteBatch(ctx, recs[i:min(i+37, len(recs))]); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	for _, name := range []string{"2026-11-20-info.db", "2026-11-20-main.db"} {
		path := filepath.Join(db.dir, name)
		written := dumpDerived(t, path)
		if written == "" {
			t.Fatalf("%s: no derived rows", name)
		}
		h, err := sql.Open(driverName, "file:"+path)
		if err != nil {
			t.Fatal(err)
		}
		tx, err := h.Begin()
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{`INSERT INTO attrs_fts(attrs_fts) VALUES ('delete-all')`, `DELETE FROM attr_keys`, `DELETE FROM reqs_minute`, `DELETE FROM reqs_hour`} {
			if _, err := tx.Exec(q); err != nil {
				t.Fatal(err)
			}
		}
		if err := rebuildDerived(ctx, tx, "main"); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		h.Close()
		if rebuilt := dumpDerived(t, path); rebuilt != written {
			t.Errorf("%s: writer and rebuild differ:\nwriter:\n%s\nrebuild:\n%s", name, written, rebuilt)
		}
	}
	// Spot checks on the info file.
	h, err := sql.Open(driverName, "file:"+filepath.Join(db.dir, "2026-11-20-info.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	var n int
	if err := h.QueryRow(`SELECT count(*) FROM attrs_fts WHERE attrs_fts MATCH '"u1 example com"'`).Scan(&n); err != nil || n == 0 {
		t.Errorf("e-mail phrase: %d rows, %v", n, err)
	}
	if err := h.QueryRow(`SELECT count(*) FROM attrs_fts WHERE attrs_fts MATCH ?`, valueToken("project_id", "3")).Scan(&n); err != nil || n == 0 {
		t.Errorf("project_id:3: %d rows, %v", n, err)
	}
	// No word of the test data starts with k or v: a prefix search must not
	// reach the hash tokens.
	if err := h.QueryRow(`SELECT count(*) FROM attrs_fts WHERE attrs_fts MATCH 'v* OR k*'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("prefix search reached hash tokens: %d rows, %v", n, err)
	}
	if err := h.QueryRow(`SELECT n FROM attr_keys WHERE path = 'order'`).Scan(&n); err != nil || n != 150 {
		t.Errorf("rows with order: %d, %v (want 150)", n, err)
	}
	var reqs int64
	if err := h.QueryRow(`SELECT sum(n) FROM reqs_minute`).Scan(&reqs); err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, r := range recs {
		if r.Kind == sidelog.KindRequest && r.Level == slog.LevelInfo {
			want++
		}
	}
	if reqs != int64(want) {
		t.Errorf("requests in reqs_minute: %d, want %d", reqs, want)
	}
}

// TestDerived_UpgradeOldFile checks that a day file written before the
// attribute index existed is migrated and filled when it is first read.
func TestDerived_UpgradeOldFile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := mustOpen(t)
	recs := derivedRecords(200)
	if err := db.WriteBatch(ctx, recs); err != nil {
		t.Fatal(err)
	}
	db.Close()
	path := filepath.Join(db.dir, "2026-11-20-info.db")
	want := dumpDerived(t, path)

	// Take the file back to schema version 1.
	h, err := sql.Open(driverName, "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`DROP TABLE attrs_fts`, `DROP TABLE attr_keys`, `DROP TABLE reqs_minute`, `DROP TABLE reqs_hour`,
		`DROP INDEX logs_chain`, `ALTER TABLE logs DROP COLUMN chain_hash`, `ALTER TABLE logs DROP COLUMN chain_seq`, // 0003
		`DROP TABLE rollup_hour`, // 0004
		`DELETE FROM schema_migrations WHERE version > 1`} {
		if _, err := h.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	h.Close()

	db2, err := Open(ctx, db.path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db2.Query(ctx, sidelog.Filter{}, sidelog.Page{}); err != nil {
		t.Fatal(err)
	}
	db2.Close()
	if got := dumpDerived(t, path); got != want {
		t.Errorf("after upgrade:\n%s\nwant:\n%s", got, want)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
}

// TestDerived_Rewrite checks that a retention rewrite leaves derived
// tables that describe exactly the surviving rows.
func TestDerived_Rewrite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := mustOpen(t)
	recs := derivedRecords(400) // 400 × 7 s: the main file's rows span 46 minutes
	if err := db.WriteBatch(ctx, recs); err != nil {
		t.Fatal(err)
	}
	// Warnings expire after a day: at now, those before cut have.
	pol := sidelog.DefaultRetention()
	pol.MaxAge[2], pol.MaxBytes = 24*time.Hour, 0
	cut := derivedT0.Add(20 * time.Minute)
	now := cut.Add(24 * time.Hour)
	rep, err := db.Cleanup(ctx, pol, now, false)
	if err != nil {
		t.Fatal(err)
	}
	if rep.SegmentsRewritten == 0 {
		t.Fatalf("nothing rewritten: %+v", rep)
	}
	db.Close()
	path := filepath.Join(db.dir, "2026-11-20-main.db")
	got := dumpDerived(t, path)

	// The same survivors written afresh.
	fresh := mustOpen(t)
	var keep []sidelog.Record
	for _, r := range derivedRecords(400) {
		if r.Level != slog.LevelWarn || !r.Time.Before(cut) {
			keep = append(keep, r)
		}
	}
	if err := fresh.WriteBatch(ctx, keep); err != nil {
		t.Fatal(err)
	}
	fresh.Close()
	want := dumpDerived(t, filepath.Join(fresh.dir, "2026-11-20-main.db"))
	// Rowids differ (the fresh file numbers its rows anew), so compare
	// everything but the index's doc column.
	strip := func(s string) string {
		var out []string
		for _, l := range strings.Split(s, "\n") {
			f := strings.Fields(l)
			if len(f) == 4 { // vocab: term doc col offset
				f[1] = "_"
			}
			out = append(out, strings.Join(f, " "))
		}
		slices.Sort(out)
		return strings.Join(out, "\n")
	}
	if strip(got) != strip(want) {
		t.Errorf("after rewrite:\n%s\nwant:\n%s", got, want)
	}
}

// TestDelete_KeepsDerived checks that delete by query leaves the attribute
// index, the key counts and the request rollups as a rebuild from the rows
// left would make them, and that an attribute word of the deleted rows is
// gone from the index.
func TestDelete_KeepsDerived(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := mustOpen(t)
	recs := derivedRecords(600)
	// A word only the deleted records carry in their attributes.
	for i := range recs {
		if i%8 == 0 {
			recs[i].Attrs = json.RawMessage(fmt.Sprintf(`{"project_id":%d,"gone":{"email":"zapme%d@example.com"}}`, i%7, i))
		}
	}
	for i := 0; i < len(recs); i += 50 {
		if err := db.WriteBatch(ctx, recs[i:min(i+50, len(recs))]); err != nil {
			t.Fatal(err)
		}
	}
	f, err := sidelog.ParseQuery("has:gone", derivedT0)
	if err != nil {
		t.Fatal(err)
	}
	n, err := db.Delete(ctx, f, "admin")
	if err != nil || n != 75 {
		t.Fatalf("Delete = %d, %v; want 75", n, err)
	}
	// The request analytics from the rollups match the rows left.
	var left []sidelog.Record
	for _, r := range recs {
		if !f.Match(&r) {
			left = append(left, r)
		}
	}
	got, err := db.Requests(ctx, sidelog.Filter{}, "status")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{}
	for _, r := range left {
		if r.Kind == sidelog.KindRequest {
			want[fmt.Sprintf("%dxx", r.Status/100)]++
		}
	}
	for _, st := range got {
		if st.Count != want[st.Key] {
			t.Errorf("requests of status %s: %d from the rollups, %d in the rows left", st.Key, st.Count, want[st.Key])
		}
		delete(want, st.Key)
	}
	if len(want) > 0 {
		t.Errorf("groups missing from the rollups: %v", want)
	}
	db.Close()
	for _, name := range []string{"2026-11-20-info.db", "2026-11-20-main.db"} {
		path := filepath.Join(db.dir, name)
		kept := dumpDerived(t, path)
		h, err := sql.Open(driverName, "file:"+path)
		if err != nil {
			t.Fatal(err)
		}
		var words int
		if err := h.QueryRow(`SELECT count(*) FROM attrs_fts WHERE attrs_fts MATCH 'zapme*'`).Scan(&words); err != nil || words != 0 {
			t.Errorf("%s: the deleted rows' attribute words are still indexed in %d documents (%v)", name, words, err)
		}
		tx, err := h.Begin()
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{`INSERT INTO attrs_fts(attrs_fts) VALUES ('delete-all')`, `DELETE FROM attr_keys`, `DELETE FROM reqs_minute`, `DELETE FROM reqs_hour`} {
			if _, err := tx.Exec(q); err != nil {
				t.Fatal(err)
			}
		}
		if err := rebuildDerived(ctx, tx, "main"); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		h.Close()
		if rebuilt := dumpDerived(t, path); rebuilt != kept {
			t.Errorf("%s: after delete by query, the derived tables differ from a rebuild:\nkept:\n%s\nrebuild:\n%s", name, kept, rebuilt)
		}
	}
}

// TestFileMayMatch checks the skipping of files by their class name
// against every level and kind a record can have: a file is never skipped
// for a filter one of its records matches, and is skipped where none can.
func TestFileMayMatch(t *testing.T) {
	levels := []slog.Level{-8, -5, -4, -1, 0, 1, 3, 4, 5, 7, 8, 12}
	kinds := sidelog.Kinds()
	var filters []sidelog.Filter
	for _, lo := range append([]slog.Level{-100}, levels...) {
		for _, hi := range append([]slog.Level{100}, levels...) {
			if hi < lo {
				continue
			}
			for mask := range 1 << len(kinds) {
				f := sidelog.Filter{}
				if lo != -100 {
					f.MinLevel = &lo
				}
				if hi != 100 {
					f.MaxLevel = &hi
				}
				for i, k := range kinds {
					if mask&(1<<i) != 0 {
						f.Kinds = append(f.Kinds, k)
					}
				}
				filters = append(filters, f)
			}
		}
	}
	for _, f := range filters {
		var may [3]bool
		for _, l := range levels {
			for _, k := range kinds {
				r := sidelog.Record{Level: l, Kind: k}
				if f.Match(&r) {
					may[fileClassOf(&r)] = true
				}
			}
		}
		for c := range may {
			if got := fileMayMatch(fileClass(c), f); got != may[c] {
				t.Errorf("fileMayMatch(%s, %s) = %v, want %v", classNames[c], sidelog.FormatQuery(f), got, may[c])
			}
		}
	}
}

func TestRarestWord(t *testing.T) {
	for in, want := range map[string]string{
		"ord_0badf00d": "0badf00d", "user42@example.com": "user42", "pro": "pro", "a bc": "bc",
		"Grüße aus Köln": "Grüße", "--": "", "": "", "x1 y22 zzz": "y22",
	} {
		if got := rarestWord(in); got != want {
			t.Errorf("rarestWord(%q) = %q, want %q", in, got, want)
		}
	}
}
