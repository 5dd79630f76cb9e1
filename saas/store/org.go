package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/sidelog/sidelog/saas"
)

// CreateOrg implements saas.OrgService.
func (db *DB) CreateOrg(ctx context.Context, o *saas.Org, owner int64) error {
	o.Name = strings.TrimSpace(o.Name)
	if o.Name == "" || utf8.RuneCountInString(o.Name) > 100 {
		return saas.Errorf(saas.EINVALID, "organisation name must be 1 to 100 characters")
	}
	tx, err := db.begin(ctx)
	if err != nil {
		return fmt.Errorf("create org: %w", err)
	}
	defer tx.Rollback()
	o.CreatedAt = db.now()
	if err := tx.QueryRowContext(ctx, `INSERT INTO orgs (name, created_at) VALUES ($1, $2) RETURNING id`,
		o.Name, o.CreatedAt).Scan(&o.ID); err != nil {
		return fmt.Errorf("create org: %w", err)
	}
	if err := db.putMember(ctx, tx, o.ID, owner, saas.RoleOwner); err != nil {
		return fmt.Errorf("create org: %w", err)
	}
	return db.commit(ctx, tx)
}

// AddMember implements saas.OrgService.
func (db *DB) AddMember(ctx context.Context, orgID, userID int64, role saas.Role) error {
	if !role.Valid() {
		return saas.Errorf(saas.EINVALID, "unknown role %q", role)
	}
	tx, err := db.begin(ctx)
	if err != nil {
		return fmt.Errorf("add member: %w", err)
	}
	defer tx.Rollback()
	actor, err := roleIn(ctx, tx, orgID, saas.UserIDFromContext(ctx))
	if err != nil {
		return err
	}
	if actor != saas.RoleOwner {
		return saas.Errorf(saas.EFORBIDDEN, "only an owner may add members")
	}
	if err := db.putMember(ctx, tx, orgID, userID, role); err != nil {
		return fmt.Errorf("add member: %w", err)
	}
	return db.commit(ctx, tx)
}

func (db *DB) putMember(ctx context.Context, tx *sql.Tx, orgID, userID int64, role saas.Role) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO memberships (org_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (org_id, user_id) DO UPDATE SET role = excluded.role`, orgID, userID, string(role), db.now())
	return err
}

// roleIn returns the user's role in the organisation, or ENOTFOUND when
// the user is not a member (the organisation is invisible to them).
func roleIn(ctx context.Context, tx *sql.Tx, orgID, userID int64) (saas.Role, error) {
	var role string
	err := tx.QueryRowContext(ctx, `SELECT role FROM memberships WHERE org_id = $1 AND user_id = $2`, orgID, userID).Scan(&role)
	if err != nil {
		return "", notFound(err, "organisation not found")
	}
	return saas.Role(role), nil
}

// Memberships implements saas.OrgService.
func (db *DB) Memberships(ctx context.Context, userID int64) ([]saas.Membership, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT m.org_id, o.name, m.user_id, m.role
		FROM memberships m JOIN orgs o ON o.id = m.org_id WHERE m.user_id = $1 ORDER BY o.name, o.id`, userID)
	if err != nil {
		return nil, fmt.Errorf("memberships: %w", err)
	}
	defer rows.Close()
	var ms []saas.Membership
	for rows.Next() {
		var m saas.Membership
		var role string
		if err := rows.Scan(&m.OrgID, &m.OrgName, &m.UserID, &role); err != nil {
			return nil, fmt.Errorf("memberships: %w", err)
		}
		m.Role = saas.Role(role)
		ms = append(ms, m)
	}
	return ms, rows.Err()
}
