//go:build race

package ship_test

// scaled returns a fifth of n: under the race detector the pure-Go SQLite
// runs some 50 times slower, and the tests' logic does not depend on size.
func scaled(n int) int { return n / 5 }
