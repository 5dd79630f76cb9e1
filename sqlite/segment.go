package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sidelog/sidelog"
)

// segment is one file: one class of one day's records. Its writer
// connection and reader pool are opened when first needed.
type segment struct {
	db *DB
	segKey
	path string

	// swap is held for reading while a reader pool is in use and for
	// writing while retention replaces or deletes the file.
	swap sync.RWMutex

	// wlock is held while records are written to this file, and by
	// retention while it swaps or deletes the file: retention waits for a
	// write to this file only, never for the writer's other files.
	wlock   sync.Mutex
	dropped bool // guarded by wlock: the file is gone; write elsewhere

	mu       sync.Mutex // guards w, r, upgraded
	upgraded bool       // the file is known to have the newest schema
	w        *sql.DB    // one connection; nil until the first write
	r        *sql.DB    // reader pool; nil until the first read

	stmts map[string]*sql.Stmt // prepared on r; guarded by mu

	// Writer state, guarded by DB.wmu.
	ins  *sql.Stmt        // the full-size multi-row INSERT, prepared once
	dict map[string]int64 // cached dict ids
	msgs map[string]int64 // cached msgs ids

	// Checkpoints run off the writer's path (see checkpoint.go): ck is
	// their connection (guarded by mu), ckBusy is set while one runs,
	// ckRows and ckLast (guarded by DB.wmu) say how much was committed
	// since the last one began.
	ck        *sql.DB
	ckBusy    atomic.Bool
	ckRun     sync.Mutex   // held while a checkpoint runs
	walFrames atomic.Int64 // frames in the WAL at the last checkpoint
	ckRows    int64
	ckLast    time.Time

	cmu    sync.Mutex          // guards counts
	counts map[rollupKey]int64 // records by class (minute zero); nil until read
}

func newSegment(db *DB, k segKey) *segment {
	return &segment{db: db, segKey: k, path: filepath.Join(db.dir, segmentName(k))}
}

// name is the segment's file name, for messages.
func (s *segment) name() string { return segmentName(s.segKey) }

// openWriter opens (creating and migrating) the segment for writing.
func (s *segment) openWriter(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.w != nil {
		return nil
	}
	fresh := true
	if st, err := os.Stat(s.path); err == nil && st.Size() > 0 {
		fresh = false
		if reason, ok := foreignSegment(s.path); ok {
			return damagedFile(reason)
		}
	}
	w, err := s.db.openWriter(ctx, s.path, "segment", fresh)
	if err != nil {
		return err
	}
	// The writer never checkpoints: a checkpoint's fsync, meeting the
	// filesystem's work for an unlinked day file, stalled its batches.
	// checkpoint does it from another connection (checkpoint.go).
	if _, err := w.ExecContext(ctx, fmt.Sprintf(`PRAGMA wal_autocheckpoint = %d`, map[bool]int{false: 0, true: 1000}[ckptInline])); err != nil {
		w.Close()
		return classify(err)
	}
	ins, err := w.PrepareContext(ctx, insertSQL[rowsPerInsert])
	if err != nil {
		w.Close()
		return classify(err)
	}
	s.w, s.ins = w, ins
	s.dict, s.msgs = map[string]int64{}, map[string]int64{}
	return nil
}

// reader returns the segment's reader pool, opening it if needed. A segment
// whose file has gone (dropped by retention) is ENOTFOUND.
func (s *segment) reader() (*sql.DB, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.r != nil {
		return s.r, nil
	}
	if _, err := os.Stat(s.path); err != nil {
		return nil, sidelog.Errorf(sidelog.ENOTFOUND, "segment %s is gone", s.name())
	}
	r, err := openDB(s.path, true, int(s.db.opts.BusyTimeout.Milliseconds()))
	if err != nil {
		return nil, err
	}
	r.SetMaxOpenConns(4)
	r.SetMaxIdleConns(2)
	if !s.upgraded {
		if err := s.db.upgradeFile(context.Background(), r, s.path); err != nil {
			r.Close()
			return nil, err
		}
		s.upgraded = true
	}
	s.r = r
	return r, nil
}

// withReader runs fn with the segment's reader pool, which retention will
// not close meanwhile. A segment dropped by retention reads as empty: fn is
// not called and the result is nil.
func (s *segment) withReader(fn func(r queryer) error) error {
	s.swap.RLock()
	defer s.swap.RUnlock()
	r, err := s.reader()
	if err != nil {
		return ignoreGone(err)
	}
	if err := fn(stmtCache{s, r}); !isNoSchema(err) {
		return err
	}
	return nil // created but never migrated (see isNoSchema): no records
}

// isNoSchema reports whether err says a table is missing: a day file
// whose creation failed half-way (a full disk) has none until its writer
// migrates it. It holds no records meanwhile.
func isNoSchema(err error) bool {
	return err != nil && strings.Contains(err.Error(), "no such table")
}

// queryer runs read statements on a segment.
type queryer interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

// maxStmts bounds the prepared statements kept per segment.
const maxStmts = 64

// stmtCache runs statements through prepared statements kept per segment:
// compiling SQL was most of the fixed cost of asking a file anything.
type stmtCache struct {
	s *segment
	r *sql.DB
}

func (c stmtCache) stmt(ctx context.Context, q string) (*sql.Stmt, error) {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	if st, ok := c.s.stmts[q]; ok {
		return st, nil
	}
	st, err := c.r.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	if c.s.stmts == nil || len(c.s.stmts) >= maxStmts {
		closeStmts(c.s.stmts)
		c.s.stmts = map[string]*sql.Stmt{}
	}
	c.s.stmts[q] = st
	return st, nil
}

func closeStmts(m map[string]*sql.Stmt) {
	for _, st := range m {
		st.Close()
	}
}

func (c stmtCache) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	st, err := c.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

func (c stmtCache) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	st, err := c.stmt(ctx, q)
	if err != nil {
		return c.r.QueryRowContext(ctx, q, args...) // reports the same error
	}
	return st.QueryRowContext(ctx, args...)
}

// closeWriter closes the writer connection; the next write opens it again.
// The caller holds DB.wmu.
func (s *segment) closeWriter() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.w != nil {
		// The day is over for this file: merge its full-text index into
		// one b-tree, so every later search seeks once instead of once per
		// batch that added messages. Best effort: a failure costs speed.
		s.w.Exec(ftsOptimize) //nolint:errcheck
		s.ins.Close()
		s.w.Close()
		s.w, s.ins = nil, nil
		s.closeCheckpointer()
	}
}

// ftsOptimize merges a file's full-text index segments.
const ftsOptimize = `INSERT INTO msgs_fts(msgs_fts) VALUES ('optimize')`

// hasReader reports whether the reader pool is open.
func (s *segment) hasReader() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.r != nil
}

// closeReader closes the reader pool once no reader is using it; the next
// read opens it again. Scan uses it for the files it opened, so an export
// of many days does not keep every day's page cache.
func (s *segment) closeReader() {
	s.swap.Lock()
	defer s.swap.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.r != nil {
		closeStmts(s.stmts)
		s.r.Close()
		s.r, s.stmts = nil, nil
	}
}

// close closes the segment's connections; it may be opened again later.
func (s *segment) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	if s.w != nil {
		errs = append(errs, s.ins.Close(), s.w.Close())
		s.w, s.ins = nil, nil
	}
	s.closeCheckpointer()
	if s.r != nil {
		closeStmts(s.stmts)
		errs = append(errs, s.r.Close())
		s.r, s.stmts = nil, nil
	}
	return errors.Join(errs...)
}

// forgetCaches drops the writer's cached ids after a failed transaction,
// since ids handed out inside it no longer exist.
func (s *segment) forgetCaches() {
	s.dict, s.msgs = map[string]int64{}, map[string]int64{}
}

// sqliteCoder is implemented by the driver's error type.
type sqliteCoder interface{ Code() int }

// SQLite's primary result codes that may pass by themselves.
const (
	codeBusy     = 5
	codeLocked   = 6
	codeReadOnly = 8
	codeIOErr    = 10
	codeFull     = 13
	codeCantOpen = 14
)

// classify turns driver errors that may pass by themselves (a lock, a full
// disk, a read-only file) into EUNAVAILABLE, keeping the original wrapped.
func classify(err error) error {
	var c sqliteCoder
	if err == nil || !errors.As(err, &c) {
		return err
	}
	switch c.Code() & 0xff {
	case codeBusy, codeLocked, codeReadOnly, codeIOErr, codeFull, codeCantOpen:
		return &unavailable{err: err}
	}
	return err
}

// unavailable is an EUNAVAILABLE error that keeps the driver's error.
type unavailable struct{ err error }

func (u *unavailable) Error() string { return fmt.Sprintf("log database unavailable: %v", u.err) }
func (u *unavailable) Unwrap() []error {
	return []error{u.err, &sidelog.Error{Code: sidelog.EUNAVAILABLE, Message: "log database unavailable: " + u.err.Error()}}
}
