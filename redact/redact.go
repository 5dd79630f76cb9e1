// Package redact removes secrets and, optionally, personal data from log
// values before they are stored.
//
// A [Redactor] works two ways:
//
//   - by key: the value of an attribute, JSON member, query parameter or
//     "key=value" pair whose key names a secret (password, token, api_key,
//     authorization, cookie, ...; see [DefaultKeys]) is replaced whole,
//     at any nesting depth;
//   - by value: text is scanned for credentials whatever their key: bearer
//     and basic credentials, JWTs, card numbers that pass a Luhn check,
//     cloud and SaaS key formats, PEM private keys, passwords in URL
//     userinfo, tokens in URL paths after a segment such as /reset/ or
//     /invite/; optionally e-mail addresses, and IP addresses truncated to
//     their /24 (IPv4) or /48 (IPv6) network.
//
// What is removed is replaced by a marker that names the rule, such as
// "[REDACTED:jwt]", and counted per rule ([Redactor.Counts]).
//
// sidelog's handler applies [Default] to every record unless told
// otherwise; other code (audit diffs, exports) can call it directly:
//
//	clean := redact.Default().Value("password", v) // "[REDACTED:key]"
//	msg := redact.Default().String("Authorization: Bearer abc.def")
//
// A nil *Redactor is valid and changes nothing. A Redactor is safe for
// concurrent use. SECURITY.md lists what is redacted by default and how to
// change it.
package redact

import (
	"strings"
	"sync"
	"sync/atomic"
)

// Rule names, as they appear in markers and in Counts.
const (
	RuleKey         = "key"          // a value whose key names a secret
	RuleBearer      = "bearer"       // Authorization: Bearer <token>
	RuleBasic       = "basic"        // Authorization: Basic <base64 of user:password>
	RuleJWT         = "jwt"          // a JSON Web Token (eyJ....)
	RuleCard        = "card"         // a payment card number passing the Luhn check
	RuleAWS         = "aws-key"      // AWS access key id (AKIA..., ASIA...)
	RuleGitHub      = "github-token" // ghp_, gho_, ghu_, ghs_, ghr_, github_pat_
	RuleGitLab      = "gitlab-token" // glpat-
	RuleSlack       = "slack-token"  // xoxb-, xoxp-, xoxa-, xoxo-, xoxr-, xoxs-
	RuleStripe      = "stripe-key"   // sk_live_, sk_test_, rk_live_, rk_test_, whsec_
	RuleGoogle      = "google-key"   // AIza...
	RuleSKKey       = "sk-key"       // sk-... (OpenAI, Anthropic and similar)
	RuleSendGrid    = "sendgrid-key" // SG.xxx.yyy
	RuleNPM         = "npm-token"    // npm_
	RulePrivateKey  = "private-key"  // -----BEGIN ... PRIVATE KEY-----
	RuleURLUserinfo = "url-password" // scheme://user:PASSWORD@host
	RuleQuery       = "url-query"    // ?token=... and &password=... in a URL or query string
	RuleKeyValue    = "key-value"    // password=..., "secret": "..." in free text
	RulePathToken   = "path-token"   // /reset/<token>, /invite/<token>
	RuleEmail       = "email"        // with Options.Emails
	RuleIP          = "ip"           // with Options.TruncateIPs (a truncation, not a marker)
)

// rules lists every rule, for the counters.
var rules = [...]string{
	RuleKey, RuleBearer, RuleBasic, RuleJWT, RuleCard, RuleAWS, RuleGitHub,
	RuleGitLab, RuleSlack, RuleStripe, RuleGoogle, RuleSKKey, RuleSendGrid,
	RuleNPM, RulePrivateKey, RuleURLUserinfo, RuleQuery, RuleKeyValue,
	RulePathToken, RuleEmail, RuleIP,
}

// Rules returns the names of every rule.
func Rules() []string { return append([]string(nil), rules[:]...) }

func ruleIndex(name string) int {
	for i, r := range rules {
		if r == name {
			return i
		}
	}
	return -1
}

// Marker returns the text that replaces what rule removed:
// "[REDACTED:rule]".
func Marker(rule string) string { return "[REDACTED:" + rule + "]" }

// DefaultKeys are the keys whose values are always secret. A key matches
// when, split into lower-case words (at punctuation and camelCase
// boundaries), it contains the words of an entry in order, is the entry
// written without separators, or has a word that ends with a one-word
// entry: "password" matches "user_password", "newPassword", "DB.PASSWORD"
// and "userpassword"; "api_key" matches "X-Api-Key" and "apikey"; "token"
// matches "csrf_token" and "accesstoken" but not "max_tokens".
var DefaultKeys = []string{
	"password", "passwd", "pwd", "passphrase", "secret", "token",
	"access_token", "refresh_token", "id_token", "api_key", "apikey",
	"access_key", "secret_key", "private_key", "client_secret",
	"authorization", "proxy_authorization", "cookie", "set_cookie",
	"session", "sessionid", "credential", "credentials", "csrf", "xsrf",
	"otp", "cvv", "cvc", "card_number", "ssn", "signature",
}

// Options change what a Redactor removes. The zero value is the default.
type Options struct {
	// Keys replaces DefaultKeys when not nil.
	Keys []string
	// ExtraKeys are added to the key list.
	ExtraKeys []string
	// AllowKeys are keys never redacted by key, matched exactly after
	// lower-casing (for example "token_count" if "token" catches it).
	AllowKeys []string
	// DisableRules turns value rules off by name (RuleCard, RuleJWT, ...).
	// RuleKey cannot be disabled here: use Keys.
	DisableRules []string
	// Emails replaces e-mail addresses in text with "[REDACTED:email]".
	Emails bool
	// TruncateIPs keeps only the network of IP addresses: the /24 of an
	// IPv4 address (203.0.113.0), the /48 of an IPv6 one (2001:db8:1::).
	// It applies to whole values that are an address (the client IP
	// column) and to IPv4 addresses inside text.
	TruncateIPs bool
}

// Redactor removes secrets from keys and values. Create one with New or
// use Default.
type Redactor struct {
	keys     [][]string // each entry's words
	joined   map[string]bool
	single   []string // one-word entries, for the suffix match
	allow    map[string]bool
	disabled [len(rules)]bool
	emails   bool
	ips      bool
	off      bool

	counts [len(rules)]atomic.Int64
	cache  keyCache
}

// keyCache remembers Key's answers. Reads use an immutable map behind an
// atomic pointer (a plain map lookup, about half of sync.Map's cost: the
// handler asks for every attribute); new answers collect in a locked map
// that is merged into a new snapshot every promoteEvery entries.
type keyCache struct {
	snap  atomic.Pointer[map[string]bool]
	mu    sync.Mutex
	dirty map[string]bool
	size  int
}

const promoteEvery = 32

func (c *keyCache) load(key string) (hit, ok bool) {
	if m := c.snap.Load(); m != nil {
		if hit, ok = (*m)[key]; ok {
			return hit, true
		}
	}
	c.mu.Lock()
	hit, ok = c.dirty[key]
	c.mu.Unlock()
	return hit, ok
}

func (c *keyCache) store(key string, hit bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.size >= maxCached {
		return
	}
	if c.dirty == nil {
		c.dirty = map[string]bool{}
	}
	if _, ok := c.dirty[key]; ok {
		return
	}
	c.dirty[strings.Clone(key)] = hit
	c.size++
	if len(c.dirty) < promoteEvery && c.size > promoteEvery {
		return
	}
	m := map[string]bool{}
	if old := c.snap.Load(); old != nil {
		for k, v := range *old {
			m[k] = v
		}
	}
	for k, v := range c.dirty {
		m[k] = v
	}
	c.snap.Store(&m)
	c.dirty = nil
}

// maxCached bounds the key cache; keys past it are matched each time.
const maxCached = 8192

// New returns a Redactor configured by o.
func New(o Options) *Redactor {
	r := &Redactor{joined: map[string]bool{}, allow: map[string]bool{}, emails: o.Emails, ips: o.TruncateIPs}
	keys := o.Keys
	if keys == nil {
		keys = DefaultKeys
	}
	for _, k := range append(append([]string(nil), keys...), o.ExtraKeys...) {
		w := words(k)
		if len(w) == 0 {
			continue
		}
		r.keys = append(r.keys, w)
		r.joined[strings.Join(w, "")] = true
		if len(w) == 1 {
			r.single = append(r.single, w[0])
		}
	}
	for _, k := range o.AllowKeys {
		r.allow[strings.ToLower(k)] = true
	}
	for _, name := range o.DisableRules {
		if i := ruleIndex(name); i >= 0 && name != RuleKey {
			r.disabled[i] = true
		}
	}
	return r
}

var (
	defaultOnce sync.Once
	defaultR    *Redactor
	disabled    = &Redactor{off: true}
)

// Default returns the shared Redactor with the default options: the
// default keys and every value rule, no e-mail or IP rule. Its counts
// add up everything redacted through it in the process.
func Default() *Redactor {
	defaultOnce.Do(func() { defaultR = New(Options{}) })
	return defaultR
}

// Disabled returns a Redactor that changes nothing, for turning redaction
// off where a nil *Redactor means "the default".
func Disabled() *Redactor { return disabled }

// Enabled reports whether r redacts anything.
func (r *Redactor) Enabled() bool { return r != nil && !r.off }

// count adds one to rule's counter.
func (r *Redactor) count(rule int) { r.counts[rule].Add(1) }

func (r *Redactor) on(rule int) bool { return !r.disabled[rule] }

// Counts returns how many values each rule replaced since r was made; rules
// that never matched are left out.
func (r *Redactor) Counts() map[string]int64 {
	m := map[string]int64{}
	if r == nil {
		return m
	}
	for i := range r.counts {
		if n := r.counts[i].Load(); n > 0 {
			m[rules[i]] = n
		}
	}
	return m
}

// Total returns the sum of Counts.
func (r *Redactor) Total() int64 {
	if r == nil {
		return 0
	}
	var n int64
	for i := range r.counts {
		n += r.counts[i].Load()
	}
	return n
}

// Key reports whether the value of key is secret and must be replaced
// whole. It does not count anything.
func (r *Redactor) Key(key string) bool {
	if !r.Enabled() || key == "" {
		return false
	}
	if hit, ok := r.cache.load(key); ok {
		return hit
	}
	hit := r.matchKey(key)
	r.cache.store(key, hit)
	return hit
}

func (r *Redactor) matchKey(key string) bool {
	if len(r.allow) > 0 && r.allow[strings.ToLower(key)] {
		return false
	}
	kw := words(key)
	if len(kw) == 0 {
		return false
	}
	if r.joined[strings.Join(kw, "")] {
		return true
	}
	for _, w := range kw {
		if r.joined[w] {
			return true
		}
		for _, s := range r.single {
			if len(w) > len(s) && strings.HasSuffix(w, s) {
				return true
			}
		}
	}
	for _, rw := range r.keys {
		if containsSeq(kw, rw) {
			return true
		}
	}
	return false
}

// containsSeq reports whether sub occurs in s as consecutive elements.
func containsSeq(s, sub []string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		ok := true
		for j := range sub {
			if s[i+j] != sub[j] {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// words splits a key into lower-case words at every character that is not
// a letter or digit and where a lower-case letter or digit is followed by
// an upper-case one ("newPassword" -> new, password; "X-API-Key" -> x,
// api, key).
func words(key string) []string {
	var out []string
	start := -1
	flush := func(end int) {
		if start >= 0 && end > start {
			out = append(out, strings.ToLower(key[start:end]))
		}
		start = -1
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case isAlnum(c) || c >= 0x80:
			if start >= 0 && isUpper(c) && i > 0 && (isLower(key[i-1]) || isDigit(key[i-1])) {
				flush(i)
			}
			if start < 0 {
				start = i
			}
		default:
			flush(i)
		}
	}
	flush(len(key))
	return out
}

func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }
func isLower(c byte) bool { return c >= 'a' && c <= 'z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAlnum(c byte) bool { return isUpper(c) || isLower(c) || isDigit(c) }

// Value returns v with secrets removed, for a value about to be logged
// under key: the marker if key is secret; for a string, String's result;
// for maps and slices (as decoded from JSON: map[string]any, []any,
// map[string]string, []string), a redacted copy; any other value as is.
// It is what audit diffs use for before/after values.
func (r *Redactor) Value(key string, v any) any {
	if !r.Enabled() {
		return v
	}
	if r.Key(key) && v != nil {
		r.count(0)
		return Marker(RuleKey)
	}
	switch x := v.(type) {
	case string:
		return r.String(x)
	case []byte:
		return r.JSON(x)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = r.Value(k, e)
		}
		return out
	case map[string]string:
		out := make(map[string]string, len(x))
		for k, e := range x {
			out[k] = r.Value(k, e).(string)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = r.Value("", e)
		}
		return out
	case []string:
		out := make([]string, len(x))
		for i, e := range x {
			out[i] = r.String(e)
		}
		return out
	}
	return v
}
