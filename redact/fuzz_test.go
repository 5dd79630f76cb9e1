package redact_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/sidelog/sidelog/redact"
)

// FuzzString checks that String never panics, is idempotent, and that a
// planted JWT or card number between two separators never survives.
func FuzzString(f *testing.F) {
	for _, s := range []string{"", "password=x", "Bearer abcdefgh", jwt, card, "a://b:c@d", "/reset/abc123", "x@y.zz", "1.2.3.4", "-----BEGIN PRIVATE KEY-----", `"token": "x"`} {
		f.Add(s, s)
	}
	r := redact.New(redact.Options{Emails: true, TruncateIPs: true})
	f.Fuzz(func(t *testing.T, a, b string) {
		once := r.String(a)
		if twice := r.String(once); twice != once {
			t.Fatalf("not idempotent: %q -> %q -> %q", a, once, twice)
		}
		for _, secret := range []string{jwt, card} {
			got := r.String(a + " " + secret + " " + b)
			if strings.Count(got, secret) > strings.Count(a, secret)+strings.Count(b, secret) {
				t.Fatalf("%q survived in %q", secret, got)
			}
		}
	})
}

// FuzzJSON checks that redacting valid JSON gives valid JSON, and that a
// secret key's value never survives.
func FuzzJSON(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":"b"}`, `{"password":{"x":[1,"y"]}}`, `["Bearer abcdefgh"]`, `{"a\"b":"c"}`, `"str"`, `12`} {
		f.Add([]byte(s))
	}
	r := redact.New(redact.Options{Emails: true, TruncateIPs: true})
	f.Fuzz(func(t *testing.T, b []byte) {
		out := r.JSON(b)
		if !json.Valid(b) {
			return
		}
		if !json.Valid(out) {
			t.Fatalf("valid %q became invalid %q", b, out)
		}
		planted := []byte(`{"password":"PLANTED-SECRET","v":` + string(b) + `}`)
		if got := r.JSON(planted); strings.Contains(string(got), "PLANTED-SECRET") {
			t.Fatalf("secret survived: %s", got)
		}
	})
}
