package security_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/cli"
	"github.com/sidelog/sidelog/handler"
	"github.com/sidelog/sidelog/sqlite"
)

// TestPurgeUser_noTraceLeft logs a user's records, records that only
// mention them (a failed login with their e-mail, a request from their
// address), and another user's records; purges the user by id, e-mail,
// name and address with the CLI; and checks that no byte of any file under
// the data directory still holds their identifiers or the words of their
// messages, while the other user's records and words remain.
func TestPurgeUser_noTraceLeft(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "logs.db")
	db, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := handler.New(db, &handler.Options{Fallback: io.Discard})
	l := slog.New(h)
	bob := sidelog.WithUser(ctx, "42", "7")
	carol := sidelog.WithUser(ctx, "43", "7")
	for range 50 {
		l.InfoContext(bob, "Bob Zorblax renamed project Quibbleflux", "email", "bob.zorblax@example.com")
		l.InfoContext(carol, "Carol renamed project Keepwordalpha")
	}
	l.WarnContext(ctx, "login failed", sidelog.KeyKind, "security", "email", "Bob.Zorblax@example.com")
	l.InfoContext(ctx, "GET /users/zorblax-profile 200", sidelog.KeyKind, "request", sidelog.KeyPath, "/users/zorblax-profile",
		sidelog.KeyClientIP, "203.0.113.77")
	l.InfoContext(ctx, "heartbeat from 203.0.113.77 ok")
	if err := h.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	gone := []string{"zorblax", "quibbleflux", "203.0.113.77"}
	kept := []string{"keepwordalpha"}
	if found := scanDir(t, dir, append(gone, kept...)); len(found) != len(gone)+len(kept) {
		t.Fatalf("before the purge only %v are on disk: the scan cannot see the rest", found)
	}

	var out, errOut bytes.Buffer
	err = cli.Run(ctx, []string{"purge", "--db", path, "--user", "42", "--email", "bob.zorblax@example.com",
		"--name", "Bob Zorblax", "--name", "zorblax", "--ip", "203.0.113.77", "--actor", "test"}, nil, &out, &errOut)
	if err != nil {
		t.Fatalf("purge: %v %s", err, errOut.String())
	}
	if !strings.Contains(out.String(), "erased 53 records") {
		t.Errorf("purge said %q, want 53 records erased", out.String())
	}
	found := scanDir(t, dir, append(gone, kept...))
	for _, g := range gone {
		if found[g] != nil {
			t.Errorf("%q is still in %v after the purge", g, found[g])
		}
	}
	for _, k := range kept {
		if found[k] == nil {
			t.Errorf("%q of another user is gone", k)
		}
	}
	for _, word := range []string{"quibbleflux", "zorblax"} {
		var q bytes.Buffer
		if err := cli.Run(ctx, []string{"query", "--db", path, "--format", "json", word}, nil, &q, io.Discard); err != nil {
			t.Fatal(err)
		}
		if q.Len() != 0 {
			t.Errorf("text search still finds the purged word %q: %s", word, q.String())
		}
	}
	var q bytes.Buffer
	if err := cli.Run(ctx, []string{"query", "--db", path, "--format", "json", "keepwordalpha"}, nil, &q, io.Discard); err != nil || strings.Count(q.String(), "Keepwordalpha") != 50 {
		t.Errorf("the other user's 50 records are not all found: %v %d", err, strings.Count(q.String(), "Keepwordalpha"))
	}
}

// scanDir returns, for each needle found (case-insensitively) in some file
// under dir, the files that hold it.
func scanDir(t *testing.T, dir string, needles []string) map[string][]string {
	t.Helper()
	found := map[string][]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		low := bytes.ToLower(raw)
		for _, n := range needles {
			if bytes.Contains(low, []byte(n)) {
				rel, _ := filepath.Rel(dir, p)
				found[n] = append(found[n], rel)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}
