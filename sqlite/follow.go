package sqlite

import (
	"cmp"
	"context"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/sidelog/sidelog"
)

// Follower returns the records matching a filter as they are written, by
// this process or another, whatever file they land in: a class file or a
// day file created after following began, or a day earlier than the
// newest (a late record). It keeps, for each day file, the highest row it
// has looked at, and looks again only at files that changed on disk.
type Follower struct {
	db    *DB
	f     sidelog.Filter
	none  bool                 // no record can match f's times
	marks map[segKey]int64     // the highest rowid looked at, per file
	seen  map[segKey]fileStamp // each file's size and times when last read
}

// fileStamp tells whether a day file may have new rows: a commit changes
// the WAL file (or, after a checkpoint, the file itself).
type fileStamp struct {
	size, walSize   int64
	mtime, walMtime time.Time
}

// settled reports whether the file has not changed for long enough that
// a later change must change its stamp: file times come from a coarse
// clock, and a WAL restarted after a checkpoint keeps its size.
func (st fileStamp) settled() bool {
	const tick = time.Second
	now := time.Now()
	return now.Sub(st.mtime) > tick && now.Sub(st.walMtime) > tick
}

func stampOf(path string) fileStamp {
	var st fileStamp
	if fi, err := os.Stat(path); err == nil {
		st.size, st.mtime = fi.Size(), fi.ModTime()
	}
	if fi, err := os.Stat(path + "-wal"); err == nil {
		st.walSize, st.walMtime = fi.Size(), fi.ModTime()
	}
	return st
}

// Follow starts following the records matching f. Records stored before
// Follow returns are not returned by Next; Last returns the newest of them.
func (db *DB) Follow(ctx context.Context, f sidelog.Filter) (*Follower, error) {
	if err := validate(f); err != nil {
		return nil, err
	}
	f, ok := storableTimes(f)
	fl := &Follower{db: db, f: f, none: !ok, marks: map[segKey]int64{}, seen: map[segKey]fileStamp{}}
	db.refresh()
	defer db.afterRead(ctx)
	// Opening each file is most of the cost: a few at a time.
	segs := db.segments()
	marks, stamps, errs := make([]int64, len(segs)), make([]fileStamp, len(segs)), make([]error, len(segs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for i, s := range segs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			stamps[i] = stampOf(s.path)
			m, err := s.maxID(ctx)
			marks[i], errs[i] = m, db.survive(s, ignoreGone(err))
		}()
	}
	wg.Wait()
	for i, s := range segs {
		if errs[i] != nil {
			return nil, errs[i]
		}
		fl.marks[s.segKey], fl.seen[s.segKey] = marks[i], stamps[i]
	}
	return fl, nil
}

// covers reports whether r was stored when following began.
func (fl *Follower) covers(r sidelog.Record) bool {
	day, rowid := splitID(r.ID)
	return rowid <= fl.marks[segKey{day, fileClassOf(&r)}]
}

// Last returns the newest n records matching the filter that were stored
// when following began, oldest first.
func (fl *Follower) Last(ctx context.Context, n int) ([]sidelog.Record, error) {
	var out []sidelog.Record
	if fl.none {
		return nil, nil
	}
	page := sidelog.Page{}
	// Pages grow from small: most calls want a screenful.
	for size := 16; len(out) < n; size = min(size*4, 1000) {
		page.Limit = min(n-len(out), size)
		res, err := fl.db.Query(ctx, fl.f, page)
		if err != nil {
			return nil, err
		}
		for _, r := range res.Records {
			if fl.covers(r) && len(out) < n {
				out = append(out, r)
			}
		}
		if res.Next == (sidelog.Cursor{}) {
			break
		}
		page.After = res.Next
	}
	slices.Reverse(out)
	return out, nil
}

// Next returns the matching records written since the last call (or since
// Follow), at most limit of them, in ID order: by day, then in the order
// they were written. Records past the limit are returned by the next call.
func (fl *Follower) Next(ctx context.Context, limit int) ([]sidelog.Record, error) {
	db := fl.db
	if fl.none {
		return nil, nil
	}
	db.refresh()
	defer db.afterRead(ctx)
	var out []sidelog.Record
	segs := db.segments()
	slices.Reverse(segs) // oldest day first
	for _, s := range segs {
		if len(out) >= limit {
			break
		}
		st := stampOf(s.path)
		if prev, ok := fl.seen[s.segKey]; ok && prev == st && st.settled() {
			continue
		}
		hi, err := s.maxID(ctx)
		if err = db.survive(s, ignoreGone(err)); err != nil {
			return out, err
		}
		lo := fl.marks[s.segKey]
		if hi <= lo {
			fl.seen[s.segKey] = st
			continue
		}
		// Another process wrote the rows: the class counts this process
		// keeps for the file are stale.
		s.resetCounts()
		recs, err := s.after(ctx, fl.f, lo, hi, limit-len(out))
		if err = db.survive(s, err); err != nil {
			return out, err
		}
		out = append(out, recs...)
		if len(out) >= limit && len(recs) > 0 {
			_, fl.marks[s.segKey] = splitID(recs[len(recs)-1].ID)
			continue // more to read here: the stamp stays old
		}
		fl.marks[s.segKey], fl.seen[s.segKey] = hi, st
	}
	slices.SortFunc(out, func(a, b sidelog.Record) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// after returns up to limit records of the segment matching f with rowids
// in (lo, hi], oldest first.
func (s *segment) after(ctx context.Context, f sidelog.Filter, lo, hi int64, limit int) ([]sidelog.Record, error) {
	var out []sidelog.Record
	err := s.withReader(func(r queryer) error {
		p, err := planFor(ctx, s, r, f)
		if err != nil || p.skip {
			return err
		}
		p.useClassIndex = false // new rows are at the end: walk them
		w := conditions(f, p)
		w.add("l.id > ? AND l.id <= ?", lo, hi)
		addTimeBounds(w, f)
		out, err = readRecords(ctx, r, s.day, selectRecord+w.String()+" ORDER BY l.id LIMIT ?", append(w.args, limit)...)
		return err
	})
	return out, classify(err)
}

// refreshEvery refreshes the list of day files when the last refresh is
// older than d: a process that only reads (sidelog serve, a query running
// beside the application) sees the files another process creates.
func (db *DB) refreshEvery(d time.Duration) {
	db.mu.Lock()
	due := time.Since(db.refreshed) > d
	db.mu.Unlock()
	if due {
		db.refresh()
	}
}

// refresh adds the day files created since the store was opened, by this
// process or another, to the segments it reads.
func (db *DB) refresh() {
	ents, err := os.ReadDir(db.dir)
	if err != nil {
		return
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	db.refreshed = time.Now()
	for _, e := range ents {
		if k, ok := parseSegmentName(e.Name()); ok && db.segs[k] == nil {
			db.segs[k] = newSegment(db, k)
		}
	}
}
