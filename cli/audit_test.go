package cli_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/audit"
	"github.com/sidelog/sidelog/cli"
	"github.com/sidelog/sidelog/sqlite"
)

// auditDB returns a log database with the history of one project: created,
// renamed, archived, deleted, on four days.
func auditDB(t *testing.T) (path string, recs []sidelog.Record) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "logs.db")
	db, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	base := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	changes := []audit.Change{
		{Entity: "project", EntityID: "42", Action: "create", Actor: "user 7", Refs: []string{"org 3"},
			Diff: map[string][2]any{"name": {nil, "Launch"}, "status": {nil, "planned"}}},
		{Entity: "project", EntityID: "42", Action: "update", Actor: "user 7", Refs: []string{"org 3"},
			Diff: map[string][2]any{"name": {"Launch", "Launch v2"}}},
		{Entity: "project", EntityID: "420", Action: "create", Actor: "user 8", Refs: []string{"org 3"},
			Diff: map[string][2]any{"name": {nil, "Other"}}},
		{Entity: "project", EntityID: "42", Action: "update", Actor: "cli:archive", Refs: []string{"org 3"},
			Diff: map[string][2]any{"status": {"planned", "archived"}}},
		{Entity: "project", EntityID: "42", Action: "delete", Actor: "user 7", Refs: []string{"org 3"},
			Diff: map[string][2]any{"name": {"Launch v2", nil}, "status": {"archived", nil}}},
	}
	for i, ch := range changes {
		attrs, _ := json.Marshal(ch)
		recs = append(recs, sidelog.Record{Time: base.Add(time.Duration(i) * 24 * time.Hour), Kind: sidelog.KindAudit, Logger: audit.Logger,
			Message: ch.Action + " " + ch.Entity + " " + ch.EntityID + " [org 3]", UserID: "7", TenantID: "3",
			RequestID: fmt.Sprintf("req-%d", i), Attrs: attrs})
	}
	if err := db.WriteBatch(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	return path, recs
}

func TestCLI_AuditHistory(t *testing.T) {
	path, _ := auditDB(t)
	env := &opts{env: map[string]string{cli.EnvDB: path}}
	res := runCLI(t, env, "audit", "history", "project", "42")
	if res.code != 0 {
		t.Fatalf("history: %+v", res)
	}
	lines := strings.Split(strings.TrimSpace(res.stdout), "\n")
	for i, want := range []string{
		"2026-11-05T09:00:00Z  delete project 42 by user 7 request req-4",
		`    name: "Launch v2" -> -`,
	} {
		if lines[i] != want {
			t.Errorf("line %d: %q, want %q\n%s", i, lines[i], want, res.stdout)
		}
	}
	if strings.Contains(res.stdout, "project 420") || strings.Count(res.stdout, "project 42 by") != 4 {
		t.Errorf("history mixes in another project or misses one:\n%s", res.stdout)
	}
	res = runCLI(t, env, "audit", "history", "project", "42", "--as-of", "2026-11-03T12:00:00Z")
	if res.code != 0 || !strings.Contains(res.stdout, "existed, after 2 changes") || !strings.Contains(res.stdout, `name: "Launch v2"`) ||
		!strings.Contains(res.stdout, `status: "planned"`) {
		t.Errorf("as-of: %+v", res)
	}
	res = runCLI(t, env, "audit", "history", "project", "42", "--as-of", "2026-10-01T00:00:00Z")
	if !strings.Contains(res.stdout, "no recorded change before then") {
		t.Errorf("as-of before creation: %+v", res)
	}
	res = runCLI(t, env, "audit", "history", "org", "3", "--limit", "2", "--json")
	if res.code != 0 || strings.Count(res.stdout, "\n") != 2 || !strings.Contains(res.stdout, `"entity_id":"42"`) {
		t.Errorf("org history json: %+v", res)
	}
}

func TestCLI_AuditVerify(t *testing.T) {
	path, recs := auditDB(t)
	env := &opts{env: map[string]string{cli.EnvDB: path}}
	res := runCLI(t, env, "audit", "verify")
	if res.code != 0 || !strings.HasPrefix(res.stdout, "ok: 5 chained records verified, head 5:") {
		t.Fatalf("verify: %+v", res)
	}
	head := strings.TrimSpace(runCLI(t, env, "audit", "head").stdout)
	if !strings.HasPrefix(head, "5:") || len(head) != 2+64 {
		t.Fatalf("head: %q", head)
	}
	if res := runCLI(t, env, "stats"); !strings.Contains(res.stdout, "audit chain  ok, 5 records verified") {
		t.Errorf("stats after verify:\n%s", res.stdout)
	}

	// Edit the third record's diff behind sidelog's back.
	victim := recs[2]
	raw, err := sql.Open("sqlite", filepath.Join(path+".d", victim.Time.Format("2006-01-02")+"-main.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`UPDATE logs SET attrs = replace(attrs, 'Other', 'Innocent')`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	res = runCLI(t, env, "audit", "verify", "--head", head)
	if res.code != 1 || !strings.Contains(res.stdout, fmt.Sprintf("first bad record: %d (chain position 3)", victim.ID)) {
		t.Fatalf("verify after tampering: %+v", res)
	}
	if res := runCLI(t, env, "stats", "--json"); !strings.Contains(res.stdout, `"ok": false`) {
		t.Errorf("stats --json after a failed verify:\n%s", res.stdout)
	}
	if res := runCLI(t, env, "stats"); !strings.Contains(res.stdout, fmt.Sprintf("audit chain  BROKEN at record %d (position 3)", victim.ID)) {
		t.Errorf("stats after a failed verify:\n%s", res.stdout)
	}
}

func TestCLI_AuditErrors(t *testing.T) {
	path, _ := auditDB(t)
	env := map[string]string{cli.EnvDB: path}
	for _, args := range [][]string{
		{"audit"},
		{"audit", "frobnicate"},
		{"audit", "history", "project"},
		{"audit", "history", "Project", "1"},
		{"audit", "history", "project", `1"`},
		{"audit", "head", "extra"},
		{"audit", "verify", "--head", "12"},
		{"audit", "verify", "--as-of", "1h"},
		{"audit", "history", "project", "1", "--as-of", "soon"},
		{"audit", "history", "project", "1", "--limit", "-1"},
	} {
		res := runCLI(t, &opts{env: env}, args...)
		if res.code != 2 || strings.Count(res.stderr, "\n") != 1 || res.stdout != "" {
			t.Errorf("%q: exit %d, stderr %q, stdout %q; want exit 2 and one line", args, res.code, res.stderr, res.stdout)
		}
	}
}
