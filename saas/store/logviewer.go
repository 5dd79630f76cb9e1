package store

import (
	"context"
	"fmt"

	"github.com/sidelog/sidelog/saas"
)

// IsLogViewer implements saas.LogAccessService.
func (db *DB) IsLogViewer(ctx context.Context, userID int64) (bool, error) {
	var n int
	err := db.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM log_viewers WHERE user_id = $1`, userID).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("read log viewer grant: %w", err)
	}
	return n > 0, nil
}

// SetLogViewer implements saas.LogAccessService. The grant and its
// removal are audited (entity log_viewer, in the user's history too).
func (db *DB) SetLogViewer(ctx context.Context, userID int64, grant bool) error {
	if _, err := db.FindUserByID(ctx, userID); err != nil {
		return err
	}
	tx, err := db.begin(ctx)
	if err != nil {
		return fmt.Errorf("set log viewer grant: %w", err)
	}
	defer tx.Rollback()
	if grant {
		_, err = tx.ExecContext(ctx, `INSERT INTO log_viewers (user_id, granted_at) VALUES ($1, $2)
			ON CONFLICT (user_id) DO NOTHING`, userID, db.now())
	} else {
		_, err = tx.ExecContext(ctx, `DELETE FROM log_viewers WHERE user_id = $1`, userID)
	}
	if err != nil {
		return fmt.Errorf("set log viewer grant: %w", err)
	}
	if err := db.commit(ctx, tx); err != nil {
		return fmt.Errorf("set log viewer grant: %w", err)
	}
	return nil
}

// UsersWithAccess implements saas.LogAccessService.
func (db *DB) UsersWithAccess(ctx context.Context, limit int) ([]saas.UserAccess, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT u.id, u.email, u.name, u.is_superuser, u.created_at, v.user_id IS NOT NULL
		FROM users u LEFT JOIN log_viewers v ON v.user_id = u.id ORDER BY u.id LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var out []saas.UserAccess
	for rows.Next() {
		var a saas.UserAccess
		if err := rows.Scan(&a.User.ID, &a.User.Email, &a.User.Name, &a.User.IsSuperuser, &a.User.CreatedAt, &a.LogViewer); err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		a.User.CreatedAt = a.User.CreatedAt.UTC()
		out = append(out, a)
	}
	return out, rows.Err()
}

// OrgName implements saas.LogAccessService.
func (db *DB) OrgName(ctx context.Context, orgID int64) (string, error) {
	var name string
	err := db.db.QueryRowContext(ctx, `SELECT name FROM orgs WHERE id = $1`, orgID).Scan(&name)
	if err != nil {
		return "", notFound(err, "organisation not found")
	}
	return name, nil
}
