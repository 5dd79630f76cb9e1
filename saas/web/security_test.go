package web_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sidelog/sidelog/saas"
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
	mail := &webtest.Mailbox{}
	s := web.New(web.Config{
		Users: db, Orgs: db, Sessions: db, Projects: db, Ping: db.Ping, Signups: db, Mail: mail.Send,
		Logger:         slog.New(slog.NewJSONHandler(logs, nil)),
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")},
		LogKey:         []byte("test key"),
	})
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	e2client(t, srv.URL, mail).Signup("alice@example.com", password, "Alice Inc")
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

// TestSecurity_SignupNoOracle: signing up with an address that has an
// account and with a new one gives the same status, the same page (but for
// the typed address), the same headers and no systematic difference in
// time; only the mails differ. Not parallel: it raises the password-hash
// cost so that skipping the hash on one path would show in the times.
func TestSecurity_SignupNoOracle(t *testing.T) {
	old := saas.PBKDF2Iterations
	saas.PBKDF2Iterations = 100_000
	defer func() { saas.PBKDF2Iterations = old }()
	db := storetest.MustOpen(t, store.SQLite)
	mail := &webtest.Mailbox{}
	s := web.New(web.Config{Users: db, Orgs: db, Sessions: db, Projects: db, Signups: db, Mail: mail.Send,
		Logger: slog.New(slog.DiscardHandler), TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	e2client(t, srv.URL, mail).Signup("taken@example.com", password, "Taken")

	type answer struct {
		status  int
		body    string
		headers string
		took    time.Duration
	}
	try := func(i int, email string) answer {
		c := webtest.New(t, srv.URL)
		csrf := webtest.CSRF(t, c.Get("/signup").Body)
		form := url.Values{"email": {email}, "name": {"Sam"}, "org": {"Sam's"}, "password": {password}, "csrf_token": {csrf}}
		start := time.Now()
		r := c.Do("POST", "/signup", strings.NewReader(form.Encode()), map[string]string{
			"Content-Type": "application/x-www-form-urlencoded", "X-Forwarded-For": fmt.Sprintf("198.51.100.%d", i)})
		took := time.Since(start)
		var hs []string
		for k, v := range r.Header {
			if k != "Date" && k != "Content-Length" {
				hs = append(hs, k+": "+strings.Join(v, ", "))
			}
		}
		slices.Sort(hs)
		return answer{r.Status, strings.ReplaceAll(r.Body, email, "EMAIL"), strings.Join(hs, "\n"), took}
	}
	const rounds = 9
	var takenTimes, newTimes []time.Duration
	var first [2]answer
	for i := range rounds {
		// Interleaved, in alternating order, so that load drifts hit both.
		pair := [2]answer{}
		order := []int{0, 1}
		if i%2 == 1 {
			order = []int{1, 0}
		}
		for _, k := range order {
			if k == 0 {
				pair[0] = try(2*i+1, "taken@example.com")
			} else {
				pair[1] = try(2*i+2, fmt.Sprintf("new%d@example.com", i))
			}
		}
		if i == 0 {
			first = pair
		}
		if pair[0].status != pair[1].status || pair[0].body != pair[1].body || pair[0].headers != pair[1].headers {
			t.Fatalf("round %d: the answers differ:\ntaken: %d\n%s\n%s\nnew: %d\n%s\n%s", i,
				pair[0].status, pair[0].headers, pair[0].body, pair[1].status, pair[1].headers, pair[1].body)
		}
		takenTimes, newTimes = append(takenTimes, pair[0].took), append(newTimes, pair[1].took)
	}
	if first[0].status != http.StatusOK || !strings.Contains(first[0].body, "Check your inbox") {
		t.Fatalf("sign-up answer: %d %s", first[0].status, first[0].body)
	}
	// The median of the pairs' time ratios within a factor of 2 (pairs
	// are adjacent in time, so they see the same load): with the hash
	// skipped on the taken path the ratio is about 1/300 here; a shared,
	// loaded machine moves single pairs by ×1.8.
	ratios := make([]float64, rounds)
	for i := range rounds {
		ratios[i] = float64(takenTimes[i]) / float64(newTimes[i])
	}
	slices.Sort(ratios)
	if r := ratios[rounds/2]; r > 2 || r < 0.5 {
		t.Errorf("answer times differ: median ratio taken/new %.3f (ratios %.2f)", r, ratios)
	}
	t.Logf("median ratio of answer times taken/new: %.3f", ratios[rounds/2])
	// The mails: a link for the new address, a note for the taken one.
	if m := mail.Last("taken@example.com"); strings.Contains(m, "/signup/confirm") || !strings.Contains(m, "already has one") {
		t.Errorf("mail to the taken address: %q", m)
	}
	if m := mail.Last("new0@example.com"); !strings.Contains(m, "/signup/confirm?token=") {
		t.Errorf("mail to the new address: %q", m)
	}
}

// TestSecurity_SignupConfirm: the mailed link creates the account once;
// a used, unknown or forged token is refused; a second sign-up of the same
// address while the first waits gets its own link, and the first dies with
// it once either is used.
func TestSecurity_SignupConfirm(t *testing.T) {
	t.Parallel()
	db := storetest.MustOpen(t, store.SQLite)
	mail := &webtest.Mailbox{}
	s := web.New(web.Config{Users: db, Orgs: db, Sessions: db, Projects: db, Signups: db, Mail: mail.Send,
		Logger: slog.New(slog.DiscardHandler), BaseURL: "https://app.example.com/"})
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	c := e2client(t, srv.URL, mail)
	csrf := webtest.CSRF(t, c.Get("/signup").Body)
	for range 2 {
		r := c.PostForm("/signup", url.Values{"email": {"Dana@Example.com"}, "password": {password}}, csrf)
		if r.Status != 200 {
			t.Fatalf("sign-up: %d", r.Status)
		}
	}
	mails := mail.All()
	if len(mails) != 2 || !strings.Contains(mails[0].Body, "https://app.example.com/signup/confirm?token=") || mails[0].To != "dana@example.com" {
		t.Fatalf("mails: %+v", mails)
	}
	if _, err := db.FindUserByEmail(context.Background(), "dana@example.com"); saas.ErrorCode(err) != saas.ENOTFOUND {
		t.Fatalf("an account exists before the link was followed: %v", err)
	}
	first := regexp.MustCompile(`token=([A-Za-z0-9]+)`).FindStringSubmatch(mails[0].Body)[1]
	c.ConfirmSignup("dana@example.com") // the newest link
	if u, err := db.FindUserByEmail(context.Background(), "dana@example.com"); err != nil || u.Name != "dana" {
		t.Fatalf("after the link: %+v, %v", u, err)
	}
	anon := webtest.New(t, srv.URL)
	for _, tok := range []string{first, "AAAAAAAAAAAAAAAAAAAAAAAAAA", strings.Repeat("A", 200), ""} {
		if r := anon.Get("/signup/confirm?token=" + tok); r.Status != 404 {
			t.Errorf("confirm page of token %.20q: %d", tok, r.Status)
		}
		csrf := webtest.CSRF(t, anon.Get("/login").Body)
		if r := anon.PostForm("/signup/confirm", url.Values{"token": {tok}}, csrf); r.Status != 404 {
			t.Errorf("confirm token %.20q: %d", tok, r.Status)
		}
	}
	// Without the form's CSRF token: refused.
	if r := anon.PostForm("/signup/confirm", url.Values{"token": {first}}, ""); r.Status != 403 {
		t.Errorf("confirm without CSRF: %d", r.Status)
	}
	// An invalid form is told so, whatever the address.
	if r := anon.PostForm("/signup", url.Values{"email": {"not an address"}, "password": {password}}, webtest.CSRF(t, anon.Get("/signup").Body)); r.Status != 400 {
		t.Errorf("bad address: %d", r.Status)
	}
}
