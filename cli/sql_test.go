package cli_test

import (
	"database/sql"
	"testing"
)

// mustSQL opens a SQLite file directly, through the driver the store
// registered, to make a database the store would not write.
func mustSQL(t *testing.T, path string) *sql.DB {
	t.Helper()
	h, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	return h
}
