//go:build !race

package sqlite_test

// scaled returns n: the tests' full sizes.
func scaled(n int) int { return n }
