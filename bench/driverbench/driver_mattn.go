//go:build driverbench && cgo && (sqlite_fts5 || fts5)

package driverbench

import (
	"database/sql/driver"

	"github.com/mattn/go-sqlite3"
)

func init() {
	register(Driver{Name: "mattn", rank: 2, connector: func(dsn string) (driver.Connector, error) {
		return dsnConnector{&sqlite3.SQLiteDriver{}, dsn}, nil
	}})
}
