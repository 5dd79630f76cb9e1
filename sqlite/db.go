// Package sqlite is sidelog's log store: SQLite files in WAL mode, written by
// one writer in batched transactions and read by a pool of readers.
//
// The file the user names (logs.db) is a catalog; the records live in one
// segment file per UTC day in the directory beside it (logs.db.d/). Retention
// drops or compacts whole day files, so removing a million old rows never
// holds the lock that writers need and gives the space back at once; queries
// walk the segments newest first and look the same as over one table.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sidelog/sidelog"
)

// MinSQLiteVersion is the oldest SQLite the store accepts: earlier versions
// have the WAL-reset bug that can corrupt a database written by one
// connection while others checkpoint.
const MinSQLiteVersion = "3.51.3"

// Options configure a store. The zero value is usable.
type Options struct {
	// BusyTimeout is how long a statement waits for a lock before failing
	// with EUNAVAILABLE. Default 5s.
	BusyTimeout time.Duration
	// MustExist makes Open fail with ENOTFOUND instead of creating a new
	// database; operator tools use it so that a mistyped path is an error.
	MustExist bool
	// Warnings gets one line each time the store sets a damaged file aside
	// (it also records a security event). Default os.Stderr.
	Warnings io.Writer
	// Now is the store's clock: the time of records written without one,
	// of security events and of set-aside file names. Default time.Now.
	Now func() time.Time
}

// DB is a log database. It implements sidelog.Store and is safe for
// concurrent use.
type DB struct {
	path string
	dir  string
	opts Options

	catMu   sync.RWMutex // guards catalog, replaced when set aside
	catalog *sql.DB

	mu        sync.Mutex // guards segs, refreshed
	segs      map[segKey]*segment
	refreshed time.Time // when the segment directory was last listed

	wmu      sync.Mutex      // serialises writers; guards nextSeq, seqFloor
	nextSeq  map[int64]int64 // by day: the next rowid, shared by the day's files
	seqFloor map[int64]int64 // by day: the highest rowid a follower has read (see SavePosition)
	chain    chainState      // the audit hash chain's newest link; guarded by wmu

	cleanMu  sync.Mutex   // serialises retention runs, the only file swappers
	cleaning atomic.Int32 // retention runs removing files: the writer does not checkpoint

	emu    sync.Mutex       // guards events
	events []sidelog.Record // security events not yet written (see flushEvents)
}

var _ sidelog.Store = (*DB)(nil)

// Open opens the log database at path, creating it (and its segment
// directory path+".d") when nothing is at path unless opts.MustExist, and
// migrates it. Anything at path that is not a sidelog catalog (an empty
// file, a FIFO, a truncated file, another application's SQLite database) is
// EINVALID and left as it was; one written by a newer sidelog is ECONFLICT.
// A damaged catalog is set aside (see Options.Warnings) and a new one takes
// its place: it holds only settings, the records are in the day files.
func Open(ctx context.Context, path string, opts Options) (*DB, error) {
	if opts.BusyTimeout <= 0 {
		opts.BusyTimeout = 5 * time.Second
	}
	if opts.Warnings == nil {
		opts.Warnings = os.Stderr
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	kind, err := checkFile(path, opts.MustExist)
	if err != nil {
		return nil, err
	}
	db := &DB{path: path, dir: path + ".d", opts: opts, segs: map[segKey]*segment{}, nextSeq: map[int64]int64{}, seqFloor: map[int64]int64{}}
	if kind == fileDamaged {
		if err := db.setAsideCatalog(nil, "its header is not that of a SQLite database"); err != nil {
			return nil, err
		}
		kind = fileMissing
	}
	if err := os.MkdirAll(db.dir, 0o750); err != nil {
		return nil, fmt.Errorf("create segment directory: %w", err)
	}
	cat, err := db.openCatalog(ctx, kind == fileMissing)
	if isCorrupt(err) {
		if err := db.setAsideCatalog(nil, err.Error()); err != nil {
			return nil, err
		}
		cat, err = db.openCatalog(ctx, true)
	}
	if err != nil {
		return nil, err
	}
	db.catalog = cat
	if err := db.loadSegments(); err != nil {
		cat.Close()
		return nil, err
	}
	if err := db.loadFloors(ctx); err != nil {
		db.Close()
		return nil, err
	}
	db.removeStaleRewrites(false)
	if err := db.flushEvents(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func (db *DB) openCatalog(ctx context.Context, fresh bool) (*sql.DB, error) {
	cat, err := db.openWriter(ctx, db.path, "catalog", fresh)
	if err != nil {
		return nil, err
	}
	cat.SetMaxOpenConns(2)
	return cat, nil
}

// cat returns the catalog's handle.
func (db *DB) cat() *sql.DB {
	db.catMu.RLock()
	defer db.catMu.RUnlock()
	return db.catalog
}

// openWriter opens a file for writing with one connection, turns on WAL
// (and checks that it took), checks the SQLite version and migrates it. A
// fresh file (none yet, or empty) is marked as sidelog's before anything
// else is written, so that no crash leaves an unmarked file of ours.
func (db *DB) openWriter(ctx context.Context, path, set string, fresh bool) (*sql.DB, error) {
	h, err := openDB(path, false, int(db.opts.BusyTimeout/time.Millisecond))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	h.SetMaxOpenConns(1)
	if fresh {
		if _, err := h.ExecContext(ctx, fmt.Sprintf(`PRAGMA application_id = %d`, AppID)); err != nil {
			h.Close()
			return nil, fmt.Errorf("create %s: %w", filepath.Base(path), classify(err))
		}
	}
	if err := setupWriter(ctx, h, set); err != nil {
		h.Close()
		return nil, fmt.Errorf("open %s: %w", filepath.Base(path), err)
	}
	return h, nil
}

func setupWriter(ctx context.Context, h *sql.DB, set string) error {
	var mode string
	if err := h.QueryRowContext(ctx, `PRAGMA journal_mode=WAL`).Scan(&mode); err != nil {
		return classify(err)
	}
	if mode != "wal" {
		return fmt.Errorf("journal_mode is %q, want wal", mode)
	}
	var ver string
	if err := h.QueryRowContext(ctx, `SELECT sqlite_version()`).Scan(&ver); err != nil {
		return err
	}
	if versionLess(ver, MinSQLiteVersion) {
		return fmt.Errorf("SQLite %s is older than %s", ver, MinSQLiteVersion)
	}
	return migrate(ctx, h, set)
}

// versionLess compares dotted version strings numerically.
func versionLess(a, b string) bool {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) || i < len(bs); i++ {
		var x, y int
		if i < len(as) {
			x, _ = strconv.Atoi(as[i])
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(bs[i])
		}
		if x != y {
			return x < y
		}
	}
	return false
}

// SQLiteVersion returns the version of the SQLite library the store uses.
func (db *DB) SQLiteVersion(ctx context.Context) (string, error) {
	var v string
	err := db.catRow(ctx, `SELECT sqlite_version()`).Scan(&v)
	return v, err
}

// Path returns the catalog file's path.
func (db *DB) Path() string { return db.path }

// loadSegments finds the day files in the segment directory.
func (db *DB) loadSegments() error {
	ents, err := os.ReadDir(db.dir)
	if err != nil {
		return fmt.Errorf("list segments: %w", err)
	}
	db.refreshed = time.Now()
	for _, e := range ents {
		k, ok := parseSegmentName(e.Name())
		if !ok {
			continue
		}
		db.segs[k] = newSegment(db, k)
	}
	return nil
}

const dayNanos = int64(24 * time.Hour)

// dayOf returns the UTC day number of a Unix-nanosecond time.
func dayOf(ns int64) int64 {
	d := ns / dayNanos
	if ns < 0 && ns%dayNanos != 0 {
		d--
	}
	return d
}

// fileClass says which records of a day a segment file holds. Records are
// split by how long retention keeps them, so that under per-level retention
// whole files expire and are deleted instead of rewritten.
type fileClass int8

const (
	classDebug fileClass = iota // app and request records below info
	classInfo                   // app and request records at info
	classMain                   // warnings, errors, audit and security records
)

var classNames = [...]string{"debug", "info", "main"}

// fileClassOf returns the file class of a record.
func fileClassOf(r *sidelog.Record) fileClass {
	switch {
	case r.Kind == sidelog.KindAudit || r.Kind == sidelog.KindSecurity || r.Level >= slog.LevelWarn:
		return classMain
	case r.Level < slog.LevelInfo:
		return classDebug
	}
	return classInfo
}

// segKey names one segment file: a day and a class.
type segKey struct {
	day   int64
	class fileClass
}

func segmentName(k segKey) string {
	return time.Unix(k.day*86400, 0).UTC().Format("2006-01-02") + "-" + classNames[k.class] + ".db"
}

func parseSegmentName(name string) (segKey, bool) {
	base, ok := strings.CutSuffix(name, ".db")
	if !ok || len(base) < 11 || base[10] != '-' {
		return segKey{}, false
	}
	t, err := time.Parse("2006-01-02", base[:10])
	if err != nil {
		return segKey{}, false
	}
	for c, n := range classNames {
		if base[11:] == n {
			return segKey{t.Unix() / 86400, fileClass(c)}, true
		}
	}
	return segKey{}, false
}

// segments returns every segment, newest day first (and by class within a
// day).
func (db *DB) segments() []*segment {
	db.mu.Lock()
	defer db.mu.Unlock()
	out := make([]*segment, 0, len(db.segs))
	for _, s := range db.segs {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].day != out[j].day {
			return out[i].day > out[j].day
		}
		return out[i].class < out[j].class
	})
	return out
}

func (db *DB) segment(k segKey) *segment {
	db.mu.Lock()
	defer db.mu.Unlock()
	return db.segs[k]
}

// segmentFor returns the segment, adding it to the map if needed; its file
// is created when it is first written.
func (db *DB) segmentFor(k segKey) *segment {
	db.mu.Lock()
	defer db.mu.Unlock()
	s := db.segs[k]
	if s == nil {
		s = newSegment(db, k)
		db.segs[k] = s
	}
	return s
}

// forget removes a dropped or quarantined segment from the map.
func (db *DB) forget(s *segment) {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.segs[s.segKey] == s {
		delete(db.segs, s.segKey)
	}
}

// Close closes every file. Records handed to WriteBatch before Close are
// stored; the handler's Close must run first to drain its queue.
func (db *DB) Close() error {
	db.afterRead(context.Background()) // security events of files set aside since the last write
	db.wmu.Lock()
	defer db.wmu.Unlock()
	db.mu.Lock()
	defer db.mu.Unlock()
	var errs []error
	for _, s := range db.segs {
		errs = append(errs, s.close())
	}
	errs = append(errs, db.cat().Close())
	return errors.Join(errs...)
}
