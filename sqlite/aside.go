package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/sidelog/sidelog"
)

// A damaged file must stop neither logging nor the operator's commands: the
// store renames it to NAME.corrupt-TIME (kept for inspection; queries
// ignore it), writes a line on Options.Warnings and a security event, and
// goes on without it. Check lists every file set aside until the operator
// deletes it.

// asideMarker is what a set-aside file's name has after the original name.
const asideMarker = ".corrupt-"

// damagedFile is an error for a file sidelog recognises as unusable without
// SQLite's help; it has SQLite's "not a database" code, so it is handled
// like a file SQLite found corrupt.
type damagedFile string

func (d damagedFile) Error() string { return string(d) }
func (d damagedFile) Code() int     { return codeNotADB }

// asideName returns the name a damaged file at path is moved to: its name
// with the time, never one already in use.
func (db *DB) asideName(path string) string {
	ts := db.opts.Now().UTC().Format("20060102T150405Z")
	p := path + asideMarker + ts
	for i := 2; exists(p); i++ {
		p = fmt.Sprintf("%s%s%s-%d", path, asideMarker, ts, i)
	}
	return p
}

// moveAside renames path, and its WAL and shared-memory files, to aside.
func moveAside(path, aside string) error {
	// The WAL goes first: left behind by a kill, it would be applied to
	// the new file that takes the name.
	for _, suffix := range []string{"-wal", "-shm", "-journal", ""} {
		if err := os.Rename(path+suffix, aside+suffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("set aside %s: %w", filepath.Base(path), err)
		}
	}
	return nil
}

// setAside moves the damaged segment s out of the way so that a new file
// takes its place, and records it. A segment already dropped or set aside
// is left alone.
func (db *DB) setAside(s *segment, cause error) error {
	if s == nil {
		return nil
	}
	s.wlock.Lock()
	defer s.wlock.Unlock()
	s.swap.Lock()
	defer s.swap.Unlock()
	if s.dropped {
		return nil
	}
	s.close()
	s.dropped = true
	db.forget(s)
	aside := db.asideName(s.path)
	if err := moveAside(s.path, aside); err != nil {
		return err
	}
	db.noteAside(s.path, aside, cause)
	return nil
}

// setAsideCatalog moves a damaged catalog out of the way; Open or the
// caller then creates a new one. The catalog holds settings only: the
// retention policy saved in it falls back to the default.
func (db *DB) setAsideCatalog(old interface{ Close() error }, cause string) error {
	if old != nil {
		old.Close()
	}
	aside := db.asideName(db.path)
	if err := moveAside(db.path, aside); err != nil {
		return err
	}
	db.noteAside(db.path, aside, errors.New(cause+" (the saved retention policy is back to the default)"))
	return nil
}

// noteAside writes the warning line and queues the security event.
func (db *DB) noteAside(path, aside string, cause error) {
	reason := "damaged"
	if cause != nil {
		reason = cause.Error()
	}
	msg := fmt.Sprintf("set aside damaged log file %s as %s: %s", filepath.Base(path), filepath.Base(aside), reason)
	fmt.Fprintf(db.opts.Warnings, "sidelog: %s\n", msg)
	attrs, _ := json.Marshal(map[string]string{"file": filepath.Base(path), "set_aside_as": filepath.Base(aside), "reason": reason})
	db.emu.Lock()
	defer db.emu.Unlock()
	db.events = append(db.events, sidelog.Record{
		Time: db.opts.Now(), Level: slog.LevelError, Kind: sidelog.KindSecurity, Logger: "sidelog",
		Message: msg, Attrs: attrs,
	})
}

// takeEvents returns the queued security events and empties the queue.
func (db *DB) takeEvents() []sidelog.Record {
	db.emu.Lock()
	defer db.emu.Unlock()
	ev := db.events
	db.events = nil
	return ev
}

// requeue puts events that could not be written back in the queue.
func (db *DB) requeue(ev []sidelog.Record) {
	db.emu.Lock()
	defer db.emu.Unlock()
	db.events = append(ev, db.events...)
}

// flushEvents writes the queued security events. The caller must not
// hold wmu.
func (db *DB) flushEvents(ctx context.Context) error {
	db.wmu.Lock()
	defer db.wmu.Unlock()
	return db.flushEventsLocked(ctx)
}

// flushEventsLocked writes the queued security events; the caller holds
// wmu. Writing one may set aside another file, which queues another.
func (db *DB) flushEventsLocked(ctx context.Context) error {
	for range 3 {
		ev := db.takeEvents()
		if len(ev) == 0 {
			return nil
		}
		if err := db.writeBatchLocked(ctx, ev); err != nil {
			db.requeue(ev)
			return fmt.Errorf("record set-aside file: %w", err)
		}
	}
	return nil
}

// survive handles an error of reading or maintaining segment s: a damaged
// file is set aside and the segment counts as empty (nil); any other error
// is returned. The caller holds none of the segment's locks, and writes
// the queued event with flushEvents when done.
func (db *DB) survive(s *segment, err error) error {
	if err == nil || !isCorrupt(err) {
		return err
	}
	if aerr := db.setAside(s, err); aerr != nil {
		return errors.Join(err, aerr)
	}
	return nil
}

// afterRead writes the security events of files set aside during a read
// or a maintenance run. A failure leaves them queued for the next write:
// the read itself succeeded.
func (db *DB) afterRead(ctx context.Context) {
	db.emu.Lock()
	n := len(db.events)
	db.emu.Unlock()
	if n > 0 {
		db.flushEvents(ctx) //nolint:errcheck // retried by the next write
	}
}

// isDropped reports whether the segment's file was deleted or set aside.
func (s *segment) isDropped() bool {
	s.wlock.Lock()
	defer s.wlock.Unlock()
	return s.dropped
}

// Aside is a damaged file that the store set aside.
type Aside struct {
	File string    // the set-aside file's name, in the directory of the catalog or of the day files
	Time time.Time // when it was set aside, from its name
}

// SetAside lists the damaged files set aside and not yet deleted, oldest
// first.
func (db *DB) SetAside() []Aside {
	var out []Aside
	for _, dir := range []string{filepath.Dir(db.path), db.dir} {
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			name := e.Name()
			i := strings.LastIndex(name, asideMarker)
			if i < 0 || strings.HasSuffix(name, "-wal") || strings.HasSuffix(name, "-shm") || strings.HasSuffix(name, "-journal") {
				continue
			}
			if dir != db.dir && name[:i] != filepath.Base(db.path) {
				continue // another database's catalog
			}
			a := Aside{File: name}
			stamp := name[i+len(asideMarker):]
			if t, err := time.Parse("20060102T150405Z", stamp[:min(len(stamp), 16)]); err == nil {
				a.Time = t
			} else if info, err := e.Info(); err == nil {
				a.Time = info.ModTime().UTC()
			}
			out = append(out, a)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return out
}

// catalogFailed handles an error of the catalog handle cat while the
// store runs: a damaged catalog is set aside and a new one takes its
// place, as at Open (the retention policy saved in it, the followers'
// positions and the chain's anchor fall back to their defaults). It
// reports whether the catalog was replaced, by this call or by another
// one meanwhile, so that the caller can try once more. The security event
// is queued: the next write, a read's end or Close records it.
func (db *DB) catalogFailed(ctx context.Context, cat *sql.DB, err error) bool {
	if !isCorrupt(err) {
		return false
	}
	db.catMu.Lock()
	defer db.catMu.Unlock()
	if db.catalog != cat {
		return true // set aside by another caller
	}
	if aerr := db.setAsideCatalog(cat, err.Error()); aerr != nil {
		fmt.Fprintf(db.opts.Warnings, "sidelog: the log catalog %s is damaged and could not be set aside: %v\n", filepath.Base(db.path), aerr)
		return false
	}
	fresh, oerr := db.openCatalog(context.WithoutCancel(ctx), true)
	if oerr != nil {
		fmt.Fprintf(db.opts.Warnings, "sidelog: no new log catalog after setting the damaged one aside: %v\n", oerr)
		return false
	}
	db.catalog = fresh
	return true
}

// catExec runs a statement on the catalog; a damaged catalog is set aside
// (see catalogFailed) and the statement runs once more on the new one.
func (db *DB) catExec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	cat := db.cat()
	res, err := cat.ExecContext(ctx, query, args...)
	if db.catalogFailed(ctx, cat, err) {
		res, err = db.cat().ExecContext(ctx, query, args...)
	}
	return res, err
}

// catQuery is catExec for a query of rows.
func (db *DB) catQuery(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	cat := db.cat()
	rows, err := cat.QueryContext(ctx, query, args...)
	if db.catalogFailed(ctx, cat, err) {
		rows, err = db.cat().QueryContext(ctx, query, args...)
	}
	return rows, err
}

// catRow is catExec for a query of one row: its Scan runs the query.
func (db *DB) catRow(ctx context.Context, query string, args ...any) catRow {
	return catRow{db, ctx, query, args}
}

type catRow struct {
	db    *DB
	ctx   context.Context
	query string
	args  []any
}

func (r catRow) Scan(dest ...any) error {
	cat := r.db.cat()
	err := cat.QueryRowContext(r.ctx, r.query, r.args...).Scan(dest...)
	if r.db.catalogFailed(r.ctx, cat, err) {
		err = r.db.cat().QueryRowContext(r.ctx, r.query, r.args...).Scan(dest...)
	}
	return err
}
