package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/redact"
)

// DeliverOptions configure a Deliverer. The zero value is usable.
type DeliverOptions struct {
	// Interval is how often the outbox is looked at without a Notify (for
	// rows left by a crash or written by another process). Default 1s.
	Interval time.Duration
	// Batch is how many outbox rows move per transaction. Default 500.
	Batch int
	// Delay is how long Run waits after a Notify before delivering, so
	// that the changes of many commits move in one batch instead of one
	// delivery per commit (on SQLite a delivery holds the business
	// database's write lock while it writes). Default 20ms; negative: none.
	Delay time.Duration
	// OnError is called with delivery errors (the log database full or
	// locked); the rows stay in the outbox and are retried. Default: ignore.
	OnError func(error)
	// Redactor removes secrets from diff values before they are written:
	// values of columns named like a secret and secrets recognised by
	// value. Declared sensitive columns never reach it (their values never
	// leave the business table). Default redact.Default(); redact.Disabled()
	// turns it off.
	Redactor *redact.Redactor
	// OnDelivered is called after each batch moved, with the number of
	// records written (for example to export the chain's head).
	OnDelivered func(n int)
}

// Deliverer moves outbox rows into the log database. It is library code
// the application wires once, like the slog handler: the application never
// holds the log database itself.
type Deliverer struct {
	reg     *Registry
	db      *sql.DB
	dialect string
	logs    sidelog.Store
	opts    DeliverOptions
	wake    chan struct{}
	mu      sync.Mutex // one delivery at a time in this process
}

// NewDeliverer returns a deliverer from the outbox of the business
// database db to logs.
func (r *Registry) NewDeliverer(db *sql.DB, dialect string, logs sidelog.Store, opts DeliverOptions) *Deliverer {
	if opts.Interval <= 0 {
		opts.Interval = time.Second
	}
	if opts.Batch <= 0 {
		opts.Batch = 500
	}
	if opts.Delay == 0 {
		opts.Delay = 20 * time.Millisecond
	}
	if opts.Redactor == nil {
		opts.Redactor = redact.Default()
	}
	return &Deliverer{reg: r, db: db, dialect: dialect, logs: logs, opts: opts, wake: make(chan struct{}, 1)}
}

// Notify asks Run to deliver now (the application calls it after a commit
// that wrote audited tables). It never blocks.
func (d *Deliverer) Notify() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends: at once, on every Notify and every
// Interval. Before returning it delivers what is pending one last time.
func (d *Deliverer) Run(ctx context.Context) {
	t := time.NewTicker(d.opts.Interval)
	defer t.Stop()
	for {
		if _, err := d.Deliver(ctx); err != nil && ctx.Err() == nil && d.opts.OnError != nil {
			d.opts.OnError(err)
		}
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			if _, err := d.Deliver(fctx); err != nil && d.opts.OnError != nil {
				d.opts.OnError(err)
			}
			cancel()
			return
		case <-d.wake:
			if d.opts.Delay > 0 {
				select {
				case <-time.After(d.opts.Delay):
				case <-ctx.Done():
				}
			}
		case <-t.C:
		}
	}
}

// Deliver moves every pending outbox row into the log database and returns
// how many records it wrote.
func (d *Deliverer) Deliver(ctx context.Context) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	total := 0
	for {
		n, more, err := d.deliverBatch(ctx)
		total += n
		if err != nil {
			return total, err
		}
		if n > 0 && d.opts.OnDelivered != nil {
			d.opts.OnDelivered(n)
		}
		if !more {
			return total, nil
		}
	}
}

// deliverBatch moves one batch in one business transaction: rows are read
// (locked on PostgreSQL, so that two processes never take the same rows),
// written to the log database, then deleted, then committed. A crash after
// the log write and before the commit leaves the rows for the next run,
// which finds their records already there and only deletes them.
func (d *Deliverer) deliverBatch(ctx context.Context) (n int, more bool, err error) {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, false, fmt.Errorf("deliver audit: %w", err)
	}
	defer tx.Rollback()
	q := `SELECT id, ts, entity, action, entity_id, old_row, new_row, sensitive, actor FROM ` + OutboxTable +
		` ORDER BY id LIMIT ` + strconv.Itoa(d.opts.Batch)
	if d.dialect == Postgres {
		q += ` FOR UPDATE SKIP LOCKED`
	}
	rows, err := tx.QueryContext(ctx, q)
	if err != nil {
		return 0, false, fmt.Errorf("deliver audit: read outbox: %w", err)
	}
	var batch []outboxRow
	for rows.Next() {
		var r outboxRow
		if err := rows.Scan(&r.id, &r.ts, &r.entity, &r.action, &r.entityID, &r.oldRow, &r.newRow, &r.sensitive, &r.actor); err != nil {
			rows.Close()
			return 0, false, fmt.Errorf("deliver audit: read outbox: %w", err)
		}
		batch = append(batch, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, false, fmt.Errorf("deliver audit: read outbox: %w", err)
	}
	if len(batch) == 0 {
		return 0, false, nil
	}
	recs, err := d.pending(ctx, batch)
	if err != nil {
		return 0, false, err
	}
	if len(recs) > 0 {
		if err := d.logs.WriteBatch(ctx, recs); err != nil {
			return 0, false, fmt.Errorf("deliver audit: write log db: %w", err)
		}
	}
	if err := deleteRows(ctx, tx, batch); err != nil {
		return 0, false, err
	}
	if err := tx.Commit(); err != nil {
		return 0, false, fmt.Errorf("deliver audit: commit: %w", err)
	}
	return len(recs), len(batch) == d.opts.Batch, nil
}

// pending turns the batch into records, leaving out those already in the
// log database (delivered before a crash) and empty diffs.
func (d *Deliverer) pending(ctx context.Context, batch []outboxRow) ([]sidelog.Record, error) {
	minTS := batch[0].ts
	for _, r := range batch {
		minTS = min(minTS, r.ts)
	}
	done, err := d.delivered(ctx, time.UnixMicro(minTS))
	if err != nil {
		return nil, err
	}
	var recs []sidelog.Record
	for _, r := range batch {
		if done[deliveredKey{r.id, r.ts}] {
			continue
		}
		rec, ok, err := d.reg.record(r, d.opts.Redactor)
		if err != nil {
			return nil, fmt.Errorf("deliver audit: %w", err)
		}
		if ok {
			recs = append(recs, rec)
		}
	}
	return recs, nil
}

type deliveredKey struct{ id, ts int64 }

// delivered returns the outbox rows (id and time) of the audit records
// stored since the given time. Rows are deleted right after delivery, so
// the window is short: the age of the oldest undelivered row.
func (d *Deliverer) delivered(ctx context.Context, since time.Time) (map[deliveredKey]bool, error) {
	done := map[deliveredKey]bool{}
	f := sidelog.Filter{Kinds: []sidelog.Kind{sidelog.KindAudit}, Logger: Logger, Since: since}
	for rec, err := range d.logs.Scan(ctx, f) {
		if err != nil {
			return nil, fmt.Errorf("deliver audit: read log db: %w", err)
		}
		if ch, ok := ChangeOf(rec); ok {
			done[deliveredKey{ch.OutboxID, rec.Time.UnixMicro()}] = true
		}
	}
	return done, nil
}

func deleteRows(ctx context.Context, tx *sql.Tx, batch []outboxRow) error {
	for start := 0; start < len(batch); start += 500 {
		chunk := batch[start:min(start+500, len(batch))]
		ph := make([]string, len(chunk))
		args := make([]any, len(chunk))
		for i, r := range chunk {
			ph[i], args[i] = "$"+strconv.Itoa(i+1), r.id
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+OutboxTable+` WHERE id IN (`+strings.Join(ph, ",")+`)`, args...); err != nil {
			return fmt.Errorf("deliver audit: delete from outbox: %w", err)
		}
	}
	return nil
}

// Pending returns how many outbox rows wait for delivery.
func (d *Deliverer) Pending(ctx context.Context) (int64, error) {
	var n int64
	err := d.db.QueryRowContext(ctx, `SELECT count(*) FROM `+OutboxTable).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return n, err
}
