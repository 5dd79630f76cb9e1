//go:build driverbench

package driverbench

import (
	"database/sql/driver"

	"modernc.org/sqlite"
)

func init() {
	register(Driver{Name: "modernc", rank: 0, connector: func(dsn string) (driver.Connector, error) {
		return dsnConnector{&sqlite.Driver{}, dsn}, nil
	}})
}
