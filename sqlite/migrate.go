package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sidelog/sidelog"
)

//go:embed migrations
var migrationFS embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

// loadMigrations reads the numbered .sql files of one migration set.
func loadMigrations(set string) ([]migration, error) {
	dir := path.Join("migrations", set)
	ents, err := fs.ReadDir(migrationFS, dir)
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range ents {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || !strings.HasSuffix(e.Name(), ".sql") {
			return nil, fmt.Errorf("bad migration file name %q", e.Name())
		}
		b, err := fs.ReadFile(migrationFS, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: e.Name(), sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	return ms, nil
}

// migrate applies the set's pending migrations to db, each in its own
// transaction, and refuses a database whose schema is newer than ours.
func migrate(ctx context.Context, db *sql.DB, set string) error {
	ms, err := loadMigrations(set)
	if err != nil {
		return fmt.Errorf("load %s migrations: %w", set, err)
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	var cur int
	if err := db.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&cur); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if last := ms[len(ms)-1].version; cur > last {
		return sidelog.Errorf(sidelog.ECONFLICT,
			"log database schema version %d is newer than this sidelog understands (%d): upgrade sidelog", cur, last)
	}
	for _, m := range ms {
		if m.version <= cur {
			continue
		}
		if err := applyMigration(ctx, db, m, migrationHooks[set][m.version]); err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
	}
	return mark(ctx, db, ms[len(ms)-1].version)
}

// mark sets the file's application_id to AppID (files from before the
// mark have none) and its user_version to its schema version, so that
// other tools, and sidelog itself, can tell its files from others.
func mark(ctx context.Context, db *sql.DB, version int) error {
	var id, uv int64
	if err := db.QueryRowContext(ctx, `PRAGMA application_id`).Scan(&id); err != nil {
		return err
	}
	if err := db.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&uv); err != nil {
		return err
	}
	if id != AppID {
		if _, err := db.ExecContext(ctx, fmt.Sprintf(`PRAGMA application_id = %d`, AppID)); err != nil {
			return err
		}
	}
	if uv != int64(version) {
		if _, err := db.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, version)); err != nil {
			return err
		}
	}
	return nil
}

// migrationHooks are Go steps of a migration, run after its SQL in the
// same transaction: filling new tables from the rows already there.
var migrationHooks = map[string]map[int]func(context.Context, *sql.Tx) error{
	"segment": {2: func(ctx context.Context, tx *sql.Tx) error { return rebuildDerived(ctx, tx, "main") }},
}

func applyMigration(ctx context.Context, db *sql.DB, m migration, hook func(context.Context, *sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	// Another connection (a reader upgrading an old file, another process)
	// may have applied it since the version was read.
	var done int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, m.version).Scan(&done); err != nil || done > 0 {
		return err
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return err
	}
	if hook != nil {
		if err := hook(ctx, tx); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations(version, name, applied_at) VALUES (?, ?, ?)`,
		m.version, m.name, time.Now().UnixNano()); err != nil {
		return err
	}
	return tx.Commit()
}

// segmentVersion is the newest segment migration.
var segmentVersion = func() int {
	ms, err := loadMigrations("segment")
	if err != nil || len(ms) == 0 {
		panic(fmt.Sprintf("segment migrations: %v", err))
	}
	return ms[len(ms)-1].version
}()

// upgradeFile migrates a segment file that a reader is about to open, when
// it was written by an older sidelog (its writer, which migrates, may never
// open again for an old day).
func (db *DB) upgradeFile(ctx context.Context, r *sql.DB, path string) error {
	var cur int
	err := r.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&cur)
	if isNoSchema(err) {
		return nil // never migrated at all: its writer will, and it holds no records
	}
	if err != nil {
		return classify(fmt.Errorf("read schema version of %s: %w", filepath.Base(path), err))
	}
	if cur >= segmentVersion {
		return nil
	}
	w, err := db.openWriter(ctx, path, "segment", false)
	if err != nil {
		return err
	}
	return w.Close()
}
