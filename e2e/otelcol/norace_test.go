//go:build !race

package otelcol_test

const raceEnabled = false
