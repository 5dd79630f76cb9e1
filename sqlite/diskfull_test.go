package sqlite_test

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
	"github.com/sidelog/sidelog/sqlite"
)

// fillDisk writes to a file in dir until the filesystem is full and returns
// the file, to be removed to give the space back.
func fillDisk(t *testing.T, dir string) string {
	t.Helper()
	filler := filepath.Join(dir, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, size := range []int{64 << 10, 4 << 10, 512, 1} {
		chunk := make([]byte, size)
		for {
			if _, err := f.Write(chunk); err != nil {
				break
			}
		}
	}
	return filler
}

// TestDB_DiskFullNewDay fills a small filesystem at the moment a new day's
// file is created, then gives the space back: the day must not be lost to
// the transient fault. Writes for it succeed, in this process and after a
// restart, and check passes. Mounting needs root; elsewhere it is skipped.
func TestDB_DiskFullNewDay(t *testing.T) {
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs (needs root): %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	ctx := context.Background()
	path := filepath.Join(dir, "logs.db")
	db, err := sqlite.Open(ctx, path, sqlite.Options{BusyTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { db.Close() }()
	day1 := time.Date(2026, 11, 20, 23, 0, 0, 0, time.UTC)
	day2 := day1.Add(2 * time.Hour)
	MustWrite(t, db, []sidelog.Record{{Time: day1, Message: "day one"}})

	filler := fillDisk(t, dir)
	for i, rec := range []sidelog.Record{
		{Time: day2, Message: "while full"}, {Time: day2, Level: slog.LevelError, Message: "while full"}, {Time: day2, Level: slog.LevelDebug, Message: "while full"},
	} {
		if err := db.WriteBatch(ctx, []sidelog.Record{rec}); err == nil {
			t.Logf("write %d succeeded on a full disk", i)
		} else if sidelog.ErrorCode(err) != sidelog.EUNAVAILABLE {
			t.Errorf("write on a full disk: %v, want EUNAVAILABLE", err)
		}
	}
	ents, _ := os.ReadDir(path + ".d")
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	t.Logf("files while full: %s", strings.Join(names, " "))
	// The process ends while the disk is full, and starts again once
	// space is back.
	db.Close()
	os.Remove(filler)
	if db, err = sqlite.Open(ctx, path, sqlite.Options{MustExist: true}); err != nil {
		t.Fatal(err)
	}
	want := 1
	for _, when := range []string{"once space is back", "after another restart"} {
		for _, level := range []slog.Level{slog.LevelInfo, slog.LevelError, slog.LevelDebug} {
			if err := db.WriteBatch(ctx, []sidelog.Record{{Time: day2.Add(time.Minute), Level: level, Message: when}}); err != nil {
				t.Errorf("write at level %v %s: %v", level, when, err)
			} else {
				want++
			}
		}
		db.Close()
		if db, err = sqlite.Open(ctx, path, sqlite.Options{MustExist: true}); err != nil {
			t.Fatal(err)
		}
	}
	n, err := db.Count(ctx, sidelog.Filter{Kinds: []sidelog.Kind{sidelog.KindApp}})
	if err != nil {
		t.Fatal(err)
	}
	// Records the full disk refused may or may not have been stored.
	if full, _ := db.Count(ctx, sidelog.Filter{Text: "while full"}); int(n-full) != want {
		t.Errorf("%d records (%d from the full disk), want %d besides those", n, full, want)
	}
	if probs, err := db.Check(ctx); err != nil || len(probs) > 0 {
		t.Errorf("check: %v %v", probs, err)
	}
}
