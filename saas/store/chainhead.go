package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/sidelog/sidelog/saas"
)

// ChainHead is the newest link of the log database's audit chain, kept in
// the business database: a reference outside the log files, so that
// removing the newest audit records (or rebuilding the chain after an
// edit) is detected by a verify against it.
type ChainHead struct {
	Seq     int64
	Hash    string // hex SHA-256
	SavedAt time.Time
}

// String returns "SEQ:HASH", the form `audit verify --head` reads.
func (h ChainHead) String() string { return fmt.Sprintf("%d:%s", h.Seq, h.Hash) }

// SaveChainHead records the chain's head at position seq. It only moves
// forward: a head at or before the saved position is ignored (it reports
// false), so a log database restored from an old copy, or truncated,
// cannot pull the reference back with it.
func (db *DB) SaveChainHead(ctx context.Context, seq int64, hash string) (bool, error) {
	if seq <= 0 || hash == "" {
		return false, nil
	}
	res, err := db.db.ExecContext(ctx, `INSERT INTO audit_chain_head (id, seq, hash, saved_at) VALUES (1, $1, $2, $3)
		ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, saved_at = excluded.saved_at
		WHERE audit_chain_head.seq < excluded.seq`, seq, hash, db.now())
	if err != nil {
		return false, fmt.Errorf("save audit chain head: %w", err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// ChainHead returns the head last saved, ENOTFOUND before the first.
func (db *DB) ChainHead(ctx context.Context) (ChainHead, error) {
	var h ChainHead
	err := db.db.QueryRowContext(ctx, `SELECT seq, hash, saved_at FROM audit_chain_head WHERE id = 1`).Scan(&h.Seq, &h.Hash, &h.SavedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return ChainHead{}, saas.Errorf(saas.ENOTFOUND, "no audit chain head saved yet")
	}
	if err != nil {
		return ChainHead{}, fmt.Errorf("read audit chain head: %w", err)
	}
	h.SavedAt = h.SavedAt.UTC()
	return h, nil
}
