package sqlite_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/sqlite"
)

// readAll follows db from p in batches of n until it is up to date.
func readAll(t *testing.T, db *sqlite.DB, p sidelog.Position, n int) ([]sidelog.Record, sidelog.Position) {
	t.Helper()
	var out []sidelog.Record
	for {
		recs, next, err := db.ReadAfter(context.Background(), p, n)
		if err != nil {
			t.Fatal(err)
		}
		p = next
		if len(recs) == 0 {
			return out, p
		}
		out = append(out, recs...)
	}
}

func msgs(recs []sidelog.Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.Message
	}
	return out
}

func TestDB_ReadAfter(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := MustOpen(t)
	var recs []sidelog.Record
	for i := range 25 {
		// Three days, every level class, so records spread over class files.
		recs = append(recs, sidelog.Record{Time: t0.Add(time.Duration(i) * 3 * time.Hour), Level: slog.Level(4*(i%4) - 4), Message: fmt.Sprint("m", i)})
	}
	MustWrite(t, db, recs)
	got, p := readAll(t, db, nil, 4)
	if len(got) != 25 {
		t.Fatalf("read %d records, want 25: %v", len(got), msgs(got))
	}
	for i, r := range got {
		if r.Message != fmt.Sprint("m", i) {
			t.Fatalf("record %d is %q: order lost: %v", i, r.Message, msgs(got))
		}
	}
	if n, _, err := db.Backlog(ctx, p); err != nil || n != 0 {
		t.Fatalf("Backlog after reading all = %d, %v", n, err)
	}

	t.Run("late record in an older day", func(t *testing.T) {
		late := []sidelog.Record{{Time: t0.Add(time.Minute), Message: "late"}, {Time: t0.Add(100 * time.Hour), Message: "new"}}
		MustWrite(t, db, late)
		n, oldest, err := db.Backlog(ctx, p)
		if err != nil || n != 2 || !oldest.Equal(t0.Add(time.Minute)) {
			t.Fatalf("Backlog = %d, %v, %v; want 2 from %v", n, oldest, err, t0.Add(time.Minute))
		}
		got, p2 := readAll(t, db, p, 10)
		if fmt.Sprint(msgs(got)) != "[late new]" {
			t.Fatalf("read %v, want [late new]", msgs(got))
		}
		p = p2
	})

	t.Run("position saved and loaded", func(t *testing.T) {
		if err := db.SavePosition(ctx, "otlp", p); err != nil {
			t.Fatal(err)
		}
		q, err := db.LoadPosition(ctx, "otlp")
		if err != nil || fmt.Sprint(q) != fmt.Sprint(p) {
			t.Fatalf("LoadPosition = %v, %v; want %v", q, err, p)
		}
		if q, err := db.LoadPosition(ctx, "other"); err != nil || q != nil {
			t.Fatalf("unsaved position = %v, %v", q, err)
		}
		for _, bad := range []string{"", "a.b", "x y", "ä", string(make([]byte, 65))} {
			if err := db.SavePosition(ctx, bad, p); sidelog.ErrorCode(err) != sidelog.EINVALID {
				t.Errorf("SavePosition(%q) = %v, want EINVALID", bad, err)
			}
		}
	})

	if _, _, err := db.ReadAfter(ctx, nil, 0); sidelog.ErrorCode(err) != sidelog.EINVALID {
		t.Errorf("ReadAfter limit 0 = %v, want EINVALID", err)
	}
}

// A follower that had read the newest records of a day must see the new
// ones written after those were purged and the database reopened, though
// the writer would otherwise hand out the purged records' IDs again.
func TestDB_ReadAfter_PurgedTailReopened(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "logs.db")
	db, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Yesterday's records: the purge's own security event goes to today.
	now := time.Now().UTC().Add(-sidelog.Day)
	MustWrite(t, db, []sidelog.Record{{Time: now, Message: "keep"}, {Time: now.Add(time.Millisecond), Message: "gone1", UserID: "9"}, {Time: now.Add(2 * time.Millisecond), Message: "gone2", UserID: "9"}})
	_, p := readAll(t, db, nil, 10)
	if err := db.SavePosition(ctx, "otlp", p); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Purge(ctx, "9", "", "admin"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err = sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	p, err = db.LoadPosition(ctx, "otlp")
	if err != nil {
		t.Fatal(err)
	}
	MustWrite(t, db, []sidelog.Record{{Time: now.Add(3 * time.Millisecond), Message: "after"}})
	got, _ := readAll(t, db, p, 10)
	var found bool
	for _, r := range got {
		found = found || r.Message == "after"
		if r.UserID == "9" {
			t.Errorf("purged record %q read", r.Message)
		}
	}
	if !found {
		t.Fatalf("record written after the reopen was skipped; read %v", msgs(got))
	}
}

func TestDB_Cleanup_KeepUnshipped(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := MustOpen(t)
	now := time.Now().UTC()
	old := now.Add(-40 * sidelog.Day)
	var recs []sidelog.Record
	for i := range 100 {
		recs = append(recs, sidelog.Record{Time: old.Add(time.Duration(i) * time.Second), Message: fmt.Sprint("old", i)})
	}
	MustWrite(t, db, recs)
	// The follower has read the first 30 records only.
	got, _, err := db.ReadAfter(ctx, nil, 30)
	if err != nil || len(got) != 30 {
		t.Fatal(len(got), err)
	}
	p := sidelog.Position{}
	d := got[29].ID >> 32
	p[d] = got[29].ID
	if err := db.SavePosition(ctx, "otlp", p); err != nil {
		t.Fatal(err)
	}
	pol := sidelog.DefaultRetention()
	pol.KeepUnshipped = true
	rep, err := db.Cleanup(ctx, pol, now, false)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Held != 70 || rep.Removed != 0 || rep.Lost != 0 {
		t.Fatalf("with the hold: %+v; want 70 held, none removed or lost", rep)
	}
	if n, _ := db.Count(ctx, sidelog.Filter{}); n != 100 {
		t.Fatalf("%d records left, want 100", n)
	}
	// Over the hold's size bound they go, and count as lost.
	pol.UnshippedMaxBytes = 1
	rep, err = db.Cleanup(ctx, pol, now, false)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Removed != 100 || rep.Lost != 70 {
		t.Fatalf("over the bound: %+v; want 100 removed, 70 lost", rep)
	}
	if lost, err := db.Lost(ctx, "otlp"); err != nil || lost != 70 {
		t.Fatalf("Lost = %d, %v; want 70", lost, err)
	}
	// Without KeepUnshipped, nothing is held but the loss is still counted.
	MustWrite(t, db, []sidelog.Record{{Time: old, Message: "x"}})
	rep, err = db.Cleanup(ctx, sidelog.DefaultRetention(), now, false)
	if err != nil || rep.Removed != 1 || rep.Lost != 1 {
		t.Fatalf("no hold: %+v, %v; want 1 removed, 1 lost", rep, err)
	}
}
