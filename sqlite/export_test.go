package sqlite

// SetDerivedOff turns the writer's attribute index and request rollups off
// or on, for the write-cost benchmark.
func SetDerivedOff(off bool) { derivedOff = off }

// CatalogFreshConns makes every catalog statement of db use a new
// connection, so that damage a test does to the file is met at once (a
// long-running process meets it when its connections' page caches miss).
func CatalogFreshConns(db *DB) { db.cat().SetMaxIdleConns(0) }

// SetWALLimit sets the WAL length (frames) past which the writer
// checkpoints itself, and returns the old one.
func SetWALLimit(n int64) int64 { old := walLimit; walLimit = n; return old }

// SetRetentionBefore puts back what the store did before the retention
// stall work: new writer connections checkpoint after their own commits,
// and class counts are read from the per-minute rollup.
func SetRetentionBefore(on bool) {
	ckptInline = on
	classCountsTable = map[bool]string{false: "rollup_hour", true: "rollup"}[on]
}
