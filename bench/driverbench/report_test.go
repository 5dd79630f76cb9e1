//go:build driverbench

package driverbench

import (
	"database/sql"
	"path/filepath"
	"testing"
)

// TestWriter checks, with each driver, that the benchmark's writer stores
// what it claims: every row, a complete FTS index over msgs, and a rollup
// that adds up.
func TestWriter(t *testing.T) {
	for _, d := range Drivers() {
		t.Run(d.Name, func(t *testing.T) {
			ctx := t.Context()
			path := filepath.Join(t.TempDir(), "segment.db")
			if err := buildSegment(ctx, d, path, 2*batchRows, t.Logf); err != nil {
				t.Fatal(err)
			}
			db, err := d.Open(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			v, err := Version(ctx, db)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: sqlite_version() = %s", d.Name, v)
			if _, err := db.ExecContext(ctx, "INSERT INTO msgs_fts(msgs_fts) VALUES ('integrity-check')"); err != nil {
				t.Fatalf("fts integrity: %v", err)
			}
			for q, want := range map[string]int64{
				"SELECT count(*) FROM logs":                                           2 * batchRows,
				"SELECT sum(n) FROM rollup":                                           2 * batchRows,
				"SELECT count(*) FROM logs WHERE msg NOT IN (SELECT id FROM msgs)":    0,
				"SELECT count(*) FROM logs WHERE logger NOT IN (SELECT id FROM dict)": 0,
			} {
				if got := mustInt(t, db, q); got != want {
					t.Errorf("%s = %d, want %d", q, got, want)
				}
			}
		})
	}
}

// TestSegmentReport describes the million-row segment: size by table and
// index, the distribution the queries rely on, and each query's plan.
func TestSegmentReport(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the million-row segment")
	}
	ctx := t.Context()
	d := Drivers()[0]
	db, err := d.Open(ctx, mustCopyFixture(t, d))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	size, err := fileBytes(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	n := mustInt(t, db, "SELECT count(*) FROM logs")
	t.Logf("file %d bytes, %d rows: %.0f bytes/row, %.1f MiB per million rows",
		size, n, float64(size)/float64(n), float64(size)/float64(n)*1e6/(1<<20))
	for _, q := range []string{
		"SELECT count(*) FROM msgs", "SELECT count(*) FROM dict",
		"SELECT count(*) FROM logs WHERE level >= 8", "SELECT count(*) FROM logs WHERE status >= 500",
		"SELECT count(*) FROM logs WHERE kind = 1",
		"SELECT count(*) FROM logs WHERE msg IN (SELECT rowid FROM msgs_fts WHERE msgs_fts MATCH '" + rareWord + "')",
		"SELECT avg(length(attrs)) FROM logs",
	} {
		t.Logf("%-110s %d", q, mustInt(t, db, q))
	}
	rows, err := db.QueryContext(ctx, `SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC`)
	if err != nil {
		t.Logf("dbstat: %v", err)
	} else {
		for rows.Next() {
			var name string
			var bytes int64
			if err := rows.Scan(&name, &bytes); err != nil {
				t.Fatal(err)
			}
			t.Logf("  %-20s %12d bytes  %5.1f%%  %6.1f bytes/row", name, bytes, 100*float64(bytes)/float64(size), float64(bytes)/float64(n))
		}
		rows.Close()
	}
	p, err := LoadParams(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range Queries {
		var args []any
		if q.Args != nil {
			args = q.Args(p)
		}
		rows, err := db.QueryContext(ctx, "EXPLAIN QUERY PLAN "+q.SQL, args...)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id, parent, notused int64
			var detail string
			if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
				t.Fatal(err)
			}
			t.Logf("plan %-20s %s", q.Name, detail)
		}
		rows.Close()
	}
}

func mustInt(t *testing.T, db *sql.DB, q string) int64 {
	t.Helper()
	var n sql.NullFloat64
	if err := db.QueryRowContext(t.Context(), q).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return int64(n.Float64)
}
