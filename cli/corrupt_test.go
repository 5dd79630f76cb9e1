package cli_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/sqlite"
)

// damage overwrites everything of a SQLite file after its 100-byte header,
// so that SQLite finds it corrupt on the first read of its schema.
func damage(t *testing.T, path string) {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(bytes.Repeat([]byte{0xA5}, int(st.Size())-100), 100); err != nil {
		t.Fatal(err)
	}
}

// corruptCases are the files TestCLI_CorruptFiles damages in a copy of the
// shared database: a day file retention has not reached, the newest day's
// file, and the catalog.
var corruptCases = []struct{ name, file string }{
	{"old day file", "logs.db.d/2026-11-18-info.db"},
	{"current day file", "logs.db.d/2026-11-20-info.db"},
	{"catalog", "logs.db"},
}

// TestCLI_CorruptFiles damages one file at a time and runs every command
// that reads or maintains the database: each must succeed, the damaged file
// must be set aside with a timestamped name, a line on stderr and a
// security event, logging must go on, and check must report what was set
// aside.
func TestCLI_CorruptFiles(t *testing.T) {
	t.Parallel()
	commands := [][]string{
		{"query", "--limit", "1000"}, {"stats"}, {"cleanup"}, {"purge", "--user", "7", "--actor", "test"},
		{"vacuum"}, {"export", "--format", "jsonl"}, {"tail", "-n", "5"},
	}
	// A small database (four day files) keeps this affordable under -race.
	small := filepath.Join(t.TempDir(), "logs.db")
	if res := runCLI(t, nil, "gen", "--db", small, "--rows", "200", "--days", "3d", "--end", genEnd, "--users", "20"); res.code != 0 {
		t.Fatal(res.stderr)
	}
	newDB := func(t *testing.T) string {
		dst := filepath.Join(t.TempDir(), "logs.db")
		if err := os.CopyFS(filepath.Dir(dst), os.DirFS(filepath.Dir(small))); err != nil {
			t.Fatal(err)
		}
		return dst
	}
	for _, c := range corruptCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			// Each command on its own damaged copy.
			for _, cmd := range commands {
				path := newDB(t)
				damage(t, filepath.Join(filepath.Dir(path), c.file))
				res := runCLI(t, envFor(path), cmd...)
				if res.code != 0 {
					t.Errorf("%v with a damaged %s: exit %d: %s", cmd, c.file, res.code, res.stderr)
				}
			}
			// All of them in turn on one copy, then logging and check.
			path := newDB(t)
			damaged := filepath.Join(filepath.Dir(path), c.file)
			damage(t, damaged)
			var stderr strings.Builder
			for _, cmd := range commands {
				res := runCLI(t, envFor(path), cmd...)
				if res.code != 0 {
					t.Fatalf("%v: exit %d: %s", cmd, res.code, res.stderr)
				}
				stderr.WriteString(res.stderr)
			}
			if !strings.Contains(stderr.String(), "set aside damaged log file "+filepath.Base(c.file)) {
				t.Errorf("no command said it set %s aside; stderr:\n%s", c.file, stderr.String())
			}
			aside, _ := filepath.Glob(damaged + ".corrupt-2*")
			if len(aside) != 1 {
				t.Fatalf("set aside as %v, want one timestamped file", aside)
			}
			db, err := sqlite.Open(context.Background(), path, sqlite.Options{MustExist: true})
			if err != nil {
				t.Fatal(err)
			}
			now := time.Date(2026, 11, 20, 12, 40, 0, 0, time.UTC)
			if err := db.WriteBatch(context.Background(), []sidelog.Record{{Time: now, Message: "still logging"}}); err != nil {
				t.Fatalf("logging after the damage: %v", err)
			}
			res, err := db.Query(context.Background(), sidelog.Filter{Kinds: []sidelog.Kind{sidelog.KindSecurity}, Text: "damaged"}, sidelog.Page{})
			db.Close()
			if err != nil || len(res.Records) != 1 || !strings.Contains(res.Records[0].Message, filepath.Base(c.file)) {
				t.Errorf("security events about the damage: %+v, %v", res.Records, err)
			}
			if res := runCLI(t, envFor(path), "query", "still logging"); !strings.Contains(res.stdout, "still logging") {
				t.Errorf("the record written after the damage is not found: %+v", res)
			}
			check := runCLI(t, envFor(path), "check")
			if check.code != 1 || !strings.Contains(check.stdout, filepath.Base(aside[0])+": set aside as damaged") {
				t.Errorf("check after the damage: exit %d\n%s%s", check.code, check.stdout, check.stderr)
			}
		})
	}
}
