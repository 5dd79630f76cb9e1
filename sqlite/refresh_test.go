package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/sqlite"
)

// TestDB_QuerySeesNewFiles reads with one store while another (as another
// process would) writes a new day's file: within a second, queries see it.
func TestDB_QuerySeesNewFiles(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "logs.db")
	w, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	MustWrite(t, w, []sidelog.Record{{Time: t0, Message: "first day"}})
	r, err := sqlite.Open(ctx, path, sqlite.Options{MustExist: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if n, _ := r.Count(ctx, sidelog.Filter{}); n != 1 {
		t.Fatalf("reader counts %d", n)
	}
	MustWrite(t, w, []sidelog.Record{{Time: t0.Add(sidelog.Day), Level: 8, Message: "next day error"}})
	deadline := time.Now().Add(10 * time.Second)
	for {
		res, err := r.Query(ctx, sidelog.Filter{}, sidelog.Page{})
		if err == nil && len(res.Records) == 2 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the reader never saw the new day's file: %+v %v", res.Records, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
