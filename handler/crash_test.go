package handler_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/handler"
	"github.com/sidelog/sidelog/sqlite"
)

// TestCrashChild is the process TestHandler_CrashLoop kills: it logs as
// fast as it can through the handler into the database named in its
// environment, and after each Flush prints the last record Flush confirmed.
func TestCrashChild(t *testing.T) {
	path, run := os.Getenv("SIDELOG_CRASH_DB"), os.Getenv("SIDELOG_CRASH_RUN")
	if path == "" {
		t.Skip("run by TestHandler_CrashLoop")
	}
	ctx := context.Background()
	db, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := handler.New(db, &handler.Options{Logger: "crash-" + run})
	l := slog.New(h)
	for i := 0; ; i++ {
		l.Info("crash loop", "i", i, "pad", "some text to make the row realistic in size")
		if i%500 == 499 {
			if err := h.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			fmt.Printf("acked %d\n", i)
		}
	}
}

// TestHandler_CrashLoop kills a process logging at full speed with SIGKILL
// 20 times (5 with -short): every time the database must pass check and
// hold every record a Flush confirmed.
func TestHandler_CrashLoop(t *testing.T) {
	t.Parallel()
	rounds := 20
	if testing.Short() {
		rounds = 5
	}
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "logs.db")
	for run := range rounds {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), "SIDELOG_CRASH_DB="+path, "SIDELOG_CRASH_RUN="+strconv.Itoa(run))
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		acked := -1
		sc := bufio.NewScanner(out)
		var kill *time.Timer
		for sc.Scan() {
			if n, ok := strings.CutPrefix(sc.Text(), "acked "); ok {
				acked, _ = strconv.Atoi(n)
				if kill == nil { // logging is under way: kill it at a random point
					kill = time.AfterFunc(time.Duration(rand.IntN(300))*time.Millisecond, func() { cmd.Process.Kill() })
				}
			}
		}
		cmd.Wait()
		if kill == nil {
			t.Fatalf("run %d: the child ended before logging", run)
		}

		db, err := sqlite.Open(ctx, path, sqlite.Options{MustExist: true})
		if err != nil {
			t.Fatalf("run %d: open after the kill: %v", run, err)
		}
		if probs, err := db.Check(ctx); err != nil || len(probs) > 0 {
			t.Errorf("run %d: check after the kill: %v %v", run, probs, err)
		}
		seen := map[int]bool{}
		for r, err := range db.Scan(ctx, sidelog.Filter{Logger: "crash-" + strconv.Itoa(run)}) {
			if err != nil {
				t.Fatal(err)
			}
			var a struct{ I int }
			json.Unmarshal(r.Attrs, &a)
			seen[a.I] = true
		}
		db.Close()
		for i := 0; i <= acked; i++ {
			if !seen[i] {
				t.Fatalf("run %d: record %d was confirmed by Flush (up to %d) but is missing (%d stored)", run, i, acked, len(seen))
			}
		}
		t.Logf("run %d: %d confirmed, %d stored", run, acked+1, len(seen))
	}
}
