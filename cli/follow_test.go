package cli_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/sqlite"
)

// fakeClock is a clock a test moves by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// startTail runs tail -f with args on path until the test ends; it returns
// the live output.
func startTail(t *testing.T, path string, args ...string) *syncBuffer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	live := &syncBuffer{}
	o := envFor(path)
	o.ctx, o.stdout = ctx, live
	done := make(chan result, 1)
	go func() {
		done <- runCLI(t, o, append([]string{"tail", "-f", "-n", "0", "--format", "logfmt"}, args...)...)
	}()
	t.Cleanup(func() {
		cancel()
		if res := <-done; res.code != 0 {
			t.Errorf("tail -f ended with %d: %s", res.code, res.stderr)
		}
	})
	return live
}

// TestCLI_TailFollowNewFiles writes, from another store handle (as another
// process would), records that land in files the follower has never seen:
// the day's first warning file, its first debug file, the next UTC day
// reached by the writer's clock, and a late record for an earlier day.
// tail -f must print each that matches, and nothing else.
func TestCLI_TailFollowNewFiles(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "logs.db")
	day := time.Date(2026, 11, 20, 23, 59, 50, 0, time.UTC)
	clk := &fakeClock{now: day}
	db, err := sqlite.Open(context.Background(), path, sqlite.Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	write := func(recs ...sidelog.Record) {
		t.Helper()
		if err := db.WriteBatch(context.Background(), recs); err != nil {
			t.Fatal(err)
		}
	}
	// Records without a time get the writer's clock.
	rec := func(level slog.Level, msg string) sidelog.Record {
		return sidelog.Record{Level: level, Kind: sidelog.KindApp, Message: msg}
	}
	write(rec(slog.LevelInfo, "before"))

	warn := startTail(t, path, "level>=warn")
	all := startTail(t, path, "kind:app")
	time.Sleep(50 * time.Millisecond) // both have started following

	var want, wantWarn []string
	for i := range 10 {
		msg := fmt.Sprintf("warning %d", i)
		write(rec(slog.LevelWarn, msg)) // the day's first main file
		want, wantWarn = append(want, msg), append(wantWarn, msg)
	}
	write(rec(slog.LevelDebug, "first debug"), rec(slog.LevelError, "an error"), rec(slog.LevelInfo, "an info"))
	want, wantWarn = append(want, "first debug", "an error", "an info"), append(wantWarn, "an error")

	clk.Set(day.Add(15 * time.Second)) // past UTC midnight: new day files
	write(rec(slog.LevelInfo, "next day info"), rec(slog.LevelError, "next day error"))
	want, wantWarn = append(want, "next day info", "next day error"), append(wantWarn, "next day error")

	late := sidelog.Record{Time: day.Add(-2 * time.Hour), Level: slog.LevelError, Kind: sidelog.KindApp, Message: "late for yesterday"}
	write(late)
	want, wantWarn = append(want, late.Message), append(wantWarn, late.Message)
	write(rec(slog.LevelWarn, "last"))
	want, wantWarn = append(want, "last"), append(wantWarn, "last")

	for _, c := range []struct {
		name string
		out  *syncBuffer
		want []string
	}{{"level>=warn", warn, wantWarn}, {"kind:app", all, want}} {
		waitFor(t, c.out, len(c.want))
		time.Sleep(50 * time.Millisecond) // nothing more comes
		got := c.out.String()
		for _, w := range c.want {
			if !strings.Contains(got, `msg="`+w+`"`) && !strings.Contains(got, "msg="+w+"\n") {
				t.Errorf("tail -f %s missed %q; printed:\n%s", c.name, w, got)
			}
		}
		if n := strings.Count(got, "\n"); n != len(c.want) {
			t.Errorf("tail -f %s printed %d lines, want %d:\n%s", c.name, n, len(c.want), got)
		}
	}
}
