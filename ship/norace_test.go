//go:build !race

package ship_test

// scaled returns n: the tests' full sizes.
func scaled(n int) int { return n }
