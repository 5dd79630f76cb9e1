package sqlite_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/sqlite"
)

// chainRows is the size of BenchmarkVerifyChain: 1,000,000 records, or
// $SIDELOG_CHAIN_ROWS.
func chainRows() int {
	if n, err := strconv.Atoi(os.Getenv("SIDELOG_CHAIN_ROWS")); err == nil && n > 0 {
		return n
	}
	return 1_000_000
}

// BenchmarkVerifyChain verifies a clean chain of chainRows() audit records
// (default 1,000,000) over ten days, each with a realistic diff:
//
//	go test -run '^$' -bench VerifyChain -benchtime 3x ./sqlite/
func BenchmarkVerifyChain(b *testing.B) {
	ctx := context.Background()
	rows := chainRows()
	db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "logs.db"), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	step := 10 * 24 * time.Hour / time.Duration(rows)
	const batch = 10_000
	built := time.Now()
	for i := 0; i < rows; i += batch {
		recs := make([]sidelog.Record, 0, batch)
		for j := i; j < min(i+batch, rows); j++ {
			attrs, _ := json.Marshal(map[string]any{
				"entity": "project", "entity_id": fmt.Sprint(j % 5000), "action": "update", "actor": fmt.Sprint("user ", j%300),
				"diff":      map[string][2]any{"name": {fmt.Sprint("Project ", j), fmt.Sprint("Project ", j+1)}, "budget_cents": {j, j + 100}},
				"refs":      []string{fmt.Sprint("org ", j%40)},
				"outbox_id": j,
			})
			recs = append(recs, sidelog.Record{Time: start.Add(time.Duration(j) * step), Level: slog.LevelInfo, Kind: sidelog.KindAudit,
				Logger: "audit", Message: fmt.Sprintf("update project %d: budget_cents, name [org %d]", j%5000, j%40),
				UserID: fmt.Sprint(j % 300), TenantID: fmt.Sprint(j % 40), RequestID: fmt.Sprintf("req-%08d", j), ClientIP: "192.0.2.7",
				Attrs: attrs})
		}
		if err := db.WriteBatch(ctx, recs); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("wrote %d chained records in %s", rows, time.Since(built).Round(time.Millisecond))
	b.ResetTimer()
	for range b.N {
		rep, err := db.VerifyChain(ctx, sqlite.VerifyOptions{})
		if err != nil || !rep.OK || rep.Checked != int64(rows) {
			b.Fatalf("verify: %+v, %v", rep, err)
		}
	}
	b.ReportMetric(float64(rows), "records")
}
