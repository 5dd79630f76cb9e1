package sqlite_test

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/internal/childbuild"
	"github.com/sidelog/sidelog/sqlite"
)

// killNow is the clock of the maintenance runs the kill tests interrupt.
var killNow = time.Date(2026, 11, 27, 10, 17, 0, 0, time.UTC)

// killPolicy expires whole day files and parts of others, so that cleanup
// both deletes and rewrites files.
func killPolicy() sidelog.Retention {
	pol := sidelog.DefaultRetention()
	pol.MaxAge = [4]time.Duration{2*sidelog.Day + 6*time.Hour, 4*sidelog.Day + 12*time.Hour, 7 * sidelog.Day, 8 * sidelog.Day}
	pol.AuditAge = 9 * sidelog.Day
	return pol
}

// killUser is the user the purge kill test erases.
const killUser = "7"

// runChild runs the kill tests' child process (internal/killchild) with
// args; with kill, it sends SIGKILL after that long. It returns how long
// the child ran.
func runChild(t *testing.T, child string, args []string, kill time.Duration) time.Duration {
	t.Helper()
	cmd := exec.Command(child, args...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if kill > 0 {
		timer := time.AfterFunc(kill, func() { cmd.Process.Kill() })
		defer timer.Stop()
	}
	err := cmd.Wait()
	if kill == 0 && err != nil {
		t.Fatalf("%s child: %v\n%s", args[0], err, out.String())
	}
	return time.Since(start)
}

// killLoop kills a maintenance child 20 times at random points of its
// run (measured first on a copy), then runs it to completion. args are
// the child's after the database's path.
func killLoop(t *testing.T, child, mode, path string, args ...string) {
	t.Helper()
	probe := filepath.Join(t.TempDir(), "probe.db")
	if err := os.CopyFS(filepath.Dir(probe), os.DirFS(filepath.Dir(path))); err != nil {
		t.Fatal(err)
	}
	os.Rename(filepath.Join(filepath.Dir(probe), filepath.Base(path)), probe)
	os.Rename(filepath.Join(filepath.Dir(probe), filepath.Base(path)+".d"), probe+".d")
	full := runChild(t, child, append([]string{mode, probe}, args...), 0)
	t.Logf("an uninterrupted %s child runs %v", mode, full)
	for range 20 {
		runChild(t, child, append([]string{mode, path}, args...), time.Duration(rand.Int64N(int64(full))))
	}
	runChild(t, child, append([]string{mode, path}, args...), 0)
}

// mustCheck fails the test unless check finds nothing wrong. It runs in
// the child (built without the race detector), where SQLite's integrity
// check costs a fraction of its time under -race.
func mustCheck(t *testing.T, child, path string) {
	t.Helper()
	if out, err := exec.Command(child, "check", path).CombinedOutput(); err != nil {
		t.Errorf("%v: %s", err, out)
	}
}

// killData returns a closed database of generated records over the ten
// days before killNow, for a child to be killed in, and the records.
func killData(t *testing.T) (string, []sidelog.Record) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "logs.db")
	db, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	return path, MustGenerate(t, db, scaled(2000), killNow.Add(-time.Hour), 10*sidelog.Day)
}

// TestDB_CleanupKilled kills cleanup 20 times at random points; run again
// to completion, it must leave exactly the records the policy keeps, no
// file of a rewrite in progress, a sound database, and a record of every
// run that removed something, finished or cut short.
func TestDB_CleanupKilled(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path, recs := killData(t)
	var want int64
	for _, r := range recs {
		if !expired(r, killPolicy(), killNow) {
			want++
		}
	}
	pol, err := json.Marshal(killPolicy())
	if err != nil {
		t.Fatal(err)
	}
	child := childbuild.Build(t)
	killLoop(t, child, "cleanup", path, killNow.Format(time.RFC3339Nano), string(pol))

	if m, _ := filepath.Glob(path + ".d/*.rewrite*"); len(m) > 0 {
		t.Errorf("left behind: %v", m)
	}
	db, err := sqlite.Open(ctx, path, sqlite.Options{MustExist: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if n, err := db.Count(ctx, sidelog.Filter{Until: killNow}); n != want || err != nil {
		t.Errorf("%d records left (%v), want %d", n, err, want)
	}
	mustCheck(t, child, path)
	sec := []sidelog.Kind{sidelog.KindSecurity}
	started, _ := db.Count(ctx, sidelog.Filter{Kinds: sec, Since: killNow, Text: `"retention cleanup started"`})
	done, _ := db.Count(ctx, sidelog.Filter{Kinds: sec, Since: killNow, Text: `"retention cleanup done"`})
	if done < 1 || started < done || started < 2 {
		t.Errorf("security events: %d cleanups started, %d done; want the interrupted runs recorded too, and at least one done", started, done)
	}
}

// TestDB_PurgeKilled kills purge 20 times at random points; run again to
// completion, it must have erased exactly the user's records, and every
// run, finished or not, is recorded as a security event.
func TestDB_PurgeKilled(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path, recs := killData(t)
	var others int64
	for _, r := range recs {
		if r.UserID != killUser {
			others++
		}
	}
	child := childbuild.Build(t)
	killLoop(t, child, "purge", path, killUser, "kill test")

	db, err := sqlite.Open(ctx, path, sqlite.Options{MustExist: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if n, err := db.Count(ctx, sidelog.Filter{UserID: killUser, Until: killNow}); n != 0 || err != nil {
		t.Errorf("%d records of the user left (%v)", n, err)
	}
	if n, err := db.Count(ctx, sidelog.Filter{Until: killNow}); n != others || err != nil {
		t.Errorf("%d other records (%v), want %d", n, err, others)
	}
	mustCheck(t, child, path)
	sec := sidelog.Filter{Kinds: []sidelog.Kind{sidelog.KindSecurity}, Since: killNow, UserID: "kill test"}
	started, _ := db.Count(ctx, sidelog.Filter{Kinds: sec.Kinds, Since: sec.Since, UserID: sec.UserID, Text: `"purge of the records of user 7 started"`})
	done, _ := db.Count(ctx, sidelog.Filter{Kinds: sec.Kinds, Since: sec.Since, UserID: sec.UserID, Text: "purged"})
	if started < done || done < 1 || started < 2 {
		t.Errorf("security events: %d purges started, %d finished; want every run recorded", started, done)
	}
}
