package sqlite

import (
	"context"
	"fmt"

	"github.com/sidelog/sidelog"
)

// hold keeps records that followers have not read from retention (see
// sidelog.Retention.KeepUnshipped), and counts those removed anyway as lost.
type hold struct {
	positions map[string]sidelog.Position // by follower name
	maxBytes  int64                       // keep only while the database is smaller; 0: never keep
}

// newHold reads the followers' positions; with no follower it returns a
// hold that keeps nothing and counts nothing.
func (db *DB) newHold(ctx context.Context, pol sidelog.Retention) (*hold, error) {
	ps, err := db.positions(ctx)
	if err != nil {
		return nil, fmt.Errorf("retention: %w", err)
	}
	h := &hold{positions: ps}
	if pol.KeepUnshipped {
		h.maxBytes = pol.UnshippedMaxBytes
		if h.maxBytes == 0 {
			h.maxBytes = sidelog.DefaultUnshippedMaxBytes
		}
	}
	return h, nil
}

// unread returns, by follower, how many records of s it has not read.
func (h *hold) unread(ctx context.Context, s *segment) (map[string]int64, error) {
	out := map[string]int64{}
	for name, p := range h.positions {
		_, after := splitID(p[s.day])
		var n int64
		err := s.withReader(func(r queryer) error {
			return r.QueryRowContext(ctx, `SELECT count(*) FROM logs WHERE id > ?`, after).Scan(&n)
		})
		if err != nil {
			return nil, classify(err)
		}
		if n > 0 {
			out[name] = n
		}
	}
	return out, nil
}

// expireHeld is expire for records that followers may not have read: with
// force unset it leaves a file holding unread records alone while the
// database is under the hold's bound; otherwise it removes what ru says and
// adds the unread records removed to each follower's lost count.
func (db *DB) expireHeld(ctx context.Context, s *segment, ru rule, dryRun, force bool, h *hold, rep *CleanupReport) error {
	if len(h.positions) == 0 {
		return db.expire(ctx, s, ru, dryRun, rep)
	}
	before, err := h.unread(ctx, s)
	if err != nil || len(before) == 0 {
		if err != nil {
			return err
		}
		return db.expire(ctx, s, ru, dryRun, rep)
	}
	if !force && db.Size() < h.maxBytes {
		var n int64
		for _, c := range before {
			n = max(n, c)
		}
		rep.Held += n
		return nil
	}
	if err := db.expire(ctx, s, ru, dryRun, rep); err != nil || dryRun {
		return err
	}
	after, err := h.unread(ctx, s)
	if err != nil {
		return err
	}
	var worst int64
	for name, n := range before {
		if lost := n - after[name]; lost > 0 {
			worst = max(worst, lost)
			if err := db.addLost(ctx, name, lost); err != nil {
				return err
			}
		}
	}
	rep.Lost += worst
	return nil
}
