//go:build race

package otelcol_test

// raceEnabled: the pure-Go SQLite runs some 50 times slower under the race
// detector, so the tests ship a fifth of the records.
const raceEnabled = true
