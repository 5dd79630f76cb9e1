package saas_test

import (
	"strings"
	"testing"

	"github.com/sidelog/sidelog/saas"
)

func TestPBKDF2Iterations(t *testing.T) {
	if saas.PBKDF2Iterations < 600_000 {
		t.Errorf("PBKDF2Iterations = %d, want at least 600000", saas.PBKDF2Iterations)
	}
}

func TestHashPassword(t *testing.T) {
	defer func(n int) { saas.PBKDF2Iterations = n }(saas.PBKDF2Iterations)
	saas.PBKDF2Iterations = 1000
	h, err := saas.HashPassword("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "pbkdf2-sha256$1000$") {
		t.Errorf("hash %q does not record scheme and iterations", h)
	}
	if h2, _ := saas.HashPassword("correct horse"); h2 == h {
		t.Error("two hashes of one password are equal: no salt")
	}
	for _, c := range []struct {
		hash, pw string
		want     bool
	}{
		{h, "correct horse", true},
		{h, "correct horsE", false},
		{h, "", false},
		{"pbkdf2-sha256$1000$AAAA", "correct horse", false},
		{"md5$1$x$y", "correct horse", false},
		{strings.Replace(h, "$1000$", "$999999999$", 1), "correct horse", false},
	} {
		if got := saas.CheckPassword(c.hash, c.pw); got != c.want {
			t.Errorf("CheckPassword(%q, %q) = %v, want %v", c.hash, c.pw, got, c.want)
		}
	}
	for _, pw := range []string{"short", strings.Repeat("x", saas.MaxPassword+1)} {
		if _, err := saas.HashPassword(pw); saas.ErrorCode(err) != saas.EINVALID {
			t.Errorf("HashPassword(len %d): got %v, want invalid", len(pw), err)
		}
	}
}
