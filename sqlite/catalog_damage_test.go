package sqlite_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/sqlite"
)

// lockedBuffer is a bytes.Buffer safe for the store's concurrent warnings.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestDB_CatalogDamagedWhileOpen: a catalog damaged while the store runs
// is handled like one found damaged at Open: set aside with a timestamped
// name, a line on the warnings writer and a security event, a new catalog
// in its place, and the store keeps working (settings, writes, queries);
// Check lists the set-aside file.
func TestDB_CatalogDamagedWhileOpen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "logs.db")
	var warn lockedBuffer
	clock := time.Date(2026, 11, 27, 10, 17, 0, 0, time.UTC)
	db, err := sqlite.Open(ctx, path, sqlite.Options{Warnings: &warn, Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sqlite.CatalogFreshConns(db)
	MustWrite(t, db, []sidelog.Record{{Time: clock.Add(-time.Hour), Message: "before the damage"}})
	pol := sidelog.DefaultRetention()
	pol.MaxAge[1] = 3 * sidelog.Day
	if err := db.SetRetention(ctx, pol); err != nil {
		t.Fatal(err)
	}

	// The disk damages the catalog's first page.
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(bytes.Repeat([]byte("garbage!"), 512), 0); err != nil {
		t.Fatal(err)
	}
	f.Close()

	got, err := db.Retention(ctx)
	if err != nil {
		t.Fatalf("retention policy after the catalog was damaged: %v", err)
	}
	if got.MaxAge[1] != sidelog.DefaultRetention().MaxAge[1] {
		t.Errorf("policy %+v: want the default, the saved one was in the damaged catalog", got)
	}
	aside := "logs.db.corrupt-20261127T101700Z"
	if !strings.Contains(warn.String(), "set aside damaged log file logs.db as "+aside) {
		t.Errorf("warnings: %q", warn.String())
	}
	if _, err := os.Stat(filepath.Join(dir, aside)); err != nil {
		t.Errorf("the damaged catalog is not kept as %s: %v", aside, err)
	}

	// Logging, queries and settings go on.
	MustWrite(t, db, []sidelog.Record{{Time: clock, Message: "after the damage"}})
	if n, err := db.Count(ctx, sidelog.Filter{Kinds: []sidelog.Kind{sidelog.KindApp}}); n != 2 || err != nil {
		t.Errorf("%d records (%v), want both", n, err)
	}
	if err := db.SetRetention(ctx, pol); err != nil {
		t.Errorf("save the policy in the new catalog: %v", err)
	}
	ev, err := db.Query(ctx, sidelog.Filter{Kinds: []sidelog.Kind{sidelog.KindSecurity}, Text: `"set aside damaged log file"`}, sidelog.Page{})
	if err != nil || len(ev.Records) != 1 || !strings.Contains(ev.Records[0].Message, aside) {
		t.Errorf("security event: %+v, %v", ev.Records, err)
	}
	probs, err := db.Check(ctx)
	if err != nil || len(probs) != 1 || probs[0].File != aside {
		t.Errorf("check: %+v, %v; want the set-aside catalog only", probs, err)
	}
}
