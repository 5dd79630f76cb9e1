//go:build race

package store_test

// bulkRows is the size of the bulk-statement test: under the race detector
// the pure-Go SQLite runs some 50 times slower, so it shrinks from 1,000
// to 100 (the logic does not depend on size; the plain run keeps 1,000).
const bulkRows = 100
