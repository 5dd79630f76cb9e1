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

// TestDB_checkpointOffWriter: the writer's connection does not
// checkpoint after its commits, yet the WAL stays short while records are
// written, because checkpoints run beside it and the writer catches up
// past the WAL limit (1 MiB here; left alone the WAL grew to three times the file); and
// the records are all there after reopen. Not parallel: it sets the
// package's limit.
func TestDB_checkpointOffWriter(t *testing.T) {
	defer sqlite.SetWALLimit(sqlite.SetWALLimit(250))
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "logs.db")
	db, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	recs := slices.Collect(gen.Records(gen.Options{Rows: 20000, End: now, Span: time.Minute, Seed: 4}))
	for i := range recs {
		recs[i].Level = 0 // all in the info file
		recs[i].Kind = sidelog.KindApp
		recs[i].Time = now
	}
	wal := filepath.Join(path+".d", now.Format("2006-01-02")+"-info.db-wal")
	var largest int64
	for i := 0; i < len(recs); i += 1000 {
		if err := db.WriteBatch(ctx, recs[i:i+1000]); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
		if st, err := os.Stat(wal); err == nil {
			largest = max(largest, st.Size())
		}
	}
	st, err := os.Stat(strings.TrimSuffix(wal, "-wal"))
	if err != nil {
		t.Fatal(err)
	}
	// Unchecked, the WAL holds every page written: about three times
	// the file itself (19 MB here). Checked, it stays within the limit
	// (1 MB) and the few batches written while a checkpoint runs.
	if largest == 0 || largest > st.Size() {
		t.Errorf("WAL reached %d bytes beside a %d-byte file: not checkpointed while writing", largest, st.Size())
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	n, err := db.Count(ctx, sidelog.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(len(recs)) {
		t.Errorf("%d records after reopen, want %d", n, len(recs))
	}
}
