package redact_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/sidelog/sidelog/redact"
)

// Planted secrets used across the tests: each must disappear.
const (
	jwt       = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
	card      = "4111111111111111"
	awsKey    = "AKIAIOSFODNN7EXAMPLE"
	ghToken   = "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789"
	stripeKey = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"
	googleKey = "AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q"
	slackTok  = "xoxb-1234567890-abcdefghijklmnop"
	basicCred = "dXNlcjpodW50ZXIy" // user:hunter2
)

func TestRedactor_String(t *testing.T) {
	r := redact.New(redact.Options{})
	tests := []struct {
		in, want string
	}{
		{"plain message with nothing", "plain message with nothing"},
		{"Authorization: Bearer abcdef123456", "Authorization: [REDACTED:key-value]"},
		{"header Bearer abcdef123456 sent", "header Bearer [REDACTED:bearer] sent"},
		{"auth Basic " + basicCred, "auth Basic [REDACTED:basic]"},
		{"basic usage of the thing", "basic usage of the thing"},
		{"token " + jwt + " seen", "token [REDACTED:jwt] seen"},
		{"paid with " + card + " ok", "paid with [REDACTED:card] ok"},
		{"paid with 4111 1111 1111 1111.", "paid with [REDACTED:card]."},
		{"paid with 4111-1111-1111-1111", "paid with [REDACTED:card]"},
		{"not a card 4111111111111112", "not a card 4111111111111112"},
		{"nanos 1764620000000000000 stay", "nanos 1764620000000000000 stay"},
		{"key " + awsKey, "key [REDACTED:aws-key]"},
		{"gh " + ghToken, "gh [REDACTED:github-token]"},
		{"stripe " + stripeKey, "stripe [REDACTED:stripe-key]"},
		{"google " + googleKey, "google [REDACTED:google-key]"},
		{"slack " + slackTok, "slack [REDACTED:slack-token]"},
		{"GET /cb?code=1&access_token=abc123&x=2", "GET /cb?code=1&access_token=[REDACTED:url-query]&x=2"},
		{"?token=abc&password=hunter2", "?token=[REDACTED:url-query]&password=[REDACTED:url-query]"},
		{"login failed password=hunter2 user=bob", "login failed password=[REDACTED:key-value] user=bob"},
		{`body {"password": "hunter2", "user": "bob"}`, `body {"password": "[REDACTED:key-value]", "user": "bob"}`},
		{"dial postgres://app:s3cret@db:5432/app", "dial postgres://app:[REDACTED:url-password]@db:5432/app"},
		{"see https://example.com/a:b", "see https://example.com/a:b"},
		{"GET /reset/9f8e7d6c5b4a3 200", "GET /reset/[REDACTED:path-token] 200"},
		{"GET /invite/abcdefghijklmnopqrst", "GET /invite/[REDACTED:path-token]"},
		{"GET /projects/42/edit", "GET /projects/42/edit"},
		{"GET /reset/help", "GET /reset/help"},
		{"max_tokens=5", "max_tokens=5"},
		{"key -----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY----- end", "key [REDACTED:private-key] end"},
		{"mail bob@example.com", "mail bob@example.com"},
		{"ip 203.0.113.77", "ip 203.0.113.77"},
	}
	for _, tt := range tests {
		if got := r.String(tt.in); got != tt.want {
			t.Errorf("String(%q)\n got %q\nwant %q", tt.in, got, tt.want)
		}
	}
}

func TestRedactor_Options(t *testing.T) {
	r := redact.New(redact.Options{Emails: true, TruncateIPs: true, ExtraKeys: []string{"pin"}, AllowKeys: []string{"session"}, DisableRules: []string{redact.RuleCard}})
	for in, want := range map[string]string{
		"mail bob.smith+x@example.co.uk now": "mail [REDACTED:email] now",
		"from 203.0.113.77:443":              "from 203.0.113.0:443",
		"pin=1234":                           "pin=[REDACTED:key-value]",
		"session=abc":                        "session=abc",
		"card " + card:                       "card " + card,
	} {
		if got := r.String(in); got != want {
			t.Errorf("String(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"203.0.113.77":          "203.0.113.0",
		"2001:db8:1:2:3:4:5:6":  "2001:db8:1::",
		"::ffff:198.51.100.200": "198.51.100.0",
		"not an ip":             "not an ip",
	} {
		if got := r.IP(in); got != want {
			t.Errorf("IP(%q) = %q, want %q", in, got, want)
		}
	}
	if got := redact.Default().IP("203.0.113.77"); got != "203.0.113.77" {
		t.Errorf("Default truncates IPs: %q", got)
	}
	if got := redact.Disabled().String("password=x " + jwt); got != "password=x "+jwt {
		t.Errorf("Disabled changed %q", got)
	}
	var nilR *redact.Redactor
	if got := nilR.String(jwt); got != jwt {
		t.Errorf("nil Redactor changed %q", got)
	}
}

func TestRedactor_Key(t *testing.T) {
	r := redact.Default()
	for _, k := range []string{"password", "Password", "user_password", "newPassword", "DB.PASSWORD", "userpassword",
		"X-Api-Key", "apiKey", "APIKEY", "api-key", "access_token", "accessToken", "csrf_token", "Authorization",
		"Set-Cookie", "cookie", "session_id", "client_secret", "private_key", "privateKey", "refresh_token", "passwd", "secret"} {
		if !r.Key(k) {
			t.Errorf("Key(%q) = false, want true", k)
		}
	}
	for _, k := range []string{"user", "max_tokens", "path", "status", "author", "keyboard", "monkey", "id", "", "tokenizer"} {
		if r.Key(k) {
			t.Errorf("Key(%q) = true, want false", k)
		}
	}
}

func TestRedactor_JSON(t *testing.T) {
	r := redact.New(redact.Options{})
	in := `{"user":"bob","password":"hunter2","nested":{"deep":{"api_key":{"a":[1,2]},"n":5,"token":12345}},` +
		`"list":[{"secret":"s"},"Bearer abcdef123456"],"note":"card ` + card + `","esc":"\"Bearer abcdefgh\"","null_token":null}`
	got := r.JSON([]byte(in))
	var v map[string]any
	if err := json.Unmarshal(got, &v); err != nil {
		t.Fatalf("result is not JSON: %v\n%s", err, got)
	}
	for _, secret := range []string{"hunter2", `[1,2]`, "12345", `"s"`, "abcdef123456", card, "abcdefgh"} {
		if strings.Contains(string(got), secret) {
			t.Errorf("%q survived: %s", secret, got)
		}
	}
	for _, keep := range []string{`"user":"bob"`, `"n":5`, `"null_token":null`} {
		if !strings.Contains(string(got), keep) {
			t.Errorf("%s was lost: %s", keep, got)
		}
	}
	plain := []byte(`{"a":"b","c":[1,2,3]}`)
	if got := r.JSON(plain); &got[0] != &plain[0] {
		t.Errorf("JSON copied a clean document")
	}
}

func TestRedactor_Value(t *testing.T) {
	r := redact.New(redact.Options{})
	v := r.Value("changes", map[string]any{
		"password_hash": "$2a$10$abc",
		"email":         "bob@example.com",
		"profile":       map[string]any{"api_key": "k", "bio": "uses " + awsKey},
		"tags":          []any{"x", jwt},
	})
	b, _ := json.Marshal(v)
	for _, secret := range []string{"$2a$10$abc", `"k"`, awsKey, jwt} {
		if strings.Contains(string(b), secret) {
			t.Errorf("%q survived: %s", secret, b)
		}
	}
	if !strings.Contains(string(b), "bob@example.com") {
		t.Errorf("email removed without Options.Emails: %s", b)
	}
	if got := r.Value("token", 42); got != "[REDACTED:key]" {
		t.Errorf("Value(token, 42) = %v", got)
	}
	if got := r.Value("count", 42); got != 42 {
		t.Errorf("Value(count, 42) = %v", got)
	}
}

func TestRedactor_Counts(t *testing.T) {
	r := redact.New(redact.Options{})
	r.String("a " + jwt + " b " + jwt + " c " + card)
	r.Value("password", "x")
	got := r.Counts()
	if got[redact.RuleJWT] != 2 || got[redact.RuleCard] != 1 || got[redact.RuleKey] != 1 || r.Total() != 4 {
		t.Errorf("Counts = %v, Total = %d", got, r.Total())
	}
}

func TestRedactor_StringNoAlloc(t *testing.T) {
	r := redact.New(redact.Options{})
	s := "GET /projects/42 200 user=bob took 3ms at 2026-12-01T10:00:00Z"
	if n := testing.AllocsPerRun(100, func() { r.String(s) }); n != 0 {
		t.Errorf("String of clean text allocates %v times", n)
	}
}
