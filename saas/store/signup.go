package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sidelog/sidelog/audit"
	"github.com/sidelog/sidelog/saas"
)

var _ saas.SignupService = (*DB)(nil)

// StartSignup implements saas.SignupService. Whether the address has an
// account or not, it hashes the password and writes one sign-up row in one
// transaction, so that neither the answer nor its time tells the two apart;
// a row for a taken address is never mailed and expires unused.
func (db *DB) StartSignup(ctx context.Context, s saas.Signup, ttl time.Duration) (string, bool, error) {
	u := &saas.User{Email: s.Email, Name: s.Name}
	if err := validateUser(u); err != nil {
		return "", false, err
	}
	org := strings.TrimSpace(s.Org)
	if org == "" {
		org = u.Name + "'s organisation"
	}
	if utf8.RuneCountInString(org) > 100 || strings.ContainsAny(org, "\x00\r\n") {
		return "", false, saas.Errorf(saas.EINVALID, "organisation name must be at most 100 characters on one line")
	}
	hash, err := saas.HashPassword(s.Password)
	if err != nil {
		return "", false, err
	}
	token := rand.Text()
	now := db.now()
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return "", false, fmt.Errorf("start signup: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM signups WHERE expires_at < $1`, now); err != nil {
		return "", false, fmt.Errorf("start signup: %w", err)
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE email = $1`, u.Email).Scan(&n); err != nil {
		return "", false, fmt.Errorf("start signup: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO signups (token_hash, email, name, org, password_hash, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, hashToken(token), u.Email, u.Name, org, hash, now, now.Add(ttl)); err != nil {
		return "", false, fmt.Errorf("start signup: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return "", false, fmt.Errorf("start signup: %w", err)
	}
	return token, n > 0, nil
}

// PendingSignup implements saas.SignupService.
func (db *DB) PendingSignup(ctx context.Context, token string) (string, error) {
	var email string
	err := db.db.QueryRowContext(ctx, `SELECT email FROM signups WHERE token_hash = $1 AND expires_at > $2`,
		hashToken(token), db.now()).Scan(&email)
	if errors.Is(err, sql.ErrNoRows) {
		return "", saas.Errorf(saas.ENOTFOUND, "this link is unknown, used or expired: sign up again")
	}
	if err != nil {
		return "", fmt.Errorf("read signup: %w", err)
	}
	return email, nil
}

// ConfirmSignup implements saas.SignupService. The user, the organisation
// and its owner membership are created in one audited transaction (actor
// "signup").
func (db *DB) ConfirmSignup(ctx context.Context, token string) (*saas.User, *saas.Org, error) {
	tx, err := db.begin(audit.WithActor(ctx, audit.Actor{Name: "signup"}))
	if err != nil {
		return nil, nil, fmt.Errorf("confirm signup: %w", err)
	}
	defer tx.Rollback()
	u, o := &saas.User{}, &saas.Org{}
	var hash string
	err = tx.QueryRowContext(ctx, `SELECT email, name, org, password_hash FROM signups WHERE token_hash = $1 AND expires_at > $2`,
		hashToken(token), db.now()).Scan(&u.Email, &u.Name, &o.Name, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, saas.Errorf(saas.ENOTFOUND, "this link is unknown, used or expired: sign up again")
	}
	if err != nil {
		return nil, nil, fmt.Errorf("confirm signup: %w", err)
	}
	u.CreatedAt, o.CreatedAt = db.now(), db.now()
	err = tx.QueryRowContext(ctx, `INSERT INTO users (email, name, password_hash, is_superuser, created_at)
		VALUES ($1, $2, $3, $4, $5) RETURNING id`, u.Email, u.Name, hash, false, u.CreatedAt).Scan(&u.ID)
	if isUnique(err) {
		return nil, nil, saas.Errorf(saas.ECONFLICT, "this address already has an account: log in instead")
	} else if err != nil {
		return nil, nil, fmt.Errorf("confirm signup: %w", err)
	}
	if err := tx.QueryRowContext(ctx, `INSERT INTO orgs (name, created_at) VALUES ($1, $2) RETURNING id`,
		o.Name, o.CreatedAt).Scan(&o.ID); err != nil {
		return nil, nil, fmt.Errorf("confirm signup: %w", err)
	}
	if err := db.putMember(ctx, tx, o.ID, u.ID, saas.RoleOwner); err != nil {
		return nil, nil, fmt.Errorf("confirm signup: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM signups WHERE email = $1`, u.Email); err != nil {
		return nil, nil, fmt.Errorf("confirm signup: %w", err)
	}
	if err := db.commit(ctx, tx); err != nil {
		return nil, nil, fmt.Errorf("confirm signup: %w", err)
	}
	return u, o, nil
}
