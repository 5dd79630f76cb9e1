package web_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/sidelog/sidelog/saas/store"
	"github.com/sidelog/sidelog/saas/store/storetest"
	"github.com/sidelog/sidelog/saas/web"
	"github.com/sidelog/sidelog/saas/web/webtest"
)

// lockedBuffer collects the server's log lines as JSON.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// guardEnv is a server that believes X-Forwarded-For from the loopback
// address, so that a test can come from many client addresses.
func guardEnv(t *testing.T) (*web.Server, *httptest.Server, *lockedBuffer) {
	t.Helper()
	db := storetest.MustOpen(t, store.SQLite)
	logs := &lockedBuffer{}
	s := web.New(web.Config{
		Users: db, Orgs: db, Sessions: db, Projects: db, Ping: db.Ping,
		Logger:         slog.New(slog.NewJSONHandler(logs, nil)),
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")},
		LogKey:         []byte("test key"),
	})
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	webtest.New(t, srv.URL).Signup("alice@example.com", password, "Alice Inc")
	return s, srv, logs
}

// tryLogin posts the login form from client address ip.
func tryLogin(t *testing.T, srv *httptest.Server, ip, email, pw string) webtest.Response {
	t.Helper()
	c := webtest.New(t, srv.URL)
	csrf := webtest.CSRF(t, c.Get("/login").Body)
	form := url.Values{"email": {email}, "password": {pw}, "csrf_token": {csrf}}
	return c.Do("POST", "/login", strings.NewReader(form.Encode()), map[string]string{
		"Content-Type": "application/x-www-form-urlencoded", "X-Forwarded-For": ip})
}

func TestSecurity_LoginLockoutPerAccount(t *testing.T) {
	t.Parallel()
	s, srv, logs := guardEnv(t)
	// An existing and a missing account answer the same, attempt by
	// attempt: no account-existence oracle in the lockout either.
	for _, email := range []string{"alice@example.com", "nobody@example.com"} {
		var got []int
		for i := range web.AccountFailures + 1 {
			got = append(got, tryLogin(t, srv, fmt.Sprintf("192.0.2.%d", i+1), email, "wrong password").Status)
		}
		want := append(repeat(401, web.AccountFailures), 429)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: statuses %v, want %v", email, got, want)
		}
	}
	// Locked: even the right password is refused, before it is checked.
	r := tryLogin(t, srv, "198.51.100.1", "alice@example.com", password)
	if r.Status != 429 || r.Header.Get("Retry-After") == "" {
		t.Errorf("right password while locked: %d, Retry-After %q", r.Status, r.Header.Get("Retry-After"))
	}
	out := logs.String()
	if n := strings.Count(out, `"msg":"login locked out"`); n != 2 {
		t.Errorf("%d lockout events, want 2 (one per account):\n%s", n, out)
	}
	if !strings.Contains(out, `"account":"`+s.AccountKey("alice@example.com")+`"`) || !strings.Contains(out, `"scope":"account"`) {
		t.Errorf("lockout event lacks the account's keyed hash or scope:\n%s", out)
	}
}

func TestSecurity_LoginLockoutPerIP(t *testing.T) {
	t.Parallel()
	_, srv, logs := guardEnv(t)
	for i := range web.IPFailures {
		if st := tryLogin(t, srv, "203.0.113.9", fmt.Sprintf("user%d@example.com", i), "wrong password").Status; st != 401 {
			t.Fatalf("attempt %d: %d, want 401", i, st)
		}
	}
	if st := tryLogin(t, srv, "203.0.113.9", "alice@example.com", password).Status; st != 429 {
		t.Errorf("from the locked address: %d, want 429", st)
	}
	if st := tryLogin(t, srv, "203.0.113.10", "alice@example.com", password).Status; st != http.StatusSeeOther {
		t.Errorf("from another address: %d, want 303", st)
	}
	if !strings.Contains(logs.String(), `"scope":"ip"`) {
		t.Errorf("no per-IP lockout event:\n%s", logs.String())
	}
}

func TestSecurity_FailedLoginNotInClear(t *testing.T) {
	t.Parallel()
	s, srv, logs := guardEnv(t)
	typed := "Sup3rSecretTypedInEmailField"
	tryLogin(t, srv, "192.0.2.1", typed, "x")
	tryLogin(t, srv, "192.0.2.1", "alice@example.com", "wrong")
	out := logs.String()
	for _, clear := range []string{typed, strings.ToLower(typed), "alice@example.com"} {
		if strings.Contains(out, clear) {
			t.Errorf("%q is in the log:\n%s", clear, out)
		}
	}
	if !strings.Contains(out, s.AccountKey(typed)) || s.AccountKey(" ALICE@example.com") != s.AccountKey("alice@example.com") {
		t.Errorf("failed logins do not carry the normalised keyed hash:\n%s", out)
	}
}

func TestSecurity_SignupRateLimit(t *testing.T) {
	t.Parallel()
	_, srv, _ := guardEnv(t)
	c := webtest.New(t, srv.URL)
	csrf := webtest.CSRF(t, c.Get("/signup").Body)
	var last int
	for i := range web.SignupsPerIP + 1 {
		form := url.Values{"email": {fmt.Sprintf("bad%d", i)}, "password": {"x"}, "csrf_token": {csrf}}
		last = c.Do("POST", "/signup", strings.NewReader(form.Encode()), map[string]string{
			"Content-Type": "application/x-www-form-urlencoded", "X-Forwarded-For": "203.0.113.5"}).Status
	}
	if last != 429 {
		t.Errorf("sign-up attempt %d from one address: %d, want 429", web.SignupsPerIP+1, last)
	}
}

func TestSecurity_MembersNoOracle(t *testing.T) {
	t.Parallel()
	e := mustEnv(t)
	add := fmt.Sprintf("/api/orgs/%d/members", e.aliceMe.Memberships[0].OrgID)
	for _, c := range []struct {
		who  *webtest.Client
		want int
	}{{e.bob, 404}, {e.alice, 204}} {
		known := c.who.JSON("POST", add, map[string]any{"email": "bob@example.com"}, nil)
		unknown := c.who.JSON("POST", add, map[string]any{"email": "nobody@example.com"}, nil)
		if known != c.want || unknown != c.want {
			t.Errorf("known %d, unknown %d, want %d for both", known, unknown, c.want)
		}
	}
}

func repeat(v, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = v
	}
	return out
}
