//go:build race

package handler_test

// raceEnabled is set under -race, where the pure-Go SQLite driver runs
// some 50 times slower; the store tests scale their load down by it.
const raceEnabled = true
