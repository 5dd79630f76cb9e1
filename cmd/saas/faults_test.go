package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/sqlite"
)

// TestServe_DamagedCatalog damages the log database's catalog: the
// application must still start and serve (the catalog is set aside and
// replaced, and the event is logged), since its side log must never take
// the business down.
func TestServe_DamagedCatalog(t *testing.T) {
	dir := t.TempDir()
	logDB := filepath.Join(dir, "logs.db")
	db, err := sqlite.Open(context.Background(), logDB, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.WriteBatch(context.Background(), []sidelog.Record{{Time: time.Now(), Message: "before the damage"}}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	st, _ := os.Stat(logDB)
	f, err := os.OpenFile(logDB, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt(bytes.Repeat([]byte{0xA5}, int(st.Size())-100), 100)
	f.Close()

	s := startServer(t, map[string]string{"SIDELOG_DB": logDB})
	resp, err := http.Get(s.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("healthz: %s", resp.Status)
	}
	s.Stop(t)
	if m, _ := filepath.Glob(logDB + ".corrupt-*"); len(m) != 1 {
		t.Errorf("the damaged catalog was not set aside: %v", m)
	}
	db, err = sqlite.Open(context.Background(), logDB, sqlite.Options{MustExist: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, text := range []string{"before the damage", "damaged"} {
		if n, err := db.Count(context.Background(), sidelog.Filter{Text: text}); n != 1 || err != nil {
			t.Errorf("records with %q: %d, %v; want 1", text, n, err)
		}
	}
}

// TestConfig_SymlinkedLogDB refuses a log database that is the business
// database under another name: a symbolic link (also one not yet
// pointing at an existing file) or a hard link.
func TestConfig_SymlinkedLogDB(t *testing.T) {
	dir := t.TempDir()
	app := filepath.Join(dir, "app.db")
	os.WriteFile(app, []byte("business"), 0o600)
	os.Symlink(app, filepath.Join(dir, "logs.db"))
	os.Link(app, filepath.Join(dir, "hard.db"))
	os.Symlink(filepath.Join(dir, "later.db"), filepath.Join(dir, "dangling.db"))
	os.Mkdir(filepath.Join(dir, "sub"), 0o700)
	os.Symlink(dir, filepath.Join(dir, "linkdir"))
	for _, c := range []struct{ app, logs string }{
		{app, filepath.Join(dir, "logs.db")},
		{app, filepath.Join(dir, "hard.db")},
		{filepath.Join(dir, "later.db"), filepath.Join(dir, "dangling.db")},
		{filepath.Join(dir, "sub", "new.db"), filepath.Join(dir, "linkdir", "sub", "new.db")},
	} {
		env := map[string]string{"DATABASE_URL": c.app, "SIDELOG_DB": c.logs}
		_, err := loadConfig(func(k string) string { return env[k] })
		if err == nil || !strings.Contains(err.Error(), "must be apart") {
			t.Errorf("DATABASE_URL=%s SIDELOG_DB=%s: %v; want refused", c.app, c.logs, err)
		}
	}
	env := map[string]string{"DATABASE_URL": app, "SIDELOG_DB": filepath.Join(dir, "other.db")}
	if _, err := loadConfig(func(k string) string { return env[k] }); err != nil {
		t.Errorf("two different files: %v", err)
	}
}
