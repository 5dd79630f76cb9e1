package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/sidelog/sidelog"
)

const retentionKey = "retention"

// Retention returns the retention policy saved in the database, or
// sidelog.DefaultRetention when none was saved.
func (db *DB) Retention(ctx context.Context) (sidelog.Retention, error) {
	var v string
	err := db.catRow(ctx, `SELECT value FROM settings WHERE key = ?`, retentionKey).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return sidelog.DefaultRetention(), nil
	}
	if err != nil {
		return sidelog.Retention{}, classify(fmt.Errorf("read retention: %w", err))
	}
	var r sidelog.Retention
	if err := json.Unmarshal([]byte(v), &r); err != nil {
		return sidelog.Retention{}, fmt.Errorf("saved retention policy: %w", err)
	}
	return r, nil
}

// SetRetention saves the retention policy that Cleanup callers (the
// background cleaner, the CLI) read with Retention.
func (db *DB) SetRetention(ctx context.Context, r sidelog.Retention) error {
	if err := r.Validate(); err != nil {
		return err
	}
	b, _ := json.Marshal(r)
	_, err := db.catExec(ctx, `INSERT INTO settings(key, value) VALUES (?, ?)
		ON CONFLICT(key) DO UPDATE SET value = excluded.value`, retentionKey, string(b))
	return classify(err)
}
