package sqlite

// SetDerivedOff turns the writer's attribute index and request rollups off
// or on, for the write-cost benchmark.
func SetDerivedOff(off bool) { derivedOff = off }

// CatalogFreshConns makes every catalog statement of db use a new
// connection, so that damage a test does to the file is met at once (a
// long-running process meets it when its connections' page caches miss).
func CatalogFreshConns(db *DB) { db.cat().SetMaxIdleConns(0) }
