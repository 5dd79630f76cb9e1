package handler_test

import (
	"context"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/handler"
	"github.com/sidelog/sidelog/sqlite"
)

// TestHandler_diskFull puts the log database on a small tmpfs, fills the
// disk, and checks that logging neither blocks nor panics, that what cannot
// be stored goes to the fallback, and that writes resume once there is room.
// Mounting needs root; elsewhere the test is skipped.
func TestHandler_diskFull(t *testing.T) {
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs (needs root): %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "logs.db"), sqlite.Options{BusyTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	fb := &syncBuffer{}
	h := MustNew(t, db, &handler.Options{
		MaxRetryTime: 300 * time.Millisecond, BlockTimeout: 20 * time.Millisecond,
		BatchSize: 100, FlushInterval: 10 * time.Millisecond, Fallback: fb,
	})
	l := slog.New(h)
	l.Info("before")
	MustFlush(t, h)

	// Fill the disk.
	filler := filepath.Join(dir, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			break
		}
	}
	f.Close()

	var longest time.Duration
	const logged = 2000
	for i := range logged {
		t0 := time.Now()
		l.Info("while the disk is full", "i", i, "pad", strings.Repeat("x", 200))
		longest = max(longest, time.Since(t0))
	}
	h.Flush(ctx)
	full := h.Stats()
	if longest > time.Second {
		t.Errorf("a caller waited %v while the disk was full", longest)
	}
	if full.Failed == 0 || !strings.Contains(fb.String(), "while the disk is full") {
		t.Errorf("stats %+v: nothing reached the fallback while the disk was full", full)
	}
	if full.Written+full.Failed+full.Dropped != logged+1 {
		t.Errorf("stats %+v do not account for %d records", full, logged+1)
	}

	os.Remove(filler)
	time.Sleep(400 * time.Millisecond) // past the probe interval
	for i := range 50 {
		l.Info("after", "i", i)
	}
	MustFlush(t, h)
	res, err := db.Query(ctx, sidelog.Filter{Text: "after"}, sidelog.Page{Limit: 100})
	if err != nil || len(res.Records) != 50 {
		t.Errorf("after freeing space: %d records, %v; want 50", len(res.Records), err)
	}
}
