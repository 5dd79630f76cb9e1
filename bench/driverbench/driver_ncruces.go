//go:build driverbench

package driverbench

import (
	"database/sql/driver"

	"github.com/ncruces/go-sqlite3"
	ncruces "github.com/ncruces/go-sqlite3/driver"
	"github.com/ncruces/go-sqlite3/ext/fts5"
)

// Since v0.37 ncruces ships SQLite as Go code translated from wasm; FTS5 is
// a separate module that every connection must load (ext/fts5), and the
// embed package is an empty shim that only prints a deprecation notice, so
// it is not imported.

func init() {
	sqlite3.AutoExtension(fts5.Register)
	register(Driver{Name: "ncruces", rank: 1, connector: func(dsn string) (driver.Connector, error) {
		return (&ncruces.SQLite{}).OpenConnector(dsn)
	}})
}
