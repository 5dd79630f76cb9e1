package cli_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/sqlite"
)

// TestCLI_CommonWord searches for a word in more distinct messages of one
// day (2,500) than the store lists as ids, and for a path prefix of as many
// distinct paths: query, count and export by that query must answer in
// full instead of failing.
func TestCLI_CommonWord(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "logs.db")
	db, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	const n = 2500
	var recs []sidelog.Record
	for i := range n {
		recs = append(recs,
			sidelog.Record{Time: at.Add(time.Duration(i) * time.Millisecond), Kind: sidelog.KindRequest, Message: fmt.Sprintf("upstream timeout after %d ms", i),
				Path: fmt.Sprintf("/api/items/%d", i)},
			sidelog.Record{Time: at.Add(time.Duration(i) * time.Millisecond), Message: fmt.Sprintf("cache hit %d", i)})
	}
	if err := db.WriteBatch(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	db.Close()
	for _, q := range []string{"timeout", "path:/api/*"} {
		res := runCLI(t, envFor(path), "query", "--limit", "10000", "--format", "json", q)
		if res.code != 0 || strings.Count(res.stdout, "\n") != n {
			t.Errorf("query %s: exit %d, %d lines, want %d: %s", q, res.code, strings.Count(res.stdout, "\n"), n, res.stderr)
		}
		if strings.Contains(res.stdout, "cache hit") {
			t.Errorf("query %s printed records that do not match", q)
		}
		res = runCLI(t, envFor(path), "export", "--format", "jsonl", q)
		if res.code != 0 || strings.Count(res.stdout, "\n") != n {
			t.Errorf("export %s: exit %d, %d lines, want %d: %s", q, res.code, strings.Count(res.stdout, "\n"), n, res.stderr)
		}
	}
	res := runCLI(t, envFor(path), "query", "--format", "json", "timeout", "--limit", "5")
	if res.code != 0 || !strings.Contains(res.stdout, "upstream timeout after 2499 ms") {
		t.Errorf("newest 5: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
}
