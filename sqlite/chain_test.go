package sqlite_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/sqlite"
)

// chainFixture is a log database with audit and security records over
// three days among ordinary ones, one of them written late into an
// earlier day. chained lists the chained records in write (chain) order.
type chainFixture struct {
	path    string
	db      *sqlite.DB
	chained []sidelog.Record
}

func day(n int) time.Time { return t0.Add(time.Duration(n) * 24 * time.Hour) }

func newChainFixture(t *testing.T) *chainFixture {
	t.Helper()
	f := &chainFixture{path: filepath.Join(t.TempDir(), "logs.db")}
	f.reopen(t)
	for d := range 3 {
		var batch []sidelog.Record
		for i := range 25 {
			at := day(d).Add(time.Duration(i) * time.Minute)
			batch = append(batch,
				sidelog.Record{Time: at, Level: slog.LevelInfo, Kind: sidelog.KindAudit, Logger: "audit", UserID: "7", TenantID: "3",
					Message: fmt.Sprintf("update project %d: name", i), Attrs: json.RawMessage(fmt.Sprintf(`{"diff":{"name":["p%d","q%d"]}}`, i, i))},
				sidelog.Record{Time: at, Level: slog.LevelInfo, Message: "ordinary line"},
				sidelog.Record{Time: at, Level: slog.LevelWarn, Message: "a warning"})
			if i%10 == 0 {
				batch = append(batch, sidelog.Record{Time: at, Level: slog.LevelWarn, Kind: sidelog.KindSecurity, Message: "login failed", UserID: "9"})
			}
		}
		f.write(t, batch)
	}
	// Late: delivered after a restart into the first day's file.
	f.write(t, []sidelog.Record{{Time: day(0).Add(23 * time.Hour), Kind: sidelog.KindAudit, Logger: "audit", Message: "create user 9 (late)"}})
	return f
}

func (f *chainFixture) write(t *testing.T, recs []sidelog.Record) {
	t.Helper()
	MustWrite(t, f.db, recs)
	for _, r := range recs {
		if r.Kind == sidelog.KindAudit || r.Kind == sidelog.KindSecurity {
			f.chained = append(f.chained, r)
		}
	}
}

func (f *chainFixture) reopen(t *testing.T) {
	t.Helper()
	if f.db != nil {
		f.db.Close()
	}
	db, err := sqlite.Open(context.Background(), f.path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f.db = db
}

// tamper runs SQL directly on the main file of the record's day, as an
// attacker with the files would, and reopens the store.
func (f *chainFixture) tamper(t *testing.T, rec sidelog.Record, q string, args ...any) {
	t.Helper()
	f.db.Close()
	file := filepath.Join(f.path+".d", rec.Time.UTC().Format("2006-01-02")+"-main.db")
	raw, err := sql.Open("sqlite", file)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(q, args...); err != nil {
		t.Fatalf("tamper: %v", err)
	}
	raw.Close()
	f.db = nil
	f.reopen(t)
}

func rowid(r sidelog.Record) int64 { return r.ID & (1<<32 - 1) }

func (f *chainFixture) verify(t *testing.T, head *sqlite.ChainHead) sqlite.ChainReport {
	t.Helper()
	rep, err := f.db.VerifyChain(context.Background(), sqlite.VerifyOptions{Head: head})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func wantBad(t *testing.T, rep sqlite.ChainReport, id int64, problem string) {
	t.Helper()
	if rep.OK || rep.Bad == nil {
		t.Fatalf("verify: ok after tampering: %+v", rep)
	}
	if rep.Bad.ID != id || !strings.Contains(rep.Bad.Problem, problem) {
		t.Errorf("verify named record %d: %q; want record %d, %q", rep.Bad.ID, rep.Bad.Problem, id, problem)
	}
}

func TestChain_Tampering(t *testing.T) {
	t.Parallel()
	t.Run("Clean", func(t *testing.T) {
		t.Parallel()
		f := newChainFixture(t)
		rep := f.verify(t, nil)
		if !rep.OK || rep.Checked != int64(len(f.chained)) {
			t.Fatalf("clean chain: %+v, want ok with %d records", rep, len(f.chained))
		}
		head, err := f.db.ChainHead(context.Background())
		if err != nil || head.Seq != int64(len(f.chained)) || head != rep.Head {
			t.Errorf("head %+v (%v), verify's %+v", head, err, rep.Head)
		}
		last, err := f.db.LastVerify(context.Background())
		if err != nil || last == nil || !last.OK || last.Checked != rep.Checked {
			t.Errorf("last verify: %+v, %v", last, err)
		}
		// The chain continues across a reopen.
		f.reopen(t)
		f.write(t, []sidelog.Record{{Time: day(2).Add(time.Hour), Kind: sidelog.KindAudit, Logger: "audit", Message: "after reopen"}})
		if rep := f.verify(t, nil); !rep.OK || rep.Checked != int64(len(f.chained)) {
			t.Fatalf("after reopen: %+v", rep)
		}
	})
	t.Run("Edit", func(t *testing.T) {
		t.Parallel()
		f := newChainFixture(t)
		victim := f.chained[50]
		f.tamper(t, victim, `UPDATE logs SET attrs = json_set(attrs, '$.diff.name[1]', 'forged') WHERE id = ?`, rowid(victim))
		wantBad(t, f.verify(t, nil), victim.ID, "does not match its hash")
	})
	t.Run("EditMessage", func(t *testing.T) {
		t.Parallel()
		f := newChainFixture(t)
		victim := f.chained[10]
		f.tamper(t, victim, `UPDATE msgs SET s = 'harmless' WHERE id = (SELECT msg FROM logs WHERE id = ?)`, rowid(victim))
		wantBad(t, f.verify(t, nil), victim.ID, "does not match its hash")
	})
	t.Run("Delete", func(t *testing.T) {
		t.Parallel()
		f := newChainFixture(t)
		victim, next := f.chained[60], f.chained[61]
		f.tamper(t, victim, `DELETE FROM logs WHERE id = ?`, rowid(victim))
		wantBad(t, f.verify(t, nil), next.ID, "position 61 is missing")
	})
	t.Run("Insert", func(t *testing.T) {
		t.Parallel()
		f := newChainFixture(t)
		near := f.chained[20]
		f.tamper(t, near, `INSERT INTO logs (id, ts, level, kind, msg) VALUES (?, ?, 0, 2, 1)`, rowid(near)+100000, near.Time.UnixNano())
		wantBad(t, f.verify(t, nil), near.ID+100000, "no place in the chain")
	})
	t.Run("InsertWithPosition", func(t *testing.T) {
		t.Parallel()
		f := newChainFixture(t)
		near := f.chained[20]
		f.tamper(t, near, `INSERT INTO logs (id, ts, level, kind, msg, chain_seq, chain_hash)
			SELECT id + 100000, ts, level, kind, msg, chain_seq, chain_hash FROM logs WHERE id = ?`, rowid(near))
		wantBad(t, f.verify(t, nil), near.ID+100000, "repeats chain position")
	})
	t.Run("Swap", func(t *testing.T) {
		t.Parallel()
		f := newChainFixture(t)
		a, b := f.chained[30], f.chained[31]
		f.tamper(t, a, `UPDATE logs SET msg = CASE id WHEN ?1 THEN (SELECT msg FROM logs WHERE id = ?2) ELSE (SELECT msg FROM logs WHERE id = ?1) END,
			attrs = CASE id WHEN ?1 THEN (SELECT attrs FROM logs WHERE id = ?2) ELSE (SELECT attrs FROM logs WHERE id = ?1) END
			WHERE id IN (?1, ?2)`, rowid(a), rowid(b))
		wantBad(t, f.verify(t, nil), a.ID, "does not match its hash")
	})
	t.Run("Reorder", func(t *testing.T) {
		t.Parallel()
		f := newChainFixture(t)
		a, b := f.chained[70], f.chained[71]
		f.tamper(t, a, `UPDATE logs SET chain_seq = CASE id WHEN ?1 THEN 72 ELSE 71 END,
			chain_hash = CASE id WHEN ?1 THEN (SELECT chain_hash FROM logs WHERE id = ?2) ELSE (SELECT chain_hash FROM logs WHERE id = ?1) END
			WHERE id IN (?1, ?2)`, rowid(a), rowid(b))
		wantBad(t, f.verify(t, nil), b.ID, "does not match its hash")
	})
	t.Run("TruncateTail", func(t *testing.T) {
		t.Parallel()
		f := newChainFixture(t)
		var tail []sidelog.Record
		for i := range 10 {
			tail = append(tail, sidelog.Record{Time: day(2).Add(time.Hour + time.Duration(i)*time.Second), Kind: sidelog.KindAudit,
				Logger: "audit", Message: fmt.Sprintf("update user %d", i)})
		}
		f.write(t, tail)
		head, err := f.db.ChainHead(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		exported, err := sqlite.ParseChainHead(head.String())
		if err != nil {
			t.Fatal(err)
		}
		newest := f.chained[len(f.chained)-10:]
		f.tamper(t, newest[0], `DELETE FROM logs WHERE id >= ?`, rowid(newest[0]))
		// Without the exported head a truncated tail looks like a shorter chain.
		if rep := f.verify(t, nil); !rep.OK {
			t.Fatalf("truncated, no head: %+v", rep.Bad)
		}
		rep := f.verify(t, &exported)
		if rep.OK || rep.Bad == nil || rep.Bad.Seq != head.Seq || !strings.Contains(rep.Bad.Problem, "newest 10 records were removed") {
			t.Fatalf("truncated, with head: %+v", rep.Bad)
		}
	})
}

func TestChain_Retention(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newChainFixture(t)
	head, _ := f.db.ChainHead(ctx)
	// Warnings expire after a day: the main files are rewritten with their
	// audit and security records only. Then audit records older than a
	// day and a half: the first day's file goes, and half of the second's.
	pol := sidelog.DefaultRetention()
	pol.MaxAge[2] = 24 * time.Hour
	now := day(3)
	if _, err := f.db.Cleanup(ctx, pol, now, false); err != nil {
		t.Fatal(err)
	}
	// The chain also holds the cleanup's two security events (started, done).
	if rep := f.verify(t, &head); !rep.OK || rep.Checked != int64(len(f.chained))+2 {
		t.Fatalf("after rewriting partly expired files: %+v %+v", rep, rep.Bad)
	}
	pol.AuditAge = 36 * time.Hour
	rep0, err := f.db.Cleanup(ctx, pol, now, false)
	if err != nil || rep0.Removed == 0 {
		t.Fatalf("cleanup: %+v, %v", rep0, err)
	}
	rep := f.verify(t, &head)
	// The head moved by the two runs' security events (started, done).
	if !rep.OK || rep.Anchor.Seq == 0 || rep.Checked >= int64(len(f.chained)) || rep.Head.Seq != head.Seq+4 {
		t.Fatalf("after audit retention: %+v %+v", rep, rep.Bad)
	}
	// And it still detects tampering after the anchor.
	f.reopen(t)
	victim := f.chained[len(f.chained)-3]
	f.tamper(t, victim, `UPDATE logs SET user_id = '8' WHERE id = ?`, rowid(victim))
	wantBad(t, f.verify(t, nil), victim.ID, "does not match its hash")
}

func TestChain_Purge(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newChainFixture(t)
	n, err := f.db.Purge(ctx, "9", "", "admin")
	if err != nil || n == 0 {
		t.Fatalf("purge: %d, %v", n, err)
	}
	rep := f.verify(t, nil)
	if !rep.OK || rep.Erased == 0 {
		t.Fatalf("after purge: %+v %+v", rep, rep.Bad)
	}
}

func TestParseChainHead_Bad(t *testing.T) {
	for _, s := range []string{"", "12", "x:ab", "0:" + strings.Repeat("ab", 32), "5:zz", "5:" + strings.Repeat("ab", 31)} {
		if _, err := sqlite.ParseChainHead(s); sidelog.ErrorCode(err) != sidelog.EINVALID {
			t.Errorf("%q: got %v, want invalid", s, err)
		}
	}
}
