package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/sidelog/sidelog"
)

// selectRecord reads every column of a record, strings resolved through
// the dictionaries.
const selectRecord = `SELECT l.id, l.ts, l.level, l.kind,
	(SELECT s FROM dict WHERE id = l.logger), (SELECT s FROM msgs WHERE id = l.msg),
	l.request_id, l.trace_id, l.span_id, l.user_id, l.tenant_id,
	(SELECT s FROM dict WHERE id = l.method), (SELECT s FROM dict WHERE id = l.path),
	(SELECT s FROM dict WHERE id = l.route), l.status, l.duration, l.client_ip,
	(SELECT s FROM dict WHERE id = l.user_agent), (SELECT s FROM msgs WHERE id = l.err), l.attrs
	FROM logs l`

// scanRecord reads one row of selectRecord from a segment of the given day.
func scanRecord(rows interface{ Scan(...any) error }, day int64) (sidelog.Record, error) {
	var (
		r                                                 sidelog.Record
		rowid, ts, level, kind                            int64
		logger, msg, reqID, traceID, spanID, user, tenant sql.NullString
		method, path, route, ip, ua, errText, attrs       sql.NullString
		status, dur                                       sql.NullInt64
	)
	if err := rows.Scan(&rowid, &ts, &level, &kind, &logger, &msg, &reqID, &traceID, &spanID, &user, &tenant,
		&method, &path, &route, &status, &dur, &ip, &ua, &errText, &attrs); err != nil {
		return r, err
	}
	r.ID = makeID(day, rowid)
	r.Time = time.Unix(0, ts).UTC()
	r.Level, r.Kind = slog.Level(level), sidelog.Kind(kind)
	r.Logger, r.Message = logger.String, msg.String
	r.RequestID, r.TraceID, r.SpanID = reqID.String, traceID.String, spanID.String
	r.UserID, r.TenantID = user.String, tenant.String
	r.Method, r.Path, r.Route = method.String, path.String, route.String
	r.Status, r.Duration = int(status.Int64), time.Duration(dur.Int64)
	r.ClientIP, r.UserAgent, r.Error = ip.String, ua.String, errText.String
	if attrs.Valid {
		r.Attrs = json.RawMessage(attrs.String)
	}
	return r, nil
}

// where is a WHERE clause under construction.
type where struct {
	conds []string
	args  []any
}

func (w *where) add(cond string, args ...any) {
	w.conds = append(w.conds, cond)
	w.args = append(w.args, args...)
}

func (w *where) String() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// validate rejects filters that cannot mean anything.
func validate(f sidelog.Filter) error {
	switch {
	case f.MinLevel != nil && f.MaxLevel != nil && *f.MinLevel > *f.MaxLevel:
		return sidelog.Errorf(sidelog.EINVALID, "minimum level %v is above maximum level %v", *f.MinLevel, *f.MaxLevel)
	case !f.Since.IsZero() && !f.Until.IsZero() && f.Until.Before(f.Since):
		return sidelog.Errorf(sidelog.EINVALID, "until (%s) is before since (%s)", f.Until.Format(time.RFC3339), f.Since.Format(time.RFC3339))
	case f.MinStatus < 0 || f.MaxStatus < 0 || (f.MaxStatus != 0 && f.MinStatus > f.MaxStatus):
		return sidelog.Errorf(sidelog.EINVALID, "bad status range %d..%d", f.MinStatus, f.MaxStatus)
	}
	for _, k := range f.Kinds {
		if int(k) >= len(sidelog.Kinds()) {
			return sidelog.Errorf(sidelog.EINVALID, "unknown kind %d", k)
		}
	}
	if f.Text != "" {
		if _, err := ftsQuery(f.Text); err != nil {
			return err
		}
	}
	if f.Expr != nil {
		if err := exprSQL(&where{}, f.Expr); err != nil {
			return err
		}
	}
	return nil
}

// storableTimes narrows f's time bounds to the times a record can have
// (see sidelog.MinTime), so that no bound wraps around as nanoseconds; it
// returns false when no record can match.
func storableTimes(f sidelog.Filter) (sidelog.Filter, bool) {
	if !f.Since.IsZero() {
		if f.Since.After(sidelog.MaxTime) {
			return f, false
		}
		if f.Since.Before(sidelog.MinTime) {
			f.Since = time.Time{}
		}
	}
	if !f.Until.IsZero() {
		if !f.Until.After(sidelog.MinTime) {
			return f, false
		}
		if f.Until.After(sidelog.MaxTime) {
			f.Until = time.Time{}
		}
	}
	return f, true
}

// conditions returns the conditions of f on one segment, as planned by p.
// Conditions on low-cardinality columns are written with a unary + when
// common so that SQLite walks the rowid (newest first) instead of sorting
// an index range.
func conditions(f sidelog.Filter, p plan) *where {
	w := &where{}
	col := func(name string, indexed bool) string {
		if indexed {
			return "l." + name
		}
		return "+l." + name
	}
	// With a rare status class, the status index is the one to use.
	statusIx := p.useClassIndex
	levelIx := p.useClassIndex && f.MinStatus == 0 && f.MaxStatus == 0
	if f.MinLevel != nil {
		w.add(col("level", levelIx)+" >= ?", int64(*f.MinLevel))
	}
	if f.MaxLevel != nil {
		w.add(col("level", levelIx)+" <= ?", int64(*f.MaxLevel))
	}
	if len(f.Kinds) > 0 {
		w.add(col("kind", levelIx)+" IN ("+placeholders(len(f.Kinds))+")", kindArgs(f.Kinds)...)
	}
	if f.MinStatus > 0 {
		w.add(col("status", statusIx)+" >= ?", f.MinStatus)
	}
	if f.MaxStatus > 0 {
		w.add(col("status", statusIx)+" <= ?", f.MaxStatus)
	}
	for _, c := range []struct{ col, v string }{
		{"request_id", f.RequestID}, {"trace_id", f.TraceID}, {"user_id", f.UserID},
		{"tenant_id", f.TenantID}, {"client_ip", f.ClientIP},
	} {
		if c.v != "" {
			// The explicit IS NOT NULL lets SQLite use the partial index
			// without looking at the bound value, which would make it
			// compile the statement a second time on every run.
			w.add("l."+c.col+" = ? AND l."+c.col+" IS NOT NULL", c.v)
		}
	}
	if f.Logger != "" {
		w.add("l.logger = ?", p.logger)
	}
	if f.Method != "" {
		w.add("l.method = ?", p.method)
	}
	switch {
	case f.Path != "" && p.pathsQuery != "":
		w.add("+l.path IN ("+p.pathsQuery+")", p.pathsArgs...)
	case f.Path != "":
		w.add(col("path", !p.walkPath)+" IN ("+placeholders(len(p.paths))+")", p.paths...)
	}
	if f.Text != "" {
		// Words in the message, the error, or the attributes.
		attrs := "l.id IN (SELECT rowid FROM attrs_fts WHERE attrs_fts MATCH ?)"
		switch {
		case p.msgsQuery != "":
			in := " IN (" + p.msgsQuery + ")"
			args := append(append(slices.Clone(p.msgsArgs), p.msgsArgs...), p.textFTS)
			w.add("(+l.msg"+in+" OR +l.err"+in+" OR "+attrs+")", args...)
		case len(p.msgs) == 0 && p.textIDs != "":
			w.add("l.id IN (SELECT value FROM json_each(?))", p.textIDs)
		case len(p.msgs) == 0:
			w.add(attrs, p.textFTS)
		default:
			in := " IN (" + placeholders(len(p.msgs)) + ")"
			args := append(append(slices.Clone(p.msgs), p.msgs...), p.textFTS)
			w.add("("+col("msg", !p.walkText)+in+" OR "+col("err", !p.walkText)+in+" OR "+attrs+")", args...)
		}
	}
	if f.Expr != nil {
		if p.cands != "" {
			w.add("l.id IN (SELECT value FROM json_each(?))", p.cands)
		}
		exprSQL(w, f.Expr) //nolint:errcheck // checked by validate
	}
	return w
}

func placeholders(n int) string { return strings.TrimSuffix(strings.Repeat("?,", n), ",") }

func kindArgs(ks []sidelog.Kind) []any {
	out := make([]any, len(ks))
	for i, k := range ks {
		out[i] = int64(k)
	}
	return out
}

// plan is how one segment is searched.
type plan struct {
	skip          bool // no record of the segment can match
	useClassIndex bool // the level/kind/status condition is rare: use its index

	// Dictionary ids of the filter's strings in this segment.
	logger, method int64
	paths, msgs    []any
	// Walk rowids instead of the path or message index: the matching
	// values are many, so matches are common and an index would sort them.
	walkPath, walkText bool

	textFTS string // the text query, for the attribute index
	// textIDs are the rows (a JSON array of rowids) whose attributes hold
	// the text, when only attributes can match and they are few; "" else.
	textIDs string
	// cands are the rows (a JSON array of rowids) the attribute index
	// names as able to match the filter's expression, when they are few
	// enough in this file to look up (see candidates); "" to walk rowids.
	cands string
	// Past maxValues matching values, the ids are not listed: the
	// condition is a subquery (with its arguments) that SQLite runs once
	// per statement, and rowids are walked.
	pathsQuery, msgsQuery string
	pathsArgs, msgsArgs   []any
}

// rareFraction is the share of rows below which an index range on level,
// kind or status beats walking rowids newest first (which finds 50 matches
// within about 50/fraction rows).
const rareFraction = 0.01

// manyValues is how many matching dictionary values make a filter common
// enough to walk rowids rather than use its index.
const manyValues = 20

// commonRows is how many rows of a file make a message common enough that
// walking rowids finds the newest matches sooner than its index does.
const commonRows = 1000

// maxValues bounds the dictionary ids a filter resolves to in one segment.
const maxValues = 2000

// planFor decides how to search s for f: it skips segments whose class
// counts or dictionaries show that nothing can match, and picks between an
// index and a walk over rowids.
func planFor(ctx context.Context, s *segment, r queryer, f sidelog.Filter) (plan, error) {
	var p plan
	if f.MinLevel != nil || f.MaxLevel != nil || len(f.Kinds) > 0 || f.MinStatus > 0 || f.MaxStatus > 0 {
		counts, err := s.classCounts(ctx)
		if err != nil {
			return p, err
		}
		var total, match int64
		for k, n := range counts {
			total += n
			if classMayMatch(k, f) {
				match += n
			}
		}
		if match == 0 {
			return plan{skip: true}, nil
		}
		p.useClassIndex = float64(match) < rareFraction*float64(total)
	}
	one := func(s string, id *int64) error {
		err := r.QueryRowContext(ctx, `SELECT id FROM dict WHERE s = ?`, s).Scan(id)
		if errors.Is(err, sql.ErrNoRows) {
			p.skip = true
			return nil
		}
		return err
	}
	if f.Logger != "" {
		if err := one(f.Logger, &p.logger); err != nil || p.skip {
			return p, err
		}
	}
	if f.Method != "" {
		if err := one(strings.ToUpper(f.Method), &p.method); err != nil || p.skip {
			return p, err
		}
	}
	var err error
	if f.Path != "" {
		q, args := `SELECT id FROM dict WHERE s = ?`, []any{f.Path}
		if prefix, ok := strings.CutSuffix(f.Path, "*"); ok {
			q, args = `SELECT id FROM dict WHERE s >= ? AND s < ?`, []any{prefix, prefix + "\U0010FFFF"}
		}
		var many bool
		if p.paths, many, err = ids(ctx, r, q, args...); err != nil {
			return p, err
		}
		if many {
			p.pathsQuery, p.pathsArgs = q, args
		}
		p.walkPath = many || len(p.paths) >= manyValues
	}
	if f.Expr != nil {
		if cq := candidates(f.Expr); cq != "" {
			ids, n, err := candidateIDs(ctx, r, cq)
			if err != nil || n == 0 {
				return plan{skip: n == 0}, err
			}
			p.cands = ids
		}
	}
	if f.Text != "" {
		fq, _ := ftsQuery(f.Text)
		p.textFTS = fq
		q := `SELECT rowid FROM msgs_fts WHERE msgs_fts MATCH ?`
		var many bool
		if p.msgs, many, err = ids(ctx, r, q, fq); err != nil {
			return p, err
		}
		if many {
			p.msgsQuery, p.msgsArgs = q, []any{fq}
		}
		if len(p.msgs) == 0 && !many {
			// Only the attributes can match: skip the file when they don't,
			// and look up only the rows they name when they are few.
			ids, n, err := candidateIDs(ctx, r, fq)
			if err != nil || n == 0 {
				return plan{skip: n == 0}, err
			}
			p.textIDs = ids
		}
		p.walkText = many || len(p.msgs) >= manyValues
		if !p.walkText && len(p.msgs) > 0 {
			// A few messages may still be on many rows ("cache miss"):
			// count up to commonRows of them through the index, and walk
			// rowids when there are that many.
			var n int
			in := "(" + placeholders(len(p.msgs)) + ")"
			q := `SELECT count(*) FROM (SELECT 1 FROM logs WHERE msg IN ` + in + ` LIMIT ?)`
			if err := r.QueryRowContext(ctx, q, append(slices.Clone(p.msgs), commonRows)...).Scan(&n); err != nil {
				return p, err
			}
			p.walkText = n >= commonRows
		}
	}
	p.skip = f.Path != "" && len(p.paths) == 0 && p.pathsQuery == ""
	return p, nil
}

// ids runs a query for dictionary ids, at most maxValues of them; past that
// the filter matches so much that walking rowids finds matches anyway, and
// an id list that long would only slow SQLite down, so ids returns nil and
// many: the caller then uses the query itself as a subquery.
func ids(ctx context.Context, r queryer, q string, args ...any) (out []any, many bool, err error) {
	out, err = idsUpTo(ctx, r, maxValues, q+` LIMIT ?`, append(args, maxValues+1)...)
	if errors.Is(err, errTooMany) {
		return nil, true, nil
	}
	return out, false, err
}

// errTooMany is idsUpTo's error past its maximum.
var errTooMany = errors.New("too many ids")

// idsUpTo runs a query for ids; more than max of them is EINVALID.
func idsUpTo(ctx context.Context, r queryer, max int, q string, args ...any) ([]any, error) {
	rows, err := r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []any
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	if len(out) > max {
		return nil, errTooMany
	}
	return out, rows.Err()
}

// classMayMatch reports whether records of the class key may match f's
// level, kind and status conditions.
func classMayMatch(k rollupKey, f sidelog.Filter) bool {
	lo, hi := classLevelRange(int(k.levelClass))
	if f.MinLevel != nil && hi < *f.MinLevel {
		return false
	}
	if f.MaxLevel != nil && lo > *f.MaxLevel {
		return false
	}
	if len(f.Kinds) > 0 {
		found := false
		for _, kind := range f.Kinds {
			found = found || int8(kind) == k.kind
		}
		if !found {
			return false
		}
	}
	if f.MinStatus > 0 || f.MaxStatus > 0 {
		if k.statusClass == 0 {
			return false
		}
		slo, shi := int(k.statusClass)*100, int(k.statusClass)*100+99
		if (f.MinStatus > 0 && shi < f.MinStatus) || (f.MaxStatus > 0 && slo > f.MaxStatus) {
			return false
		}
	}
	return true
}

// classLevelRange returns the levels a level class spans.
func classLevelRange(c int) (lo, hi slog.Level) {
	const minL, maxL = slog.Level(-1 << 31), slog.Level(1<<31 - 1)
	switch c {
	case 0:
		return minL, slog.LevelInfo - 1
	case 1:
		return slog.LevelInfo, slog.LevelWarn - 1
	case 2:
		return slog.LevelWarn, slog.LevelError - 1
	}
	return slog.LevelError, maxL
}

// segmentsFor returns the segments that may hold records of f, newest day
// first.
func (db *DB) segmentsFor(f sidelog.Filter) []*segment {
	db.refreshEvery(time.Second)
	var out []*segment
	for _, s := range db.segments() {
		if !f.Since.IsZero() && s.day < dayOf(f.Since.UnixNano()) {
			continue
		}
		if !f.Until.IsZero() && s.day > dayOf(f.Until.UnixNano()-1) {
			continue
		}
		if !fileMayMatch(s.class, f) {
			continue // known by its name alone: the file is not even opened
		}
		out = append(out, s)
	}
	return out
}

// fileMayMatch reports whether a file of class c may hold records matching
// f's level and kind conditions (see fileClassOf): debug files hold app and
// request records below info, info files those at info, main files the
// rest and every audit and security record.
func fileMayMatch(c fileClass, f sidelog.Filter) bool {
	kindOK := func(ks ...sidelog.Kind) bool {
		if len(f.Kinds) == 0 {
			return true
		}
		for _, k := range ks {
			if slices.Contains(f.Kinds, k) {
				return true
			}
		}
		return false
	}
	plain := kindOK(sidelog.KindApp, sidelog.KindRequest)
	switch c {
	case classDebug:
		return plain && (f.MinLevel == nil || *f.MinLevel < slog.LevelInfo)
	case classInfo:
		return plain && (f.MinLevel == nil || *f.MinLevel < slog.LevelWarn) && (f.MaxLevel == nil || *f.MaxLevel >= slog.LevelInfo)
	}
	return kindOK(sidelog.KindAudit, sidelog.KindSecurity) || (plain && (f.MaxLevel == nil || *f.MaxLevel >= slog.LevelWarn))
}

// byDay splits segments (newest day first) into the groups of each day.
func byDay(segs []*segment) [][]*segment {
	var out [][]*segment
	for i := 0; i < len(segs); {
		j := i + 1
		for j < len(segs) && segs[j].day == segs[i].day {
			j++
		}
		out = append(out, segs[i:j])
		i = j
	}
	return out
}

// rowRange turns f's time bounds into rowid bounds within one segment:
// rows are stored in time order, so the bounds let SQLite walk a rowid range.
func rowRange(ctx context.Context, r queryer, f sidelog.Filter, day int64) (lo, hi int64, err error) {
	lo, hi = 1, 1<<62
	first := func(t time.Time) (int64, error) {
		var id sql.NullInt64
		err := r.QueryRowContext(ctx, `SELECT id FROM logs WHERE ts >= ? ORDER BY ts, id LIMIT 1`, t.UnixNano()).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return 1 << 62, nil
		}
		return id.Int64, err
	}
	if !f.Since.IsZero() && dayOf(f.Since.UnixNano()) == day {
		if lo, err = first(f.Since); err != nil {
			return 0, 0, err
		}
	}
	if !f.Until.IsZero() && dayOf(f.Until.UnixNano()-1) == day {
		if hi, err = first(f.Until); err != nil {
			return 0, 0, err
		}
	}
	return lo, hi, nil
}

// Query returns one page of records matching f, newest first.
func (db *DB) Query(ctx context.Context, f sidelog.Filter, p sidelog.Page) (sidelog.Result, error) {
	if err := validate(f); err != nil {
		return sidelog.Result{}, err
	}
	limit := p.Limit
	if limit <= 0 {
		limit = 50
	}
	var res sidelog.Result
	f, ok := storableTimes(f)
	if !ok {
		return res, nil
	}
	defer db.afterRead(ctx)
	afterDay, afterRow := int64(1<<31), int64(1<<62)
	if p.After.ID != 0 {
		afterDay, afterRow = splitID(p.After.ID)
	}
	for _, day := range byDay(db.segmentsFor(f)) {
		if day[0].day > afterDay {
			continue
		}
		before := int64(1 << 62)
		if day[0].day == afterDay {
			before = afterRow
		}
		// One more than asked tells whether there is a next page. Each of
		// the day's files gives its newest; the day's newest are among them.
		need := limit + 1 - len(res.Records)
		var recs []sidelog.Record
		for _, s := range day {
			got, err := s.query(ctx, f, before, need)
			if err = db.survive(s, err); err != nil {
				return sidelog.Result{}, err
			}
			recs = append(recs, got...)
		}
		if len(day) > 1 {
			slices.SortFunc(recs, func(a, b sidelog.Record) int { return cmp.Compare(b.ID, a.ID) })
		}
		res.Records = append(res.Records, recs[:min(need, len(recs))]...)
		if len(res.Records) > limit {
			res.Records = res.Records[:limit]
			res.Next = sidelog.Cursor{ID: res.Records[limit-1].ID}
			break
		}
	}
	return res, nil
}

// query returns up to limit records of the segment matching f with rowid
// below before, newest first. The matching rowids are found first and only
// those rows' strings are looked up.
func (s *segment) query(ctx context.Context, f sidelog.Filter, before int64, limit int) ([]sidelog.Record, error) {
	var out []sidelog.Record
	err := s.withReader(func(r queryer) error {
		p, err := planFor(ctx, s, r, f)
		if err != nil || p.skip {
			return err
		}
		lo, hi, err := rowRange(ctx, r, f, s.day)
		if err != nil {
			return err
		}
		w := conditions(f, p)
		w.add("l.id >= ? AND l.id < ?", lo, min(hi, before))
		addTimeBounds(w, f)
		// Find the rowids first: the statement is short to compile, and
		// most files asked for a rare match have none, so the long
		// statement that reads whole records runs only where there are some.
		rowids, err := idsUpTo(ctx, r, limit, "SELECT l.id FROM logs l"+w.String()+" ORDER BY l.id DESC LIMIT ?", append(w.args, limit)...)
		if err != nil || len(rowids) == 0 {
			return err
		}
		out, err = readRecords(ctx, r, s.day, selectRecord+" WHERE l.id IN ("+placeholders(len(rowids))+") ORDER BY l.id DESC", rowids...)
		return err
	})
	if err != nil {
		if sidelog.ErrorCode(err) == sidelog.EINVALID {
			return nil, err
		}
		return nil, classify(fmt.Errorf("query %s: %w", s.name(), err))
	}
	return out, nil
}

// readRecords runs a selectRecord query on a segment of the given day.
func readRecords(ctx context.Context, r queryer, day int64, q string, args ...any) ([]sidelog.Record, error) {
	rows, err := r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []sidelog.Record
	for rows.Next() {
		rec, err := scanRecord(rows, day)
		if err != nil {
			return nil, err
		}
		out = append(out, rec)
	}
	return out, rows.Err()
}

// addTimeBounds keeps exact time bounds beside the rowid range, unindexed.
func addTimeBounds(w *where, f sidelog.Filter) {
	if !f.Since.IsZero() {
		w.add("+l.ts >= ?", f.Since.UnixNano())
	}
	if !f.Until.IsZero() {
		w.add("+l.ts < ?", f.Until.UnixNano())
	}
}

// ignoreGone treats a segment removed by retention as empty.
func ignoreGone(err error) error {
	if sidelog.ErrorCode(err) == sidelog.ENOTFOUND {
		return nil
	}
	return err
}

// Get returns the record with the given id.
func (db *DB) Get(ctx context.Context, id int64) (sidelog.Record, error) {
	day, rowid := splitID(id)
	notFound := sidelog.Errorf(sidelog.ENOTFOUND, "no record %d", id)
	for _, s := range db.segments() {
		if s.day != day {
			continue
		}
		var recs []sidelog.Record
		err := s.withReader(func(r queryer) (err error) {
			recs, err = readRecords(ctx, r, day, selectRecord+" WHERE l.id = ?", rowid)
			return err
		})
		if err = db.survive(s, err); err != nil {
			return sidelog.Record{}, classify(err)
		}
		if len(recs) == 1 {
			return recs[0], nil
		}
	}
	return sidelog.Record{}, notFound
}

// scanChunk is how many rows Scan reads per statement; reading in chunks
// keeps no read transaction open for long, so checkpoints are never held up.
const scanChunk = 1000

// Scan yields every record matching f, oldest first.
func (db *DB) Scan(ctx context.Context, f sidelog.Filter) iter.Seq2[sidelog.Record, error] {
	return func(yield func(sidelog.Record, error) bool) {
		if err := validate(f); err != nil {
			yield(sidelog.Record{}, err)
			return
		}
		f, ok := storableTimes(f)
		if !ok {
			return
		}
		days := byDay(db.segmentsFor(f))
		defer db.afterRead(ctx)
		for i := len(days) - 1; i >= 0; i-- {
			if !scanDay(ctx, days[i], f, yield) {
				return
			}
		}
	}
}

// scanDay merges the day's files in rowid order; it returns false when the
// caller stopped or an error was yielded.
func scanDay(ctx context.Context, segs []*segment, f sidelog.Filter, yield func(sidelog.Record, error) bool) bool {
	curs := make([]*fileCursor, len(segs))
	for i, s := range segs {
		curs[i] = &fileCursor{s: s, f: f, lo: -1}
		if !s.hasReader() {
			defer s.closeReader() // opened for this scan only
		}
	}
	for {
		var next *fileCursor
		for _, c := range curs {
			if err := c.fill(ctx); err != nil {
				return yield(sidelog.Record{}, err) && false
			}
			if len(c.buf) > 0 && (next == nil || c.buf[0].ID < next.buf[0].ID) {
				next = c
			}
		}
		if next == nil {
			return true
		}
		rec := next.buf[0]
		next.buf = next.buf[1:]
		if !yield(rec, nil) {
			return false
		}
	}
}

// fileCursor reads one segment's matching records in rowid order, a chunk
// at a time, so no read transaction stays open for long.
type fileCursor struct {
	s    *segment
	f    sidelog.Filter
	p    plan
	lo   int64 // the next rowid to read from; -1 before the first chunk
	hi   int64
	buf  []sidelog.Record
	done bool
}

func (c *fileCursor) fill(ctx context.Context) error {
	if len(c.buf) > 0 || c.done {
		return nil
	}
	err := c.s.withReader(func(r queryer) error {
		if c.lo < 0 {
			var err error
			if c.p, err = planFor(ctx, c.s, r, c.f); err != nil || c.p.skip {
				c.done = true
				return err
			}
			c.p.useClassIndex = false // a scan reads in rowid order anyway
			if c.lo, c.hi, err = rowRange(ctx, r, c.f, c.s.day); err != nil {
				return err
			}
		}
		w := conditions(c.f, c.p)
		w.add("l.id >= ? AND l.id < ?", c.lo, c.hi)
		addTimeBounds(w, c.f)
		var err error
		c.buf, err = readRecords(ctx, r, c.s.day, selectRecord+w.String()+" ORDER BY l.id LIMIT ?", append(w.args, scanChunk)...)
		return err
	})
	if err != nil {
		c.done = true
		return classify(c.s.db.survive(c.s, err))
	}
	if len(c.buf) < scanChunk {
		c.done = true
	}
	if len(c.buf) > 0 {
		_, last := splitID(c.buf[len(c.buf)-1].ID)
		c.lo = last + 1
	}
	return nil
}
