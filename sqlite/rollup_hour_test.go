package sqlite_test

import (
	"context"
	"database/sql"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/sqlite"
)

// hourCounts reads rollup_hour of a segment file: n by hour and level
// class, and the same summed from the per-minute rollup.
func hourCounts(t *testing.T, file string) (hours, fromMinutes map[[2]int64]int64) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+file+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	read := func(q string) map[[2]int64]int64 {
		rows, err := db.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[[2]int64]int64{}
		for rows.Next() {
			var h, lc, n int64
			if err := rows.Scan(&h, &lc, &n); err != nil {
				t.Fatal(err)
			}
			out[[2]int64{h, lc}] += n
		}
		return out
	}
	return read(`SELECT hour, level_class, sum(n) FROM rollup_hour GROUP BY 1, 2`),
		read(`SELECT (minute - ((minute % 60) + 60) % 60) / 60, level_class, sum(n) FROM rollup GROUP BY 1, 2`)
}

// TestDB_rollupHour: the writer keeps per-hour counts equal to the
// per-minute rollup summed by hour, across batches and after erasure.
func TestDB_rollupHour(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "logs.db")
	db, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC)
	var recs []sidelog.Record
	for i := range 500 {
		lvl := slog.LevelInfo
		if i%7 == 0 {
			lvl = slog.LevelError
		}
		recs = append(recs, sidelog.Record{Time: day.Add(time.Duration(i) * 2 * time.Minute), Level: lvl,
			Message: "m", UserID: []string{"a", "b"}[i%2]})
	}
	for i := 0; i < len(recs); i += 37 { // batches that straddle hours
		if err := db.WriteBatch(context.Background(), recs[i:min(i+37, len(recs))]); err != nil {
			t.Fatal(err)
		}
	}
	check := func(want int64) {
		t.Helper()
		var total int64
		for _, class := range []string{"info", "main"} {
			hours, fromMin := hourCounts(t, filepath.Join(path+".d", "2026-03-04-"+class+".db"))
			if len(hours) == 0 || len(hours) != len(fromMin) {
				t.Fatalf("%s: %d hour rows, %d from minutes", class, len(hours), len(fromMin))
			}
			for k, n := range fromMin {
				if hours[k] != n {
					t.Errorf("%s: hour %d class %d: rollup_hour %d, rollup %d", class, k[0], k[1], hours[k], n)
				}
				total += n
			}
		}
		if total != want {
			t.Errorf("rollup_hour counts %d records, want %d", total, want)
		}
	}
	check(500)
	n, err := db.Erase(context.Background(), sqlite.Erasure{UserID: "a"}, "test")
	if err != nil {
		t.Fatal(err)
	}
	check(500 - n)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}
