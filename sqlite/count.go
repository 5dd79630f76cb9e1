package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"reflect"
	"slices"
	"time"

	"github.com/sidelog/sidelog"
)

// classCountsTable is where classCounts reads: rollup_hour, or rollup
// only to measure the difference (the retention benchmark's baseline).
var classCountsTable = "rollup_hour"

// classCounts returns the segment's record counts by rollup class (minute
// zeroed), a copy the caller may keep. They are read once and then kept up
// to date by the writer.
func (s *segment) classCounts(ctx context.Context) (map[rollupKey]int64, error) {
	s.cmu.Lock()
	defer s.cmu.Unlock()
	if s.counts != nil {
		return maps.Clone(s.counts), nil // the writer adds to s.counts meanwhile
	}
	r, err := s.reader()
	if err != nil {
		return nil, ignoreGone(err)
	}
	// From the per-hour rollup: the same totals from 24 rows a day per
	// class instead of 1,440 (retention reads every old file's counts;
	// from the per-minute rollup that was most of a cleanup's CPU).
	rows, err := r.QueryContext(ctx, `SELECT level_class, kind, status_class, sum(n) FROM `+classCountsTable+` GROUP BY 1, 2, 3`)
	if isNoSchema(err) {
		s.counts = map[rollupKey]int64{}
		return s.counts, nil
	}
	if err != nil {
		return nil, classify(err)
	}
	defer rows.Close()
	counts := map[rollupKey]int64{}
	for rows.Next() {
		var k rollupKey
		var n int64
		if err := rows.Scan(&k.levelClass, &k.kind, &k.statusClass, &n); err != nil {
			return nil, err
		}
		counts[k] = n
	}
	if err := rows.Err(); err != nil {
		return nil, classify(err)
	}
	s.counts = counts
	return maps.Clone(counts), nil
}

// addCounts adds a committed batch's rollup to the cached class counts.
func (s *segment) addCounts(roll map[rollupKey]int64) {
	s.cmu.Lock()
	defer s.cmu.Unlock()
	if s.counts == nil {
		return // not loaded yet: the next load reads the committed rollup
	}
	for k, n := range roll {
		k.minute = 0
		s.counts[k] += n
	}
}

// resetCounts forgets the cached class counts after rows were removed.
func (s *segment) resetCounts() {
	s.cmu.Lock()
	s.counts = nil
	s.cmu.Unlock()
}

// classWhere returns conditions on the rollup table equivalent to f's
// level, kind and status conditions, or false when f has other conditions
// (its time bounds aside) or ones the rollup's classes cannot answer.
func classWhere(f sidelog.Filter) (*where, bool) {
	g := f
	g.MinLevel, g.MaxLevel, g.Kinds, g.MinStatus, g.MaxStatus, g.Since, g.Until = nil, nil, nil, 0, 0, time.Time{}, time.Time{}
	if !reflect.ValueOf(g).IsZero() {
		return nil, false
	}
	w := &where{}
	if f.MinLevel != nil {
		c, ok := classStart(*f.MinLevel)
		if !ok {
			return nil, false
		}
		w.add("level_class >= ?", c)
	}
	if f.MaxLevel != nil {
		c, ok := classStart(*f.MaxLevel + 1)
		if !ok {
			return nil, false
		}
		w.add("level_class < ?", c)
	}
	if len(f.Kinds) > 0 {
		w.add("kind IN ("+placeholders(len(f.Kinds))+")", kindArgs(f.Kinds)...)
	}
	if f.MinStatus > 0 {
		if f.MinStatus%100 != 0 {
			return nil, false
		}
		w.add("status_class >= ?", f.MinStatus/100)
	}
	if f.MaxStatus > 0 {
		if f.MaxStatus%100 != 99 {
			return nil, false
		}
		w.add("status_class BETWEEN 1 AND ?", f.MaxStatus/100)
	}
	return w, true
}

// classStart returns the level class that begins exactly at l.
func classStart(l slog.Level) (int, bool) {
	for c := 0; c < 4; c++ {
		if lo, _ := classLevelRange(c); lo == l {
			return c, true
		}
	}
	return 0, false
}

// Count returns the number of records matching f. Filters on level class,
// kind and status class are answered from the rollup (and the rows of the
// minutes the time bounds cut).
func (db *DB) Count(ctx context.Context, f sidelog.Filter) (int64, error) {
	if err := validate(f); err != nil {
		return 0, err
	}
	f, ok := storableTimes(f)
	if !ok {
		return 0, nil
	}
	cw, fromRollup := classWhere(f)
	fromRollup = fromRollup && f.Since.UnixNano() >= 0
	defer db.afterRead(ctx)
	var total int64
	for _, s := range db.segmentsFor(f) {
		var n int64
		err := s.withReader(func(r queryer) error {
			if fromRollup && wholeDay(f, s.day) {
				counts, err := s.classCounts(ctx)
				for k, c := range counts {
					if classMayMatch(k, f) {
						n += c
					}
				}
				return err
			}
			if fromRollup {
				// The day's part of the range as one bucket: whole
				// minutes from the rollup, the cut ones from the rows.
				g := f
				g.Since = time.Unix(0, max(f.Since.UnixNano(), s.day*dayNanos))
				g.Until = time.Unix(0, (s.day+1)*dayNanos)
				if !f.Until.IsZero() {
					g.Until = time.Unix(0, min(f.Until.UnixNano(), g.Until.UnixNano()))
				}
				step := g.Until.Sub(g.Since).Truncate(time.Minute) + time.Minute
				b := make([]sidelog.Bucket, 1)
				err := histFromRollup(ctx, r, s.day, g, cw, step, b)
				n = b[0].Counts[0] + b[0].Counts[1] + b[0].Counts[2] + b[0].Counts[3]
				return err
			}
			p, err := planFor(ctx, s, r, f)
			if err != nil || p.skip {
				return err
			}
			w := conditions(f, p)
			addTimeBounds(w, f)
			return r.QueryRowContext(ctx, `SELECT count(*) FROM logs l`+w.String(), w.args...).Scan(&n)
		})
		if err = db.survive(s, err); err != nil {
			return 0, classify(fmt.Errorf("count %s: %w", s.name(), err))
		}
		total += n
	}
	return total, nil
}

// wholeBucket returns the bucket that holds all of the day, if one does.
func wholeBucket(f sidelog.Filter, step time.Duration, day int64) (int, bool) {
	if !wholeDay(f, day) {
		return 0, false
	}
	start := day*dayNanos - f.Since.UnixNano()
	b := start / int64(step)
	if start < 0 || (start+dayNanos-1)/int64(step) != b {
		return 0, false
	}
	return int(b), true
}

// wholeDay reports whether f's time bounds leave the whole day in.
func wholeDay(f sidelog.Filter, day int64) bool {
	return (f.Since.IsZero() || f.Since.UnixNano() <= day*dayNanos) &&
		(f.Until.IsZero() || f.Until.UnixNano() >= (day+1)*dayNanos)
}

// maxBuckets bounds a histogram's size.
const maxBuckets = 10000

// HistogramFromRollup reports whether Histogram answers f with step from
// the rollups (milliseconds for any range) rather than by counting rows
// (which grows with the matching rows in the range): the admin UI draws the
// first kind of chart with the list and fetches the second after it.
func (db *DB) HistogramFromRollup(f sidelog.Filter, step time.Duration) bool {
	_, ok := classWhere(f)
	return ok && step%time.Minute == 0 && f.Since.UnixNano() >= 0
}

// Histogram counts the records matching f by level class in buckets of
// width step from f.Since to f.Until. Questions on level, kind and status
// class with a step of whole minutes are answered from the per-minute
// rollup over any window (whole hours that fall in one bucket from the
// hourly rollup): the minutes that the window's ends or the bucket
// boundaries cut (at most one per bucket) are counted from their rows.
func (db *DB) Histogram(ctx context.Context, f sidelog.Filter, step time.Duration) ([]sidelog.Bucket, error) {
	if err := validate(f); err != nil {
		return nil, err
	}
	if f.Since.IsZero() || f.Until.IsZero() || step <= 0 {
		return nil, sidelog.Errorf(sidelog.EINVALID, "a histogram needs since, until and a positive step")
	}
	if !sidelog.TimeInRange(f.Since) || !sidelog.TimeInRange(f.Until) {
		return nil, sidelog.Errorf(sidelog.EINVALID, "a histogram's range must lie between %s and %s",
			sidelog.MinTime.Format(time.RFC3339), sidelog.MaxTime.Format(time.RFC3339))
	}
	n := int64((f.Until.Sub(f.Since) + step - 1) / step)
	if n > maxBuckets {
		return nil, sidelog.Errorf(sidelog.EINVALID, "%d buckets is too many (at most %d): use a wider step", n, maxBuckets)
	}
	out := make([]sidelog.Bucket, n)
	for i := range out {
		out[i].Start = f.Since.Add(time.Duration(i) * step).UTC()
	}
	cw, fromRollup := classWhere(f)
	fromRollup = fromRollup && step%time.Minute == 0 && f.Since.UnixNano() >= 0
	since := f.Since.UnixNano()
	defer db.afterRead(ctx)
	for _, s := range db.segmentsFor(f) {
		err := s.withReader(func(r queryer) error {
			if b, ok := wholeBucket(f, step, s.day); ok && fromRollup {
				// The whole file falls in one bucket: its class counts,
				// already in memory, answer without reading the rollup.
				counts, err := s.classCounts(ctx)
				for k, n := range counts {
					if classMayMatch(k, f) {
						out[b].Counts[k.levelClass] += n
					}
				}
				return err
			}
			if fromRollup {
				return histFromRollup(ctx, r, s.day, f, cw, step, out)
			}
			p, err := planFor(ctx, s, r, f)
			if err != nil || p.skip {
				return err
			}
			w := conditions(f, p)
			addTimeBounds(w, f)
			q := `SELECT (l.ts - ?) / ?, ` + levelClassSQL + `, count(*) FROM logs l` + w.String() + ` GROUP BY 1, 2`
			return addBuckets(ctx, r, q, append([]any{since, int64(step)}, w.args...), out)
		})
		if err = db.survive(s, err); err != nil {
			return nil, classify(fmt.Errorf("histogram %s: %w", s.name(), err))
		}
	}
	return out, nil
}

// histFromRollup adds the day's part of a histogram whose filter the
// rollup answers (cw, from classWhere) and whose step is whole minutes.
// The per-minute rollup counts every minute that lies inside one bucket;
// the minutes a bucket boundary or the range's ends cut (when the range
// does not start or end on a whole minute) are counted from their rows,
// in one statement over their time ranges. At most one minute per bucket
// is read from rows, so an unaligned window costs little more than an
// aligned one.
func histFromRollup(ctx context.Context, r queryer, day int64, f sidelog.Filter, cw *where, step time.Duration, out []sidelog.Bucket) error {
	const m = int64(time.Minute)
	since, until := f.Since.UnixNano(), f.Until.UnixNano()
	lo, hi := max(since, day*dayNanos), min(until, (day+1)*dayNanos)
	if lo >= hi {
		return nil
	}
	a, b := ceilDiv(lo, m), floorDiv(hi, m) // whole minutes [a, b)
	var ranges [][2]int64                   // row ranges [lo, hi)
	w := &where{conds: slices.Clone(cw.conds), args: slices.Clone(cw.args)}
	if a >= b {
		ranges = append(ranges, [2]int64{lo, hi})
	} else {
		if lo < a*m {
			ranges = append(ranges, [2]int64{lo, a * m})
		}
		// Whole hours that fall inside one bucket come from the hourly
		// rollup (24 rows a day per class instead of 1,440); the other
		// minutes from the per-minute one.
		var hours []int64
		var mins [][2]int64 // minute ranges [lo, hi) left to the minute rollup
		from := a
		for h := ceilDiv(a, 60); (h+1)*60 <= b; h++ {
			if floorDiv(h*int64(time.Hour)-since, int64(step)) != floorDiv((h+1)*int64(time.Hour)-1-since, int64(step)) {
				continue
			}
			hours = append(hours, h)
			if from < h*60 {
				mins = append(mins, [2]int64{from, h * 60})
			}
			from = (h + 1) * 60
		}
		if from < b {
			mins = append(mins, [2]int64{from, b})
		}
		if len(hours) > 0 {
			hw := &where{conds: slices.Clone(cw.conds), args: slices.Clone(cw.args)}
			hj, _ := json.Marshal(hours)
			hw.add("hour IN (SELECT value FROM json_each(?))", string(hj))
			q := `SELECT (hour * 3600000000000 - ?) / ?, level_class, sum(n) FROM rollup_hour` + hw.String() + ` GROUP BY 1, 2`
			if err := addBuckets(ctx, r, q, append([]any{since, int64(step)}, hw.args...), out); err != nil {
				return err
			}
		}
		mj, _ := json.Marshal(mins)
		w.add("minute >= j.value ->> 0 AND minute < j.value ->> 1")
		if since%m != 0 {
			// Every bucket boundary falls inside a minute: those minutes,
			// one per stepMin, come from the rows.
			s0, stepMin := floorDiv(since, m), int64(step)/m
			w.add("(minute - ?) % ? != 0", s0, stepMin)
			first := s0 + ceilDiv(a-s0, stepMin)*stepMin
			for x := first; x < b; x += stepMin {
				ranges = append(ranges, [2]int64{x * m, (x + 1) * m})
			}
		}
		if b*m < hi {
			ranges = append(ranges, [2]int64{b * m, hi})
		}
		if len(mins) > 0 {
			q := `SELECT (minute * 60000000000 - ?) / ?, level_class, sum(n) FROM json_each(?) j, rollup` + w.String() + ` GROUP BY 1, 2`
			if err := addBuckets(ctx, r, q, append([]any{since, int64(step), string(mj)}, w.args...), out); err != nil {
				return err
			}
		}
	}
	if len(ranges) == 0 {
		return nil
	}
	js, _ := json.Marshal(ranges)
	rw := conditions(f, plan{}) // unindexed: the time ranges lead
	rw.add("l.ts >= j.value ->> 0 AND l.ts < j.value ->> 1")
	q := `SELECT (l.ts - ?) / ?, ` + levelClassSQL + `, count(*) FROM json_each(?) j, logs l` + rw.String() + ` GROUP BY 1, 2`
	return addBuckets(ctx, r, q, append([]any{since, int64(step), string(js)}, rw.args...), out)
}

func addBuckets(ctx context.Context, r queryer, q string, args []any, out []sidelog.Bucket) error {
	rows, err := r.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var b, class, n int64
		if err := rows.Scan(&b, &class, &n); err != nil {
			return err
		}
		if b >= 0 && b < int64(len(out)) && class >= 0 && class < 4 {
			out[b].Counts[class] += n
		}
	}
	return rows.Err()
}
