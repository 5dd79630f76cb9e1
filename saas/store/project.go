package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/sidelog/sidelog/saas"
)

const projectColumns = `p.id, p.org_id, p.name, p.status, p.budget_cents, p.owner_id, p.created_at, p.updated_at`

// visible joins projects to the acting user's memberships: every read goes
// through it, so authorisation cannot be forgotten at a call site.
const visible = ` FROM projects p JOIN memberships m ON m.org_id = p.org_id AND m.user_id = $1`

type scanner interface{ Scan(...any) error }

func scanProject(s scanner) (*saas.Project, error) {
	var p saas.Project
	var status string
	if err := s.Scan(&p.ID, &p.OrgID, &p.Name, &status, &p.BudgetCents, &p.OwnerID, &p.CreatedAt, &p.UpdatedAt); err != nil {
		return nil, err
	}
	p.Status = saas.Status(status)
	p.CreatedAt, p.UpdatedAt = p.CreatedAt.UTC(), p.UpdatedAt.UTC()
	return &p, nil
}

// FindProjects implements saas.ProjectService.
func (db *DB) FindProjects(ctx context.Context, f saas.ProjectFilter) ([]*saas.Project, error) {
	where, args := []string{"1 = 1"}, []any{saas.UserIDFromContext(ctx)}
	if f.OrgID != 0 {
		args = append(args, f.OrgID)
		where = append(where, fmt.Sprintf("p.org_id = $%d", len(args)))
	}
	if f.Status != "" {
		args = append(args, string(f.Status))
		where = append(where, fmt.Sprintf("p.status = $%d", len(args)))
	}
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	args = append(args, f.Limit)
	q := `SELECT ` + projectColumns + visible + ` WHERE ` + strings.Join(where, " AND ") +
		fmt.Sprintf(` ORDER BY p.id DESC LIMIT $%d`, len(args))
	rows, err := db.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("find projects: %w", err)
	}
	defer rows.Close()
	ps := []*saas.Project{}
	for rows.Next() {
		p, err := scanProject(rows)
		if err != nil {
			return nil, fmt.Errorf("find projects: %w", err)
		}
		ps = append(ps, p)
	}
	return ps, rows.Err()
}

// FindProjectByID implements saas.ProjectService.
func (db *DB) FindProjectByID(ctx context.Context, id int64) (*saas.Project, error) {
	p, err := scanProject(db.db.QueryRowContext(ctx, `SELECT `+projectColumns+visible+` WHERE p.id = $2`,
		saas.UserIDFromContext(ctx), id))
	if err != nil {
		return nil, notFound(err, "project not found")
	}
	return p, nil
}

// CreateProject implements saas.ProjectService.
func (db *DB) CreateProject(ctx context.Context, p *saas.Project) error {
	actor := saas.UserIDFromContext(ctx)
	if p.OwnerID == 0 {
		p.OwnerID = actor
	}
	if err := p.Validate(); err != nil {
		return err
	}
	tx, err := db.begin(ctx)
	if err != nil {
		return fmt.Errorf("create project: %w", err)
	}
	defer tx.Rollback()
	if _, err := roleIn(ctx, tx, p.OrgID, actor); err != nil {
		return err
	}
	if err := checkOwner(ctx, tx, p); err != nil {
		return err
	}
	p.CreatedAt = db.now()
	p.UpdatedAt = p.CreatedAt
	if err := tx.QueryRowContext(ctx, `INSERT INTO projects (org_id, name, status, budget_cents, owner_id, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		p.OrgID, p.Name, string(p.Status), p.BudgetCents, p.OwnerID, p.CreatedAt, p.UpdatedAt).Scan(&p.ID); err != nil {
		return fmt.Errorf("create project: %w", err)
	}
	return db.commit(ctx, tx)
}

// checkOwner makes sure a project's owner is a member of its organisation.
func checkOwner(ctx context.Context, tx *sql.Tx, p *saas.Project) error {
	if _, err := roleIn(ctx, tx, p.OrgID, p.OwnerID); err != nil {
		if saas.ErrorCode(err) == saas.ENOTFOUND {
			return saas.Errorf(saas.EINVALID, "the owner must be a member of the organisation")
		}
		return err
	}
	return nil
}

// UpdateProject implements saas.ProjectService.
func (db *DB) UpdateProject(ctx context.Context, id int64, upd saas.ProjectUpdate) (*saas.Project, error) {
	tx, err := db.begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("update project: %w", err)
	}
	defer tx.Rollback()
	p, err := db.findProject(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	upd.Apply(p)
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if upd.OwnerID != nil {
		if err := checkOwner(ctx, tx, p); err != nil {
			return nil, err
		}
	}
	p.UpdatedAt = db.now()
	if _, err := db.txExec(ctx, tx, qUpdateProject, p.Name, string(p.Status), p.BudgetCents, p.OwnerID, p.UpdatedAt, p.ID); err != nil {
		return nil, fmt.Errorf("update project: %w", err)
	}
	return p, db.commit(ctx, tx)
}

// findProject reads a project the context's user may see, inside tx.
func (db *DB) findProject(ctx context.Context, tx *sql.Tx, id int64) (*saas.Project, error) {
	p, err := scanProject(db.txQueryRow(ctx, tx, qFindProject, saas.UserIDFromContext(ctx), id))
	if err != nil {
		return nil, notFound(err, "project not found")
	}
	return p, nil
}

// DeleteProject implements saas.ProjectService.
func (db *DB) DeleteProject(ctx context.Context, id int64) error {
	tx, err := db.begin(ctx)
	if err != nil {
		return fmt.Errorf("delete project: %w", err)
	}
	defer tx.Rollback()
	p, err := db.findProject(ctx, tx, id)
	if err != nil {
		return err
	}
	role, err := roleIn(ctx, tx, p.OrgID, saas.UserIDFromContext(ctx))
	if err != nil {
		return err
	}
	if role != saas.RoleOwner {
		return saas.Errorf(saas.EFORBIDDEN, "only an owner of the organisation may delete its projects")
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM projects WHERE id = $1`, id); err != nil {
		return fmt.Errorf("delete project: %w", err)
	}
	return db.commit(ctx, tx)
}
