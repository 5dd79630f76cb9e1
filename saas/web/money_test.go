package web

import (
	"strings"
	"testing"
)

func TestParseMoney(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"", 0, true}, {"0", 0, true}, {"12", 1200, true}, {"12.5", 1250, true}, {"1,234.56", 123456, true},
		{" 7.05 ", 705, true}, {"12.345", 0, false}, {"-1", 0, false}, {"1e3", 0, false}, {".5", 0, false},
		{"abc", 0, false}, {"1.x", 0, false}, {"9999999999999", 0, false}, {"+1", 0, false},
	} {
		got, err := parseMoney(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("parseMoney(%q) = %d, %v; want %d, ok %v", c.in, got, err, c.want, c.ok)
		}
	}
}

// FuzzParseMoney checks that what parseMoney accepts is never negative and
// prints back to the same amount.
func FuzzParseMoney(f *testing.F) {
	for _, s := range []string{"", "12", "12.5", "1,234.56", "-1", "1.x", "+1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cents, err := parseMoney(s)
		if err != nil {
			return
		}
		if cents < 0 {
			t.Fatalf("parseMoney(%q) = %d < 0", s, cents)
		}
		back, err := parseMoney(formatMoney(cents))
		if err != nil || back != cents {
			t.Fatalf("parseMoney(%q) = %d, but %q reads back as %d, %v", s, cents, formatMoney(cents), back, err)
		}
		if strings.ContainsAny(s, "-+eE") {
			t.Fatalf("parseMoney(%q) accepted a sign or exponent", s)
		}
	})
}
