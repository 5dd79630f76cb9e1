package cli

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"time"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/sqlite"
)

// dedup recognises records of an import that the database already holds,
// so that importing a file twice adds its records once.
//
// A record is a copy of one in the database when their JSON Lines forms
// without the id are byte for byte the same: same time to the nanosecond,
// level, kind, message, logger, request fields and attributes. For each
// batch, dedup reads the database's records in the batch's time range,
// hashes those whose time some record of the batch has (SHA-256), and
// skips a record of the batch for each copy it finds. Copies are counted,
// not just noticed: a file with two identical records imported into a
// database that has one adds one. Records this import wrote itself, and any
// written after it started, are not counted as copies (their ids are at or
// above the first id the import got for their day), so identical records
// inside one file are all kept.
type dedup struct {
	db      *sqlite.DB
	firstID map[int64]int64 // by day (id>>32): the first id this import wrote
	// used counts the database's copies already matched by earlier
	// batches, for records whose time may come again; in a file in time
	// order (as export writes it) only the last batch's newest time can.
	used      map[[32]byte]usedCopies
	ascending bool
	newest    int64
}

type usedCopies struct {
	n  int
	ts int64
}

func newDedup(db *sqlite.DB) *dedup {
	return &dedup{db: db, firstID: map[int64]int64{}, used: map[[32]byte]usedCopies{}, ascending: true}
}

// recordHash hashes r's JSON Lines form without its id.
func recordHash(r sidelog.Record) ([32]byte, error) {
	r.ID = 0
	r.Time = r.Time.UTC()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // as export.JSONL writes it
	if err := enc.Encode(r); err != nil {
		return [32]byte{}, err
	}
	return sha256.Sum256(b.Bytes()), nil
}

// filter returns the records of batch that are not copies of records in
// the database, and how many it skipped.
func (d *dedup) filter(ctx context.Context, batch []sidelog.Record) ([]sidelog.Record, int64, error) {
	if len(batch) == 0 {
		return batch, 0, nil
	}
	lo, hi := batch[0].Time.UnixNano(), batch[0].Time.UnixNano()
	times := make(map[int64]bool, len(batch))
	for _, r := range batch {
		ts := r.Time.UnixNano()
		lo, hi = min(lo, ts), max(hi, ts)
		times[ts] = true
		if ts < d.newest {
			d.ascending = false
		}
		d.newest = max(d.newest, ts)
	}
	copies := map[[32]byte]int{}
	f := sidelog.Filter{Since: time.Unix(0, lo), Until: time.Unix(0, hi+1)}
	for e, err := range d.db.Scan(ctx, f) {
		if err != nil {
			return nil, 0, err
		}
		if !times[e.Time.UnixNano()] {
			continue
		}
		if first, ok := d.firstID[e.ID>>32]; ok && e.ID >= first {
			continue // written by this import, or after it started
		}
		h, err := recordHash(e)
		if err != nil {
			return nil, 0, err
		}
		copies[h]++
	}
	keep := batch[:0]
	var skipped int64
	for _, r := range batch {
		h, err := recordHash(r)
		if err != nil {
			return nil, 0, err
		}
		if u := d.used[h]; copies[h] > u.n {
			d.used[h] = usedCopies{n: u.n + 1, ts: r.Time.UnixNano()}
			skipped++
			continue
		}
		keep = append(keep, r)
	}
	if d.ascending {
		for h, u := range d.used {
			if u.ts < hi {
				delete(d.used, h)
			}
		}
	}
	return keep, skipped, nil
}

// wrote notes the ids a write gave the kept records.
func (d *dedup) wrote(recs []sidelog.Record) {
	for _, r := range recs {
		day := r.ID >> 32
		if first, ok := d.firstID[day]; !ok || r.ID < first {
			d.firstID[day] = r.ID
		}
	}
}
