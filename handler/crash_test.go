package handler_test

import (
	"bufio"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sidelog/sidelog/internal/childbuild"
)

// TestHandler_CrashLoop kills a process logging at full speed with SIGKILL
// 20 times (5 with -short): every time the database must pass check and
// hold every record a Flush confirmed. The processes, the logger and the
// checker, are built from internal/killchild without the race detector.
func TestHandler_CrashLoop(t *testing.T) {
	t.Parallel()
	rounds := 20
	if testing.Short() {
		rounds = 5
	}
	child := childbuild.Build(t) // logs as fast as it can, prints "acked N" after each Flush
	path := filepath.Join(t.TempDir(), "logs.db")
	for run := range rounds {
		cmd := exec.Command(child, "log", path, "crash-"+strconv.Itoa(run))
		var errOut strings.Builder
		cmd.Stderr = &errOut
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Logging is under way after a random number of Flushes (the data
		// stays small): kill it at a random point of the next batches.
		acked, acks, target := -1, 0, 1+rand.IntN(8)
		sc := bufio.NewScanner(out)
		var kill *time.Timer
		for sc.Scan() {
			if n, ok := strings.CutPrefix(sc.Text(), "acked "); ok {
				acked, _ = strconv.Atoi(n)
				if acks++; acks == target {
					kill = time.AfterFunc(time.Duration(rand.IntN(50))*time.Millisecond, func() { cmd.Process.Kill() })
				}
			}
		}
		cmd.Wait()
		if kill == nil {
			t.Fatalf("run %d: the child ended before logging:\n%s", run, errOut.String())
		}

		// The check runs in a child too: under the race detector SQLite's
		// integrity check would be the bulk of the test's time.
		res, err := exec.Command(child, "verify", path, "crash-"+strconv.Itoa(run), strconv.Itoa(acked)).CombinedOutput()
		if err != nil {
			t.Fatalf("run %d: after the kill: %v\n%s", run, err, res)
		}
		t.Logf("run %d: %d confirmed, %s", run, acked+1, strings.TrimSpace(string(res)))
	}
}
