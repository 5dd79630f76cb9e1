package sidelog

import (
	"context"
	"time"
)

// Position marks how far a reader of new records (a shipper) has got in a
// log database. It maps a partition of the store — for the SQLite store, a
// UTC day — to the ID of the last record read in it. IDs grow with
// insertion order within a partition, but a late record can land in an
// older partition after newer ones were read, so one number is not enough.
// The zero (nil) Position is the start of the database. It is plain data,
// safe to persist as JSON.
type Position map[int64]int64

// Clone returns a copy of p that shares nothing with it.
func (p Position) Clone() Position {
	out := make(Position, len(p))
	for k, v := range p {
		out[k] = v
	}
	return out
}

// PositionReader reads the records of a log database in the order they were
// written, from a saved position: what a shipper needs to forward every
// record once.
type PositionReader interface {
	// ReadAfter returns up to limit records that p does not cover, in
	// write order (oldest partition first, by ID within one), and the
	// position that covers them too. Only committed records are returned,
	// and a record that was removed (by purge or retention) before it was
	// read is never returned. An empty result means p is up to date.
	ReadAfter(ctx context.Context, p Position, limit int) ([]Record, Position, error)

	// Backlog returns how many records p does not cover and the time of
	// the oldest of them (zero when there are none).
	Backlog(ctx context.Context, p Position) (n int64, oldest time.Time, err error)
}
