package store

import (
	"context"
	"fmt"

	"github.com/sidelog/sidelog/saas"
)

// ArchiveProjects sets every project of the organisation in status from
// to archived, in one UPDATE statement, and returns how many changed. Only
// an owner of the organisation may (EFORBIDDEN otherwise). Each row changed
// gets its own audit record: the capture triggers fire per row.
func (db *DB) ArchiveProjects(ctx context.Context, orgID int64, from saas.Status) (int64, error) {
	tx, err := db.begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("archive projects: %w", err)
	}
	defer tx.Rollback()
	role, err := roleIn(ctx, tx, orgID, saas.UserIDFromContext(ctx))
	if err != nil {
		return 0, err
	}
	if role != saas.RoleOwner {
		return 0, saas.Errorf(saas.EFORBIDDEN, "only an owner may archive the organisation's projects")
	}
	res, err := tx.ExecContext(ctx, `UPDATE projects SET status = 'archived', updated_at = $1
		WHERE org_id = $2 AND status = $3`, db.now(), orgID, string(from))
	if err != nil {
		return 0, fmt.Errorf("archive projects: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, db.commit(ctx, tx)
}

// RemoveMember removes a user from an organisation. Only an owner may
// (EFORBIDDEN), and the last owner cannot leave (ECONFLICT).
func (db *DB) RemoveMember(ctx context.Context, orgID, userID int64) error {
	tx, err := db.begin(ctx)
	if err != nil {
		return fmt.Errorf("remove member: %w", err)
	}
	defer tx.Rollback()
	role, err := roleIn(ctx, tx, orgID, saas.UserIDFromContext(ctx))
	if err != nil {
		return err
	}
	if role != saas.RoleOwner {
		return saas.Errorf(saas.EFORBIDDEN, "only an owner may remove members")
	}
	var owners int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM memberships WHERE org_id = $1 AND role = 'owner' AND user_id <> $2`,
		orgID, userID).Scan(&owners); err != nil {
		return fmt.Errorf("remove member: %w", err)
	}
	if owners == 0 {
		return saas.Errorf(saas.ECONFLICT, "an organisation keeps at least one owner")
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM memberships WHERE org_id = $1 AND user_id = $2`, orgID, userID)
	if err != nil {
		return fmt.Errorf("remove member: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return saas.Errorf(saas.ENOTFOUND, "not a member")
	}
	return db.commit(ctx, tx)
}

// RenameUser changes a user's display name.
func (db *DB) RenameUser(ctx context.Context, userID int64, name string) error {
	u := &saas.User{Email: "x@example.com", Name: name}
	if err := validateUser(u); err != nil {
		return err
	}
	return db.setUserColumn(ctx, userID, `name = $1`, u.Name)
}
