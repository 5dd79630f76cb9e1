package store

import (
	"context"
	"fmt"

	"github.com/sidelog/sidelog/saas"
)

// SetPassword changes a user's password and ends the user's sessions, so
// whoever knew the old password is logged out (ENOTFOUND when there is no
// such user).
func (db *DB) SetPassword(ctx context.Context, userID int64, password string) error {
	hash, err := saas.HashPassword(password)
	if err != nil {
		return err
	}
	if err := db.setUserColumn(ctx, userID, `password_hash = $1`, hash); err != nil {
		return err
	}
	if _, err := db.db.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1`, userID); err != nil {
		return fmt.Errorf("end sessions: %w", err)
	}
	return nil
}

// SetSuperuser grants or revokes a user's superuser rights (ENOTFOUND when
// there is no such user).
func (db *DB) SetSuperuser(ctx context.Context, userID int64, on bool) error {
	return db.setUserColumn(ctx, userID, `is_superuser = $1`, on)
}

func (db *DB) setUserColumn(ctx context.Context, userID int64, set string, v any) error {
	tx, err := db.begin(ctx)
	if err != nil {
		return fmt.Errorf("update user: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE users SET `+set+` WHERE id = $2`, v, userID)
	if err != nil {
		return fmt.Errorf("update user: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return saas.Errorf(saas.ENOTFOUND, "user not found")
	}
	return db.commit(ctx, tx)
}
