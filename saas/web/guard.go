package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/httplog"
)

// Login limits: after AccountFailures failed logins for one account (or
// IPFailures from one client address) within LoginWindow, further attempts
// are refused without checking the password until the window has passed.
// An account is named by what was typed, whether it exists or not, so the
// answer never tells whether it does.
const (
	AccountFailures = 5
	IPFailures      = 20
	LoginWindow     = 15 * time.Minute
	// SignupsPerIP bounds sign-up attempts (each hashes a password) per
	// client address per LoginWindow.
	SignupsPerIP = 20
	// maxTracked bounds the entries of each table; the oldest windows are
	// forgotten first.
	maxTracked = 100_000
)

// eTooMany is the code of a refused attempt (HTTP 429).
const eTooMany = "too_many_requests"

// counter counts failures in a fixed window.
type counter struct {
	start  time.Time
	n      int
	locked bool // the lockout event was logged for this window
}

// guard counts failed logins per account and per client address.
type guard struct {
	mu       sync.Mutex
	accounts map[string]*counter
	ips      map[string]*counter
	signups  map[string]*counter
	now      func() time.Time
}

func newGuard() *guard {
	return &guard{accounts: map[string]*counter{}, ips: map[string]*counter{}, signups: map[string]*counter{}, now: time.Now}
}

// get returns the live counter of key in m, starting a new window when the
// old one has passed.
func (g *guard) get(m map[string]*counter, key string) *counter {
	now := g.now()
	c := m[key]
	if c == nil || now.Sub(c.start) >= LoginWindow {
		if len(m) >= maxTracked {
			prune(m, now)
		}
		c = &counter{start: now}
		m[key] = c
	}
	return c
}

// prune forgets the counters whose window has passed, or half of them
// when none has.
func prune(m map[string]*counter, now time.Time) {
	n := 0
	for k, c := range m {
		if now.Sub(c.start) >= LoginWindow {
			delete(m, k)
			n++
		}
	}
	if n > 0 {
		return
	}
	for k := range m {
		delete(m, k)
		if len(m) <= maxTracked/2 {
			return
		}
	}
}

// blocked reports whether a login for account from ip must be refused, and
// until when.
func (g *guard) blocked(account, ip string) (bool, time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	a, i := g.get(g.accounts, account), g.get(g.ips, ip)
	switch {
	case a.n >= AccountFailures:
		return true, a.start.Add(LoginWindow)
	case i.n >= IPFailures:
		return true, i.start.Add(LoginWindow)
	}
	return false, time.Time{}
}

// fail counts a failed login and returns the scopes ("account", "ip")
// that have just become locked.
func (g *guard) fail(account, ip string) []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	var locked []string
	for _, x := range []struct {
		scope string
		c     *counter
		limit int
	}{{"account", g.get(g.accounts, account), AccountFailures}, {"ip", g.get(g.ips, ip), IPFailures}} {
		x.c.n++
		if x.c.n >= x.limit && !x.c.locked {
			x.c.locked = true
			locked = append(locked, x.scope)
		}
	}
	return locked
}

// succeed clears an account's failures after a good login.
func (g *guard) succeed(account string) {
	g.mu.Lock()
	delete(g.accounts, account)
	g.mu.Unlock()
}

// signup counts a sign-up attempt from ip and reports whether it is
// allowed.
func (g *guard) signup(ip string) (bool, time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	c := g.get(g.signups, ip)
	c.n++
	return c.n <= SignupsPerIP, c.start.Add(LoginWindow)
}

// accountKey is the keyed hash that names an account in the log and in
// the limiter: HMAC-SHA256 of the normalised e-mail under Config.LogKey,
// 16 bytes in hex. The same typed address always gives the same value, so
// attempts correlate, but the log never holds what was typed (which is
// sometimes a password).
func (s *Server) accountKey(email string) string {
	m := hmac.New(sha256.New, s.logKey)
	m.Write([]byte(strings.ToLower(strings.TrimSpace(email))))
	return "hmac:" + hex.EncodeToString(m.Sum(nil)[:16])
}

// AccountKey returns the keyed hash that failed-login records carry for
// email, to find the attempts on one account in the log.
func (s *Server) AccountKey(email string) string { return s.accountKey(email) }

func newLogKey() []byte {
	k := make([]byte, 32)
	rand.Read(k)
	return k
}

// clientAddr is the client's address as the limiter counts it.
func (s *Server) clientAddr(r *http.Request) string {
	if ip := httplog.ClientIP(r, s.cfg.TrustedProxies); ip.IsValid() {
		return ip.String()
	}
	return r.RemoteAddr
}

// tooMany answers a refused attempt: 429 with Retry-After, the same text
// whatever the account.
func (s *Server) tooMany(w http.ResponseWriter, r *http.Request, tmpl string, until time.Time, p page) {
	secs := max(1, int(time.Until(until).Seconds()+0.5))
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	p.Error = "Too many attempts. Wait " + strconv.Itoa((secs+59)/60) + " minutes and try again."
	s.render(w, r, tmpl, http.StatusTooManyRequests, p)
}

// lockoutEvent records that a scope just became locked.
func (s *Server) lockoutEvent(r *http.Request, scope, account, ip string) {
	s.log.WarnContext(r.Context(), "login locked out", sidelog.KeyKind, sidelog.KindSecurity.String(),
		"scope", scope, "account", account, sidelog.KeyClientIP, ip, "window", LoginWindow)
}
