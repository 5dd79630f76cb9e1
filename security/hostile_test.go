package security_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/cli"
	"github.com/sidelog/sidelog/sqlite"
)

// payloads are hostile inputs: SQL injection, FTS5 syntax, LIKE
// wildcards, path traversal, NUL and invalid UTF-8, and oversized text.
var payloads = []string{
	`' OR 1=1 --`, `" OR ""="`, `x'; DROP TABLE logs; --`, `1 UNION SELECT * FROM logs`,
	`') OR ('a'='a`, `\' OR 1=1`, `%`, `_`, `%' OR '%'='`,
	`NEAR(a b)`, `ab"cd`, `x" OR "y`, `"unterminated`, `a OR b`, `msg:x`, `^start`, `(`, `)`, `-x`, `a AND NOT b`, `*`, `"*"`, `{a b}:c`,
	`../../../../etc/passwd`, `..\..\windows\win.ini`, `/dev/zero`, "a\x00b", "\xff\xfe", "\u202e", "\x1b[2J",
	strings.Repeat("A", 1<<20), strings.Repeat("(", 10000), strings.Repeat(`"`, 10001),
}

func short(s string) string {
	if len(s) > 40 {
		return fmt.Sprintf("%.40q…(%d bytes)", s, len(s))
	}
	return fmt.Sprintf("%q", s)
}

// hostileDB is a log database with three ordinary records.
func hostileDB(t *testing.T) (*sqlite.DB, string) {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "logs.db")
	db, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	now := time.Now()
	err = db.WriteBatch(ctx, []sidelog.Record{
		{Time: now, Level: 0, Message: "ordinary record one", UserID: "alice", Path: "/a", Logger: "app", Method: "GET", ClientIP: "192.0.2.1", RequestID: "r1"},
		{Time: now, Level: 4, Message: "ordinary record two", UserID: "bob", Path: "/b", Logger: "app", Method: "POST", ClientIP: "192.0.2.2", RequestID: "r2"},
		{Time: now, Level: 8, Message: "ordinary record three", Error: "boom", TenantID: "t1", TraceID: "0af7651916cd43dd8448eb211c80319c"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return db, path
}

// checkAnswer accepts an EINVALID error or a result with no record (no
// payload matches an ordinary record); anything else is a failure.
func checkAnswer(t *testing.T, what string, res sidelog.Result, err error) {
	t.Helper()
	switch {
	case err != nil && sidelog.ErrorCode(err) != sidelog.EINVALID:
		t.Errorf("%s: error %v (code %s), want EINVALID or no error", what, err, sidelog.ErrorCode(err))
	case err == nil && len(res.Records) != 0:
		t.Errorf("%s: %d records, want none", what, len(res.Records))
	}
}

// TestHostileQueries puts every payload into every filter parameter and
// into the query language, and checks for clear errors or empty answers,
// then that the database still holds its three records.
func TestHostileQueries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := hostileDB(t)
	fields := map[string]func(*sidelog.Filter, string){
		"logger":  func(f *sidelog.Filter, s string) { f.Logger = s },
		"request": func(f *sidelog.Filter, s string) { f.RequestID = s },
		"trace":   func(f *sidelog.Filter, s string) { f.TraceID = s },
		"user":    func(f *sidelog.Filter, s string) { f.UserID = s },
		"tenant":  func(f *sidelog.Filter, s string) { f.TenantID = s },
		"method":  func(f *sidelog.Filter, s string) { f.Method = s },
		"path":    func(f *sidelog.Filter, s string) { f.Path = s },
		"ip":      func(f *sidelog.Filter, s string) { f.ClientIP = s },
		"text":    func(f *sidelog.Filter, s string) { f.Text = s },
	}
	for name, set := range fields {
		for _, p := range payloads {
			if name == "path" && strings.HasSuffix(p, "*") {
				continue // a path prefix: "*" alone matches every path, by design
			}
			var f sidelog.Filter
			set(&f, p)
			res, err := db.Query(ctx, f, sidelog.Page{Limit: 10})
			checkAnswer(t, name+"="+short(p), res, err)
			if _, err := db.Count(ctx, f); err != nil && sidelog.ErrorCode(err) != sidelog.EINVALID {
				t.Errorf("count %s=%s: %v", name, short(p), err)
			}
		}
	}
	for _, p := range payloads {
		for _, q := range []string{p, "user:" + p, "path:" + p, `msg:"` + p + `"`, "level>=" + p, "status:" + p, "since:" + p, `"` + p + `"`} {
			f, err := sidelog.ParseQuery(q, time.Now())
			if err != nil {
				if sidelog.ErrorCode(err) != sidelog.EINVALID {
					t.Errorf("parse %s: %v, want EINVALID", short(q), err)
				}
				continue
			}
			res, err := db.Query(ctx, f, sidelog.Page{Limit: 10})
			if err != nil && sidelog.ErrorCode(err) != sidelog.EINVALID {
				t.Errorf("query %s: %v", short(q), err)
			}
			_ = res
		}
	}
	n, err := db.Count(ctx, sidelog.Filter{})
	if err != nil || n != 3 {
		t.Errorf("after the payloads: %d records (%v), want the 3 written", n, err)
	}
}

// TestHostileCLIArguments gives the CLI hostile --db paths and query
// arguments: clear errors, exit code 1 or 2 with a one-line message, never a crash, and a
// file that is not a log database is left untouched.
func TestHostileCLIArguments(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, path := hostileDB(t)
	victim := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(victim, []byte("not a database"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, dbArg := range []string{victim, filepath.Dir(victim), filepath.Join(filepath.Dir(victim), "..", "..", "..", "..", "etc", "passwd"), "/dev/zero", "\x00"} {
		code := cli.Main(ctx, []string{"query", "--db", dbArg}, nil, io.Discard, io.Discard)
		if code == 0 {
			t.Errorf("query --db %q succeeded", dbArg)
		}
	}
	if b, _ := os.ReadFile(victim); string(b) != "not a database" {
		t.Errorf("the non-database file was changed: %q", b)
	}
	for _, p := range payloads {
		var errOut strings.Builder
		code := cli.Main(ctx, []string{"query", "--db", path, "--format", "json", p}, nil, io.Discard, &errOut)
		if code != 0 && (code > 2 || !strings.HasPrefix(errOut.String(), "sidelog")) {
			t.Errorf("query %s: exit %d, stderr %q", short(p), code, errOut.String())
		}
		if strings.ContainsAny(errOut.String(), "\x1b\u202e\x00") {
			t.Errorf("query %s: raw control characters in the error: %q", short(p), errOut.String())
		}
	}
}
