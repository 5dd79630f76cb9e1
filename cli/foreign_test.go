package cli_test

import (
	"crypto/sha256"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sidelog/sidelog/sqlite"
)

// foreignFiles makes, in dir, each kind of file that is not a sidelog log
// database: the CLI must refuse all of them, for every command, without
// changing them.
func foreignFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	add := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		files[name] = p
		return p
	}
	add("empty.db", nil)
	add("notes.db", []byte("not a database\n"))
	foreign := func(name, mode string) string {
		p := filepath.Join(dir, name)
		h, err := sql.Open("sqlite", p)
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		for _, q := range []string{
			"PRAGMA journal_mode=" + mode,
			"CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT)",
			"CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY)",
			"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500) INSERT INTO users(email) SELECT 'user' || i || '@example.com' FROM n",
		} {
			if _, err := h.Exec(q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		files[name] = p
		return p
	}
	foreign("app.db", "wal")
	foreign("rollback.db", "delete")
	marked := foreign("marked.db", "delete")
	if h, err := sql.Open("sqlite", marked); err == nil {
		h.Exec("PRAGMA application_id = 1234")
		h.Close()
	}
	full, err := os.ReadFile(files["rollback.db"])
	if err != nil {
		t.Fatal(err)
	}
	add("truncated.db", full[:len(full)/2])
	add("header-only.db", full[:60])
	// A sidelog catalog copied without its day files, then cut short.
	own := filepath.Join(t.TempDir(), "own.db")
	db, err := sqlite.Open(t.Context(), own, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	b, _ := os.ReadFile(own)
	add("own-truncated.db", b[:4096])
	fifo := filepath.Join(dir, "fifo.db")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	files["fifo.db"] = fifo
	return files
}

func checksum(t *testing.T, path string) string {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Mode().IsRegular() {
		return st.Mode().String()
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(sha256.New().Sum(b))
}

// TestCLI_ForeignFiles passes every kind of foreign file to every command:
// each must exit 2 within a second with a message naming the file, and
// leave the file as it was, with nothing created beside it.
func TestCLI_ForeignFiles(t *testing.T) {
	dir := t.TempDir()
	files := foreignFiles(t, dir)
	jsonl := filepath.Join(t.TempDir(), "in.jsonl")
	os.WriteFile(jsonl, []byte(`{"time":"2026-11-20T12:00:00Z","level":"INFO","msg":"hello"}`+"\n"), 0o644)
	commands := [][]string{
		{"tail"}, {"tail", "-f"}, {"query"}, {"stats"}, {"cleanup"}, {"vacuum"}, {"check"},
		{"export"}, {"import", jsonl}, {"purge", "--user", "1"}, {"gen", "--rows", "10"},
	}
	for name, p := range files {
		sum := checksum(t, p)
		for _, cmd := range commands {
			args := append(append([]string{}, cmd...), "--db", p)
			done := make(chan result, 1)
			start := time.Now()
			go func() { done <- runCLI(t, nil, args...) }()
			var res result
			select {
			case res = <-done:
			case <-time.After(5 * time.Second):
				t.Fatalf("%s %v: still running after 5s", name, cmd)
			}
			if took := time.Since(start); took > time.Second {
				t.Errorf("%s %v: took %v", name, cmd, took)
			}
			if res.code != 2 || !strings.Contains(res.stderr, p) {
				t.Errorf("%s %v: exit %d, stderr %q; want exit 2 and a message naming the file", name, cmd, res.code, res.stderr)
			}
			if got := checksum(t, p); got != sum {
				t.Errorf("%s %v: the file changed", name, cmd)
			}
			for _, extra := range []string{".d", "-wal", "-shm", "-journal"} {
				if _, err := os.Lstat(p + extra); err == nil {
					t.Errorf("%s %v: created %s", name, cmd, filepath.Base(p+extra))
					os.RemoveAll(p + extra)
				}
			}
		}
	}
}

// TestCLI_LegacyCatalog opens a database from before sidelog marked its
// files (application_id 0): it is sidelog's by its tables, and is marked.
func TestCLI_LegacyCatalog(t *testing.T) {
	p := newDB(t)
	h, err := sql.Open("sqlite", p)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"PRAGMA application_id = 0", "PRAGMA user_version = 0"} {
		if _, err := h.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	h.Close()
	if res := runCLI(t, nil, "query", "--db", p, "--limit", "1"); res.code != 0 {
		t.Fatalf("query on a legacy catalog: %+v", res)
	}
	h, _ = sql.Open("sqlite", p)
	defer h.Close()
	var id, uv int64
	h.QueryRow("PRAGMA application_id").Scan(&id)
	h.QueryRow("PRAGMA user_version").Scan(&uv)
	if id != sqlite.AppID || uv == 0 {
		t.Errorf("after opening: application_id %#x, user_version %d; want %#x and the schema version", id, uv, sqlite.AppID)
	}
}
