// Package store keeps the reference application's business data in
// PostgreSQL (through pgx's database/sql adapter) or in an embedded SQLite
// file (modernc.org/sqlite, pure Go). Both dialects share every query —
// $n placeholders and RETURNING work in both — and differ only in their
// migration sets. It implements the service interfaces of package saas.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	_ "modernc.org/sqlite"             // registers "sqlite"

	"github.com/sidelog/sidelog/audit"
	"github.com/sidelog/sidelog/saas"
)

// Dialects.
const (
	Postgres = "postgres"
	SQLite   = "sqlite"
)

//go:embed migrations
var migrations embed.FS

// DB is the business database.
type DB struct {
	db      *sql.DB
	dialect string

	// Now returns the current time; tests may replace it.
	Now func() time.Time

	stmts   stmts                  // prepared once per connection (stmt.go)
	notify  atomic.Pointer[func()] // wakes the audit deliverer after a commit
	noAudit bool                   // benchmarks only: no audit context (see export_test.go)
}

var (
	_ saas.UserService    = (*DB)(nil)
	_ saas.OrgService     = (*DB)(nil)
	_ saas.SessionService = (*DB)(nil)
	_ saas.ProjectService = (*DB)(nil)
)

// IsPostgresURL reports whether dsn names a PostgreSQL server rather than
// a SQLite file.
func IsPostgresURL(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// Open connects to the business database: PostgreSQL when dsn is a
// postgres:// URL, otherwise the SQLite file at path dsn (created with its
// directory when missing). It does not migrate; call Migrate.
func Open(ctx context.Context, dsn string) (*DB, error) {
	if IsPostgresURL(dsn) {
		return openPostgres(ctx, dsn)
	}
	return openSQLite(ctx, dsn)
}

func openPostgres(ctx context.Context, dsn string) (*DB, error) {
	sdb, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("open business db: %w", err)
	}
	sdb.SetMaxOpenConns(20)
	sdb.SetMaxIdleConns(10)
	sdb.SetConnMaxIdleTime(5 * time.Minute)
	if err := sdb.PingContext(ctx); err != nil {
		sdb.Close()
		return nil, fmt.Errorf("connect business db: %w", err)
	}
	return &DB{db: sdb, dialect: Postgres, Now: time.Now, stmts: stmts{db: sdb}}, nil
}

func openSQLite(ctx context.Context, path string) (*DB, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("open business db: %w", err)
		}
	}
	// busy_timeout first so that the WAL switch itself waits for a lock;
	// immediate transactions so that two writers never deadlock upgrading
	// read locks.
	dsn := "file:" + path + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)" +
		"&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)&_txlock=immediate"
	sdb, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open business db: %w", err)
	}
	sdb.SetMaxOpenConns(8)
	db := &DB{db: sdb, dialect: SQLite, Now: time.Now, stmts: stmts{db: sdb}}
	if err := db.checkPragmas(ctx); err != nil {
		sdb.Close()
		return nil, err
	}
	return db, nil
}

func (db *DB) checkPragmas(ctx context.Context) error {
	for pragma, want := range map[string]string{"journal_mode": "wal", "foreign_keys": "1", "busy_timeout": "5000"} {
		var got string
		if err := db.db.QueryRowContext(ctx, "PRAGMA "+pragma).Scan(&got); err != nil {
			return fmt.Errorf("open business db: pragma %s: %w", pragma, err)
		}
		if got != want {
			return fmt.Errorf("open business db: pragma %s is %q, want %q", pragma, got, want)
		}
	}
	return nil
}

// Dialect returns Postgres or SQLite.
func (db *DB) Dialect() string { return db.dialect }

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error { return db.db.PingContext(ctx) }

// Close closes the database.
func (db *DB) Close() error {
	db.stmts.close()
	return db.db.Close()
}

// Tables lists the database's tables, sorted (for checks that keep the
// business and log databases apart).
func (db *DB) Tables(ctx context.Context) ([]string, error) {
	q := `SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`
	if db.dialect == Postgres {
		q = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()`
	}
	rows, err := db.db.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		names = append(names, n)
	}
	sort.Strings(names)
	return names, rows.Err()
}

// Migrate applies the dialect's pending migrations, each in its own
// transaction, recording each in schema_migrations. It returns the
// versions it applied.
func (db *DB) Migrate(ctx context.Context) ([]int, error) {
	if _, err := db.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, applied_at TIMESTAMP NOT NULL)`); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	if err := audit.CreateOutbox(ctx, db.db, db.dialect); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	dir := "migrations/" + db.dialect
	files, err := fs.Glob(migrations, dir+"/*.sql")
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	sort.Strings(files)
	var applied []int
	for _, f := range files {
		v, err := strconv.Atoi(strings.SplitN(filepath.Base(f), "_", 2)[0])
		if err != nil {
			return applied, fmt.Errorf("migrate: bad migration name %s", f)
		}
		done, err := db.migrateOne(ctx, f, v)
		if err != nil {
			return applied, fmt.Errorf("migrate %s: %w", filepath.Base(f), err)
		}
		if done {
			applied = append(applied, v)
		}
	}
	return applied, db.installAudit(ctx)
}

func (db *DB) migrateOne(ctx context.Context, file string, version int) (bool, error) {
	body, err := migrations.ReadFile(file)
	if err != nil {
		return false, err
	}
	tx, err := db.begin(audit.WithActor(ctx, audit.Actor{Name: "migration " + filepath.Base(file)}))
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	if db.dialect == Postgres {
		// Two processes migrating at once take turns.
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7362119)`); err != nil {
			return false, err
		}
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = $1`, version).Scan(&n); err != nil {
		return false, err
	}
	if n > 0 {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, string(body)); err != nil {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)`, version, db.now()); err != nil {
		return false, err
	}
	return true, db.commit(ctx, tx)
}

func (db *DB) now() time.Time { return db.Now().UTC().Truncate(time.Microsecond) }

// isUnique reports whether err is a unique-constraint violation.
func isUnique(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23505"
	}
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// notFound turns sql.ErrNoRows into ENOTFOUND with msg.
func notFound(err error, format string, args ...any) error {
	if errors.Is(err, sql.ErrNoRows) {
		return saas.Errorf(saas.ENOTFOUND, format, args...)
	}
	return err
}
