package sqlite

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/sidelog/sidelog"
)

// The hash chain over audit and security records. Every such record gets
// the next position (chain_seq) of one chain for the whole database and a
// hash over the previous record's hash and its own content, in the
// transaction that stores it. Verify walks the chain and names the first
// record that does not fit. See docs/audit.md.

// Settings keys of the chain.
const (
	chainAnchorKey = "chain_anchor" // the last link removed by retention
	chainVerifyKey = "chain_verify" // the last verify's report
)

// ChainHead is a position in the chain and its hash: the newest link, or
// the anchor left by retention. Exported elsewhere (printed, or stored by
// the application in its business database), it makes a truncated tail
// detectable.
type ChainHead struct {
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"` // hex SHA-256; empty before the first link
}

// String returns "SEQ:HASH", the form ParseChainHead reads.
func (h ChainHead) String() string { return fmt.Sprintf("%d:%s", h.Seq, h.Hash) }

// ParseChainHead reads a head printed by ChainHead.String.
func ParseChainHead(s string) (ChainHead, error) {
	seq, hash, ok := strings.Cut(strings.TrimSpace(s), ":")
	var h ChainHead
	_, err := fmt.Sscan(seq, &h.Seq)
	b, herr := hex.DecodeString(hash)
	if !ok || err != nil || herr != nil || len(b) != sha256.Size || h.Seq < 1 {
		return ChainHead{}, sidelog.Errorf(sidelog.EINVALID, "chain head %q: want SEQ:HASH as printed by audit head", s)
	}
	h.Hash = hash
	return h, nil
}

// chainState is the writer's view of the chain's newest link; guarded by
// DB.wmu.
type chainState struct {
	loaded bool
	seq    int64
	hash   []byte
}

func isChained(r *sidelog.Record) bool {
	return r.Kind == sidelog.KindAudit || r.Kind == sidelog.KindSecurity
}

// chainHash is SHA-256 over prev and the record's stored content, each
// field length-prefixed so that no two records encode alike.
func chainHash(prev []byte, seq, id int64, r *sidelog.Record) []byte {
	h := sha256.New()
	h.Write(prev)
	var b [8]byte
	for _, n := range []int64{seq, id, r.Time.UnixNano(), int64(r.Level), int64(r.Kind), int64(r.Status), int64(r.Duration)} {
		binary.BigEndian.PutUint64(b[:], uint64(n))
		h.Write(b[:])
	}
	attrs, _ := attrsText(r.Attrs).(string)
	for _, s := range []string{r.Logger, r.Message, r.RequestID, r.TraceID, r.SpanID, r.UserID, r.TenantID,
		r.Method, r.Path, r.Route, r.ClientIP, r.UserAgent, r.Error, attrs} {
		binary.BigEndian.PutUint64(b[:], uint64(len(s)))
		h.Write(b[:])
		h.Write([]byte(s))
	}
	return h.Sum(nil)
}

// chainLinks returns the chain columns (seq, hash; nil for records not
// chained) of records about to be stored with the given rowids in s, and
// the head after them. The caller holds wmu and makes the head current
// only once the records are committed.
func (db *DB) chainLinks(ctx context.Context, s *segment, recs []sidelog.Record, rowids []int64) ([][2]any, chainState, error) {
	if !slices.ContainsFunc(recs, func(r sidelog.Record) bool { return isChained(&r) }) {
		return nil, db.chain, nil
	}
	if err := db.loadChain(ctx); err != nil {
		return nil, db.chain, err
	}
	head := db.chain
	links := make([][2]any, len(recs))
	for i := range recs {
		if !isChained(&recs[i]) {
			continue
		}
		head.seq++
		head.hash = chainHash(head.hash, head.seq, makeID(s.day, rowids[i]), &recs[i])
		links[i] = [2]any{head.seq, head.hash}
	}
	return links, head, nil
}

// loadChain finds the newest link: the highest position in any main file,
// or the anchor when retention removed them all.
func (db *DB) loadChain(ctx context.Context) error {
	if db.chain.loaded {
		return nil
	}
	anchor, err := db.chainAnchor(ctx)
	if err != nil {
		return err
	}
	head := chainState{loaded: true, seq: anchor.Seq}
	head.hash, _ = hex.DecodeString(anchor.Hash)
	for _, s := range db.segments() {
		if s.class != classMain {
			continue
		}
		var seq sql.NullInt64
		var hash []byte
		err := s.withReader(func(r queryer) error {
			return r.QueryRowContext(ctx, `SELECT chain_seq, chain_hash FROM logs
				WHERE chain_seq = (SELECT max(chain_seq) FROM logs WHERE chain_seq IS NOT NULL)`).Scan(&seq, &hash)
		})
		switch {
		case errors.Is(err, sql.ErrNoRows), isNoChainColumn(err):
			continue
		case err != nil:
			return classify(fmt.Errorf("read chain head of %s: %w", s.name(), err))
		}
		if seq.Int64 > head.seq {
			head.seq, head.hash = seq.Int64, hash
		}
	}
	db.chain = head
	return nil
}

// isNoChainColumn reports an error from a file written before the chain
// existed and not migrated since (it was never written to again).
func isNoChainColumn(err error) bool {
	return err != nil && strings.Contains(err.Error(), "no such column: chain_")
}

// ChainHead returns the chain's newest link.
func (db *DB) ChainHead(ctx context.Context) (ChainHead, error) {
	db.wmu.Lock()
	defer db.wmu.Unlock()
	if err := db.loadChain(ctx); err != nil {
		return ChainHead{}, err
	}
	return ChainHead{Seq: db.chain.seq, Hash: hex.EncodeToString(db.chain.hash)}, nil
}

func (db *DB) chainAnchor(ctx context.Context) (ChainHead, error) {
	var v string
	err := db.catRow(ctx, `SELECT value FROM settings WHERE key = ?`, chainAnchorKey).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return ChainHead{}, nil
	}
	if err != nil {
		return ChainHead{}, classify(fmt.Errorf("read chain anchor: %w", err))
	}
	var h ChainHead
	if err := json.Unmarshal([]byte(v), &h); err != nil {
		return ChainHead{}, fmt.Errorf("chain anchor: %w", err)
	}
	return h, nil
}

// anchorBefore runs before retention removes records from s (those
// matching cond, or all of them). The removed links older than every
// surviving one become the chain's new anchor (verify starts after it);
// removed links newer than a survivor (records written late into an old
// day) become recorded gaps. Both are written before the removal, so that
// a crash in between leaves records the anchor already covers.
func (db *DB) anchorBefore(ctx context.Context, s *segment, cond string, args []any) error {
	if s.class != classMain {
		return nil
	}
	if cond == "" {
		cond = "1"
	}
	type link struct {
		seq  int64
		hash []byte
	}
	var removed []link
	err := s.withReader(func(r queryer) error {
		rows, err := r.QueryContext(ctx, `SELECT chain_seq, chain_hash FROM logs WHERE chain_seq > 0 AND (`+cond+`)
			ORDER BY chain_seq`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var l link
			if err := rows.Scan(&l.seq, &l.hash); err != nil {
				return err
			}
			removed = append(removed, l)
		}
		return rows.Err()
	})
	if isNoChainColumn(err) || (err == nil && len(removed) == 0) {
		return nil
	}
	if err != nil {
		return classify(fmt.Errorf("chain anchor of %s: %w", s.name(), err))
	}
	oldest, err := db.oldestSurvivor(ctx, s, cond, args)
	if err != nil {
		return err
	}
	cur, err := db.chainAnchor(ctx)
	if err != nil {
		return err
	}
	anchor := cur
	for _, l := range removed {
		if oldest > 0 && l.seq > oldest {
			if _, err := db.catExec(ctx, `INSERT OR REPLACE INTO chain_gaps(seq, hash, reason) VALUES (?, ?, 'retention')`,
				l.seq, l.hash); err != nil {
				return classify(fmt.Errorf("record chain gap: %w", err))
			}
		} else if l.seq > anchor.Seq {
			anchor = ChainHead{Seq: l.seq, Hash: hex.EncodeToString(l.hash)}
		}
	}
	if anchor == cur {
		return nil
	}
	b, _ := json.Marshal(anchor)
	if _, err := db.catExec(ctx, `INSERT INTO settings(key, value) VALUES (?, ?)
		ON CONFLICT(key) DO UPDATE SET value = excluded.value`, chainAnchorKey, string(b)); err != nil {
		return classify(fmt.Errorf("save chain anchor: %w", err))
	}
	_, err = db.catExec(ctx, `DELETE FROM chain_gaps WHERE seq <= ?`, anchor.Seq)
	return classify(err)
}

// oldestSurvivor returns the lowest chain position that stays once the
// records of s matching cond are gone, or 0 when none stays.
func (db *DB) oldestSurvivor(ctx context.Context, s *segment, cond string, args []any) (int64, error) {
	var oldest int64
	for _, o := range db.segments() {
		if o.class != classMain {
			continue
		}
		q, qargs := `SELECT min(chain_seq) FROM logs WHERE chain_seq > 0`, []any(nil)
		if o == s {
			q, qargs = q+` AND NOT (`+cond+`)`, args
		}
		var m sql.NullInt64
		err := o.withReader(func(r queryer) error { return r.QueryRowContext(ctx, q, qargs...).Scan(&m) })
		if isNoChainColumn(err) {
			continue
		}
		if err != nil {
			return 0, classify(fmt.Errorf("chain survivors of %s: %w", o.name(), err))
		}
		if m.Valid && (oldest == 0 || m.Int64 < oldest) {
			oldest = m.Int64
		}
	}
	return oldest, nil
}

// gapsBefore records the chain links of the records a purge is about to
// erase, so that verify steps over them.
func (db *DB) gapsBefore(ctx context.Context, tx *sql.Tx, cond string) error {
	rows, err := tx.QueryContext(ctx, `SELECT chain_seq, chain_hash FROM logs WHERE chain_seq > 0 AND `+cond)
	if isNoChainColumn(err) {
		return nil
	}
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var seq int64
		var hash []byte
		if err := rows.Scan(&seq, &hash); err != nil {
			return err
		}
		if _, err := db.catExec(ctx, `INSERT OR REPLACE INTO chain_gaps(seq, hash, reason) VALUES (?, ?, 'erased')`,
			seq, hash); err != nil {
			return err
		}
	}
	return rows.Err()
}

// VerifyOptions configure VerifyChain.
type VerifyOptions struct {
	// Head, when set, is a head exported earlier: the chain must still
	// reach it with the same hash, or its tail was truncated.
	Head *ChainHead
	// Progress, when set, is called now and then with the number of
	// records checked.
	Progress func(checked int64)
}

// ChainReport is the result of a verify.
type ChainReport struct {
	OK       bool          `json:"ok"`
	Checked  int64         `json:"checked"`             // records whose hash was recomputed
	Erased   int64         `json:"erased,omitempty"`    // positions erased by purge (recorded gaps)
	PreChain int64         `json:"pre_chain,omitempty"` // audit/security records older than the chain
	Anchor   ChainHead     `json:"anchor"`              // where the walk started
	Head     ChainHead     `json:"head"`                // the newest link found
	Bad      *BadLink      `json:"bad,omitempty"`       // the first record that does not fit
	At       time.Time     `json:"at"`
	Elapsed  time.Duration `json:"elapsed"`
}

// BadLink names the first record that breaks the chain.
type BadLink struct {
	ID      int64  `json:"id"`  // the record's ID, 0 when the problem is a missing tail
	Seq     int64  `json:"seq"` // its chain position
	Problem string `json:"problem"`
}

// chainRow is one chained record as read back.
type chainRow struct {
	rec  sidelog.Record
	seq  sql.NullInt64
	hash []byte
}

const selectChained = `SELECT l.id, l.ts, l.level, l.kind,
	(SELECT s FROM dict WHERE id = l.logger), (SELECT s FROM msgs WHERE id = l.msg),
	l.request_id, l.trace_id, l.span_id, l.user_id, l.tenant_id,
	(SELECT s FROM dict WHERE id = l.method), (SELECT s FROM dict WHERE id = l.path),
	(SELECT s FROM dict WHERE id = l.route), l.status, l.duration, l.client_ip,
	(SELECT s FROM dict WHERE id = l.user_agent), (SELECT s FROM msgs WHERE id = l.err), l.attrs,
	l.chain_seq, l.chain_hash
	FROM logs l WHERE l.kind IN (2, 3) OR l.chain_seq IS NOT NULL ORDER BY l.id`

// maxPending bounds the records held while waiting for a missing position.
const maxPending = 100_000

// walker checks chain rows in position order.
type walker struct {
	rep      ChainReport
	expected int64
	prev     []byte
	pending  map[int64]chainRow
	gaps     map[int64][]byte
	head     *ChainHead
	headSeen bool
	progress func(int64)
}

func (w *walker) fail(id, seq int64, format string, args ...any) {
	if w.rep.Bad == nil {
		w.rep.Bad = &BadLink{ID: id, Seq: seq, Problem: fmt.Sprintf(format, args...)}
	}
}

// add takes the next row in file order.
func (w *walker) add(row chainRow) {
	if w.rep.Bad != nil {
		return
	}
	id := row.rec.ID
	switch seq := row.seq.Int64; {
	case !row.seq.Valid:
		w.fail(id, 0, "record %d (%s) has no place in the chain: inserted outside sidelog's writer", id, row.rec.Kind)
	case seq == 0:
		w.rep.PreChain++
	case seq <= w.rep.Anchor.Seq:
		// Covered by the anchor: retention was removing it.
	case seq < w.expected || w.pending[seq].hash != nil:
		w.fail(id, seq, "record %d repeats chain position %d: inserted or copied", id, seq)
	case seq > w.expected:
		w.pending[seq] = row
		if len(w.pending) > maxPending {
			w.missing()
		}
	default:
		w.check(row)
	}
}

func (w *walker) check(row chainRow) {
	for {
		if !bytes.Equal(chainHash(w.prev, row.seq.Int64, row.rec.ID, &row.rec), row.hash) {
			w.fail(row.rec.ID, row.seq.Int64, "record %d (chain position %d) does not match its hash: edited, reordered, or a forgery", row.rec.ID, row.seq.Int64)
			return
		}
		w.prev = row.hash
		w.rep.Checked++
		if w.head != nil && row.seq.Int64 == w.head.Seq {
			w.headSeen = true
			if hex.EncodeToString(row.hash) != w.head.Hash {
				w.fail(row.rec.ID, row.seq.Int64, "record %d (chain position %d) differs from the exported head: the chain was rewritten", row.rec.ID, row.seq.Int64)
				return
			}
		}
		if w.progress != nil && w.rep.Checked%100_000 == 0 {
			w.progress(w.rep.Checked)
		}
		w.expected++
		w.skipGaps()
		next, ok := w.pending[w.expected]
		if !ok {
			return
		}
		delete(w.pending, w.expected)
		row = next
	}
}

func (w *walker) skipGaps() {
	for {
		h, ok := w.gaps[w.expected]
		if !ok {
			return
		}
		w.prev = h
		w.rep.Erased++
		if w.head != nil && w.expected == w.head.Seq {
			w.headSeen = true
			if hex.EncodeToString(h) != w.head.Hash {
				w.fail(0, w.expected, "erased chain position %d differs from the exported head: the chain was rewritten", w.expected)
			}
		}
		w.expected++
	}
}

// missing reports the position the walk waits for and the record after it.
func (w *walker) missing() {
	if len(w.pending) == 0 {
		return
	}
	next := slices.Min(slices.Collect(maps.Keys(w.pending)))
	r := w.pending[next]
	w.fail(r.rec.ID, next, "chain position %d is missing (a record was removed); the next record present is %d (position %d)",
		w.expected, r.rec.ID, next)
}

// VerifyChain walks the chain over every main file, oldest first, and
// reports the first record that does not fit: edited (its hash), removed
// (a missing position), inserted (no position, or a repeated one),
// reordered (hashes), and with opts.Head a truncated tail. The report is
// saved for stats (LastVerify).
func (db *DB) VerifyChain(ctx context.Context, opts VerifyOptions) (ChainReport, error) {
	start := time.Now()
	anchor, err := db.chainAnchor(ctx)
	if err != nil {
		return ChainReport{}, err
	}
	w := &walker{rep: ChainReport{Anchor: anchor}, expected: anchor.Seq + 1, pending: map[int64]chainRow{},
		head: opts.Head, progress: opts.Progress}
	w.prev, _ = hex.DecodeString(anchor.Hash)
	if w.gaps, err = db.chainGaps(ctx); err != nil {
		return ChainReport{}, err
	}
	w.skipGaps()
	segs := db.segments()
	slices.Reverse(segs) // oldest first
	for _, s := range segs {
		if s.class != classMain || w.rep.Bad != nil {
			continue
		}
		if err := db.walkSegment(ctx, s, w); err != nil {
			return ChainReport{}, err
		}
	}
	w.missing()
	w.rep.Head = ChainHead{Seq: w.expected - 1, Hash: hex.EncodeToString(w.prev)}
	if h := opts.Head; w.rep.Bad == nil && h != nil && h.Seq == w.rep.Anchor.Seq && h.Hash != w.rep.Anchor.Hash {
		w.fail(0, h.Seq, "the chain's anchor at position %d differs from the exported head: the chain was rewritten", h.Seq)
	}
	if h := opts.Head; w.rep.Bad == nil && h != nil && !w.headSeen && h.Seq > w.expected-1 {
		w.fail(0, h.Seq, "the chain ends at position %d but the exported head is at %d: the newest %d records were removed",
			w.expected-1, h.Seq, h.Seq-(w.expected-1))
	}
	w.rep.OK = w.rep.Bad == nil
	w.rep.At, w.rep.Elapsed = time.Now().UTC(), time.Since(start)
	b, _ := json.Marshal(w.rep)
	if _, err := db.catExec(ctx, `INSERT INTO settings(key, value) VALUES (?, ?)
		ON CONFLICT(key) DO UPDATE SET value = excluded.value`, chainVerifyKey, string(b)); err != nil {
		return w.rep, classify(fmt.Errorf("save verify result: %w", err))
	}
	return w.rep, nil
}

func (db *DB) walkSegment(ctx context.Context, s *segment, w *walker) error {
	err := s.withReader(func(r queryer) error {
		rows, err := r.QueryContext(ctx, selectChained)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() && w.rep.Bad == nil {
			var row chainRow
			var err error
			row.rec, err = scanRecord(chainScanner{rows, &row}, s.day)
			if err != nil {
				return err
			}
			w.add(row)
		}
		return rows.Err()
	})
	if isNoChainColumn(err) {
		var n int64
		err = s.withReader(func(r queryer) error {
			return r.QueryRowContext(ctx, `SELECT count(*) FROM logs WHERE kind IN (2, 3)`).Scan(&n)
		})
		w.rep.PreChain += n
	}
	if err != nil {
		return classify(fmt.Errorf("verify %s: %w", s.name(), err))
	}
	return nil
}

// chainScanner lets scanRecord read a row that has the chain columns last.
type chainScanner struct {
	rows *sql.Rows
	row  *chainRow
}

func (c chainScanner) Scan(dest ...any) error {
	return c.rows.Scan(append(dest, &c.row.seq, &c.row.hash)...)
}

func (db *DB) chainGaps(ctx context.Context) (map[int64][]byte, error) {
	rows, err := db.catQuery(ctx, `SELECT seq, hash FROM chain_gaps`)
	if err != nil {
		return nil, classify(fmt.Errorf("read chain gaps: %w", err))
	}
	defer rows.Close()
	gaps := map[int64][]byte{}
	for rows.Next() {
		var seq int64
		var h []byte
		if err := rows.Scan(&seq, &h); err != nil {
			return nil, err
		}
		gaps[seq] = h
	}
	return gaps, rows.Err()
}

// LastVerify returns the report of the last VerifyChain, or nil when the
// chain was never verified.
func (db *DB) LastVerify(ctx context.Context) (*ChainReport, error) {
	var v string
	err := db.catRow(ctx, `SELECT value FROM settings WHERE key = ?`, chainVerifyKey).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, classify(fmt.Errorf("read verify result: %w", err))
	}
	var rep ChainReport
	if err := json.Unmarshal([]byte(v), &rep); err != nil {
		return nil, fmt.Errorf("saved verify result: %w", err)
	}
	return &rep, nil
}
