// Package storetest provides business databases for tests: a fresh SQLite
// file, or a fresh, uniquely named PostgreSQL database dropped after the
// test.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/sidelog/sidelog/saas/store"
)

// DefaultAdminURL is the PostgreSQL server tests use, unless
// SAAS_TEST_POSTGRES names another.
const DefaultAdminURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// PostgresURL creates a fresh database on the test server and returns its
// URL; the database is dropped when the test ends. When the server cannot
// be reached the test is skipped — unless CI=true, where it fails: CI must
// never silently skip the PostgreSQL half.
func PostgresURL(tb testing.TB) string {
	tb.Helper()
	admin := os.Getenv("SAAS_TEST_POSTGRES")
	if admin == "" {
		admin = DefaultAdminURL
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	adb, err := sql.Open("pgx", admin)
	if err == nil {
		err = adb.PingContext(ctx)
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("PostgreSQL at %s unreachable under CI=true: %v", admin, err)
		}
		tb.Skipf("PostgreSQL at %s unreachable (set CI=true to make this fatal): %v", admin, err)
	}
	name := "saas_test_" + strings.ToLower(rand.Text()[:12])
	if _, err := adb.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		adb.Close()
		tb.Fatalf("create test database: %v", err)
	}
	tb.Cleanup(func() {
		defer adb.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := adb.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			tb.Errorf("drop test database %s: %v", name, err)
		}
	})
	return replaceDB(admin, name)
}

// replaceDB returns the URL u with its database name changed.
func replaceDB(u, name string) string {
	rest, query, _ := strings.Cut(u, "?")
	i := strings.LastIndex(rest, "/")
	if i < len("postgres://") {
		rest += "/"
		i = len(rest) - 1
	}
	out := rest[:i+1] + name
	if query != "" {
		out += "?" + query
	}
	return out
}

// SQLitePath returns the path of a business database file in a fresh
// temporary directory.
func SQLitePath(tb testing.TB) string {
	return filepath.Join(tb.TempDir(), "app.db")
}

// Dialects lists the dialects tests run against.
var Dialects = []string{store.SQLite, store.Postgres}

// URL returns a fresh database of the dialect (see PostgresURL).
func URL(tb testing.TB, dialect string) string {
	tb.Helper()
	if dialect == store.Postgres {
		return PostgresURL(tb)
	}
	return SQLitePath(tb)
}

// MustOpen opens and migrates a fresh database of the dialect, closed when
// the test ends.
func MustOpen(tb testing.TB, dialect string) *store.DB {
	tb.Helper()
	db, err := store.Open(context.Background(), URL(tb, dialect))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(context.Background()); err != nil {
		tb.Fatal(fmt.Errorf("migrate: %w", err))
	}
	return db
}
