//go:build !race

package store_test

// bulkRows is the size of the bulk-statement test (see race_test.go).
const bulkRows = 1000
