package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/sidelog/sidelog/saas"
)

// hashToken is how a session token is stored: a leaked database does not
// yield working cookies. Tokens carry 256 random bits, so a fast hash is
// enough.
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// CreateSession implements saas.SessionService. It also removes expired
// sessions, which keeps the table small without a background job.
func (db *DB) CreateSession(ctx context.Context, userID int64, ttl time.Duration) (string, *saas.Session, error) {
	token, csrf := rand.Text()+rand.Text(), rand.Text()
	now := db.now()
	s := &saas.Session{UserID: userID, CSRFToken: csrf, ExpiresAt: now.Add(ttl)}
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return "", nil, fmt.Errorf("create session: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at < $1`, now); err != nil {
		return "", nil, fmt.Errorf("create session: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5)`, hashToken(token), userID, csrf, now, s.ExpiresAt); err != nil {
		return "", nil, fmt.Errorf("create session: %w", err)
	}
	return token, s, tx.Commit()
}

// FindSession implements saas.SessionService.
func (db *DB) FindSession(ctx context.Context, token string) (*saas.Session, error) {
	if token == "" || len(token) > 128 {
		return nil, saas.Errorf(saas.EUNAUTHORIZED, "not logged in")
	}
	var s saas.Session
	err := db.db.QueryRowContext(ctx, `SELECT user_id, csrf_token, expires_at FROM sessions
		WHERE token_hash = $1 AND expires_at > $2`, hashToken(token), db.now()).Scan(&s.UserID, &s.CSRFToken, &s.ExpiresAt)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, saas.Errorf(saas.EUNAUTHORIZED, "not logged in")
	case err != nil:
		return nil, fmt.Errorf("find session: %w", err)
	}
	s.ExpiresAt = s.ExpiresAt.UTC()
	return &s, nil
}

// DeleteSession implements saas.SessionService.
func (db *DB) DeleteSession(ctx context.Context, token string) error {
	_, err := db.db.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = $1`, hashToken(token))
	if err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}
