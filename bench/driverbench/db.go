//go:build driverbench

package driverbench

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// minVersion is the oldest SQLite we accept: 3.51.3 fixes the WAL-reset
// corruption bug.
var minVersion = [3]int{3, 51, 3}

// Driver is one SQLite driver under test.
type Driver struct {
	Name string
	rank int // order in reports: modernc, ncruces, mattn
	// connector returns a database/sql connector for the file at dsn; the
	// drivers are not opened by their registered names (see doc.go).
	connector func(dsn string) (driver.Connector, error)
}

var drivers []Driver

func register(d Driver) {
	drivers = append(drivers, d)
	slices.SortFunc(drivers, func(a, b Driver) int { return a.rank - b.rank })
}

// Drivers returns the drivers compiled into this build, modernc first.
func Drivers() []Driver { return drivers }

// dsnConnector adapts a driver.Driver without its own connector.
type dsnConnector struct {
	d   driver.Driver
	dsn string
}

func (c dsnConnector) Connect(context.Context) (driver.Conn, error) { return c.d.Open(c.dsn) }
func (c dsnConnector) Driver() driver.Driver                        { return c.d }

// pragmas are applied in this order on every connection; STYLE.md asks for
// busy_timeout first and a checked WAL.
var pragmas = []string{
	"PRAGMA busy_timeout=5000",
	"PRAGMA journal_mode=WAL",
	"PRAGMA synchronous=NORMAL",
	"PRAGMA cache_size=-65536",
	"PRAGMA temp_store=MEMORY",
}

// Open opens the segment file at path with d on one connection (the
// writer's shape; readers in these benchmarks are sequential too) and sets
// the shared pragmas.
func (d Driver) Open(ctx context.Context, path string) (*sql.DB, error) {
	c, err := d.connector("file:" + path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", d.Name, err)
	}
	db := sql.OpenDB(c)
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	if err := setPragmas(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", d.Name, err)
	}
	return db, nil
}

func setPragmas(ctx context.Context, db *sql.DB) error {
	for _, p := range pragmas {
		if !strings.Contains(p, "journal_mode") {
			if _, err := db.ExecContext(ctx, p); err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
			continue
		}
		var mode string
		if err := db.QueryRowContext(ctx, p).Scan(&mode); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		if mode != "wal" {
			return fmt.Errorf("%s answered %q, want wal", p, mode)
		}
	}
	return nil
}

// Version returns sqlite_version() and fails if it is older than minVersion.
func Version(ctx context.Context, db *sql.DB) (string, error) {
	var v string
	if err := db.QueryRowContext(ctx, "SELECT sqlite_version()").Scan(&v); err != nil {
		return "", fmt.Errorf("sqlite_version: %w", err)
	}
	parts := strings.Split(v, ".")
	var got [3]int
	for i := 0; i < 3 && i < len(parts); i++ {
		got[i], _ = strconv.Atoi(parts[i])
	}
	if slices.Compare(got[:], minVersion[:]) < 0 {
		return v, fmt.Errorf("sqlite %s is older than %d.%d.%d", v, minVersion[0], minVersion[1], minVersion[2])
	}
	return v, nil
}

// schemaPath is the segment migration, read at run time so the benchmark
// always measures the schema in the tree (go:embed cannot reach it).
const schemaPath = "../../sqlite/migrations/segment/0001_init.sql"

func readSchema() (string, error) {
	b, err := os.ReadFile(filepath.FromSlash(schemaPath))
	if err != nil {
		return "", fmt.Errorf("read segment schema: %w", err)
	}
	return string(b), nil
}

// createSegment creates an empty segment at path with d.
func createSegment(ctx context.Context, d Driver, path string) error {
	schema, err := readSchema()
	if err != nil {
		return err
	}
	db, err := d.Open(ctx, path)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, schema); err != nil {
		return fmt.Errorf("create segment: %w", err)
	}
	return db.Close()
}
