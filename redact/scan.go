package redact

import (
	"encoding/base64"
	"net/netip"
	"strings"
)

// scanner builds the redacted copy of one string. out stays nil until the
// first replacement, so a string without secrets costs no allocation.
type scanner struct {
	r    *Redactor
	s    string
	out  []byte
	last int // s[last:] is not yet copied to out
}

// replace puts the marker of rule in place of s[i:j].
func (sc *scanner) replace(i, j, rule int) {
	sc.replaceWith(i, j, rule, Marker(rules[rule]))
}

func (sc *scanner) replaceWith(i, j, rule int, repl string) {
	if sc.out == nil {
		sc.out = make([]byte, 0, len(sc.s)+16)
	}
	sc.out = append(sc.out, sc.s[sc.last:i]...)
	sc.out = append(sc.out, repl...)
	sc.last = j
	sc.r.count(rule)
}

func (sc *scanner) result() string {
	if sc.out == nil {
		return sc.s
	}
	return string(append(sc.out, sc.s[sc.last:]...))
}

// String returns s with every secret the value rules recognise replaced by
// its marker. It returns s itself when nothing matched.
func (r *Redactor) String(s string) string {
	if !r.Enabled() || len(s) < 3 {
		return s
	}
	sc := scanner{r: r, s: s}
	for i := 0; i < len(s); {
		c := s[i]
		if !trigger[c] || anywhere[c] == 0 && i > 0 && isTokenByte(s[i-1]) {
			// Not a rule's first byte, or inside a word where only the
			// separators' rules start.
			i++
			continue
		}
		if j := sc.at(i); j > i {
			i = j
			continue
		}
		i++
	}
	return sc.result()
}

// trigger marks the bytes where a rule may start.
var trigger = func() (t [256]bool) {
	for _, c := range "0123456789BbeAgxsrwSn-:=@/" {
		t[c] = true
	}
	return t
}()

// anywhere marks the trigger bytes whose rules start inside a word too.
var anywhere = func() (t [256]byte) {
	for _, c := range ":=@/" {
		t[c] = 1
	}
	return t
}()

// at tries every rule that can start at s[i] and returns the index after
// the replaced text, or i if nothing matched.
func (sc *scanner) at(i int) int {
	s, r := sc.s, sc.r
	c := s[i]
	boundary := i == 0 || !isTokenByte(s[i-1])
	switch {
	case c == '=' || c == ':':
		return sc.keyValue(i)
	case c == '/':
		if r.on(iPathToken) {
			return sc.pathToken(i)
		}
		return i
	case c == '@':
		if r.emails && r.on(iEmail) {
			return sc.email(i)
		}
		return i
	case !boundary:
		return i
	case isDigit(c):
		if j := sc.card(i); j > i {
			return j
		}
		if r.ips && r.on(iIP) {
			return sc.ipv4(i)
		}
		return i
	case c == 'B' || c == 'b':
		if j := sc.scheme(i, "bearer", iBearer); j > i {
			return j
		}
		return sc.scheme(i, "basic", iBasic)
	case c == '-':
		return sc.privateKey(i)
	}
	if c == 'e' && strings.HasPrefix(s[i:], "eyJ") && r.on(iJWT) {
		if j := jwtEnd(s, i); j > i {
			sc.replace(i, j, iJWT)
			return j
		}
	}
	for _, p := range prefixesByByte[c] {
		if strings.HasPrefix(s[i:], p.s) && r.on(p.rule) {
			if j := p.match(s, i); j > i {
				sc.replace(i, j, p.rule)
				return j
			}
		}
	}
	return i
}

// Rule indexes, in the order of rules.
var (
	iKey        = ruleIndex(RuleKey)
	iBearer     = ruleIndex(RuleBearer)
	iBasic      = ruleIndex(RuleBasic)
	iJWT        = ruleIndex(RuleJWT)
	iCard       = ruleIndex(RuleCard)
	iPrivateKey = ruleIndex(RulePrivateKey)
	iUserinfo   = ruleIndex(RuleURLUserinfo)
	iQuery      = ruleIndex(RuleQuery)
	iKeyValue   = ruleIndex(RuleKeyValue)
	iPathToken  = ruleIndex(RulePathToken)
	iEmail      = ruleIndex(RuleEmail)
	iIP         = ruleIndex(RuleIP)
)

// isTokenByte reports whether c can be part of a token: letters, digits
// and the URL-safe punctuation of base64 and JWTs.
func isTokenByte(c byte) bool { return isAlnum(c) || c == '_' || c == '-' }

// prefix is a key format recognised by its fixed prefix followed by at
// least min characters of a set, and nothing of that set after.
type prefix struct {
	s     string
	rule  int
	min   int
	chars func(byte) bool
}

func (p prefix) match(s string, i int) int {
	j := i + len(p.s)
	for j < len(s) && p.chars(s[j]) {
		j++
	}
	if j-i-len(p.s) < p.min || j < len(s) && isAlnum(s[j]) {
		return i
	}
	return j
}

func upperDigit(c byte) bool   { return isUpper(c) || isDigit(c) }
func alnumUnder(c byte) bool   { return isAlnum(c) || c == '_' }
func alnumDash(c byte) bool    { return isAlnum(c) || c == '-' }
func base64URL(c byte) bool    { return isAlnum(c) || c == '-' || c == '_' }
func sendgridByte(c byte) bool { return base64URL(c) || c == '.' }

var prefixes = func() []prefix {
	var ps []prefix
	add := func(rule string, min int, chars func(byte) bool, ss ...string) {
		for _, s := range ss {
			ps = append(ps, prefix{s: s, rule: ruleIndex(rule), min: min, chars: chars})
		}
	}
	add(RuleAWS, 16, upperDigit, "AKIA", "ASIA", "AGPA", "AIDA", "AROA", "ANPA", "ANVA", "AIPA", "ABIA", "ACCA")
	add(RuleGitHub, 30, isAlnum, "ghp_", "gho_", "ghu_", "ghs_", "ghr_")
	add(RuleGitHub, 22, alnumUnder, "github_pat_")
	add(RuleGitLab, 20, base64URL, "glpat-")
	add(RuleSlack, 10, alnumDash, "xoxb-", "xoxp-", "xoxa-", "xoxo-", "xoxr-", "xoxs-", "xapp-")
	add(RuleStripe, 16, isAlnum, "sk_live_", "sk_test_", "rk_live_", "rk_test_", "whsec_")
	add(RuleGoogle, 30, base64URL, "AIza")
	add(RuleSKKey, 20, base64URL, "sk-")
	add(RuleSendGrid, 40, sendgridByte, "SG.")
	add(RuleNPM, 30, isAlnum, "npm_")
	return ps
}()

// prefixesByByte lists the prefixes by their first byte.
var prefixesByByte = func() (t [256][]prefix) {
	for _, p := range prefixes {
		t[p.s[0]] = append(t[p.s[0]], p)
	}
	return t
}()

// jwtEnd returns the end of a JWT starting at s[i] ("eyJ" + base64url,
// a dot, base64url, a dot, an optional signature), or i.
func jwtEnd(s string, i int) int {
	j := i
	for part := 0; part < 3; part++ {
		k := j
		for k < len(s) && base64URL(s[k]) {
			k++
		}
		if part < 2 && (k-j < 4 || k >= len(s) || s[k] != '.') {
			return i
		}
		j = k
		if part < 2 {
			j++ // the dot
		}
	}
	return j
}

// scheme redacts the credentials after an HTTP authentication scheme
// name ("Bearer abc", "Basic dXNlcjpwYXNz"), keeping the name.
func (sc *scanner) scheme(i int, name string, rule int) int {
	s := sc.s
	if !sc.r.on(rule) || len(s)-i < len(name)+2 || !strings.EqualFold(s[i:i+len(name)], name) {
		return i
	}
	j := i + len(name)
	if s[j] != ' ' && s[j] != '\t' {
		return i
	}
	for j < len(s) && (s[j] == ' ' || s[j] == '\t') {
		j++
	}
	k := j
	for k < len(s) && (base64URL(s[k]) || strings.IndexByte(".~+/=", s[k]) >= 0) {
		k++
	}
	if k-j < 6 {
		return i
	}
	if rule == iBasic {
		dec, err := base64.StdEncoding.DecodeString(s[j:k])
		if err != nil || strings.IndexByte(string(dec), ':') < 0 {
			return i
		}
	}
	sc.replace(j, k, rule)
	return k
}

// privateKey redacts a PEM private key block, to its END line or the end
// of the text.
func (sc *scanner) privateKey(i int) int {
	s := sc.s
	const begin = "-----BEGIN "
	if !sc.r.on(iPrivateKey) || !strings.HasPrefix(s[i:], begin) {
		return i
	}
	eol := strings.Index(s[i+len(begin):], "-----")
	if eol < 0 || !strings.HasSuffix(s[i+len(begin):i+len(begin)+eol], "PRIVATE KEY") {
		return i
	}
	j := len(s)
	if end := strings.Index(s[i+len(begin):], "-----END "); end >= 0 {
		j = i + len(begin) + end + len("-----END ")
		if e := strings.Index(s[j:], "-----"); e >= 0 {
			j += e + 5
		} else {
			j = len(s)
		}
	}
	sc.replace(i, j, iPrivateKey)
	return j
}

// card redacts a run of 13 to 19 digits, optionally grouped by single
// spaces or dashes, that starts like a payment card number and passes the
// Luhn check.
func (sc *scanner) card(i int) int {
	s := sc.s
	if !sc.r.on(iCard) {
		return i
	}
	// Collect up to 19 digits and the ends of their groups; then try the
	// longest group end that is a whole card number.
	var digits [19]byte
	var ends [19]struct{ n, end int }
	n, groups, j := 0, 0, i
	for j < len(s) && n < len(digits) {
		if isDigit(s[j]) {
			digits[n] = s[j] - '0'
			n++
			j++
			continue
		}
		if (s[j] == ' ' || s[j] == '-') && j+1 < len(s) && isDigit(s[j+1]) {
			ends[groups] = struct{ n, end int }{n, j}
			groups++
			j++
			continue
		}
		break
	}
	if j == len(s) || !isDigit(s[j]) {
		ends[groups] = struct{ n, end int }{n, j}
		groups++
	}
	for g := groups - 1; g >= 0; g-- {
		n, end := ends[g].n, ends[g].end
		if n < 13 {
			break
		}
		if end < len(s) && (isAlnum(s[end]) || s[end] == '.' && end+1 < len(s) && isDigit(s[end+1])) {
			continue
		}
		if cardPrefix(digits[:n]) && luhn(digits[:n]) {
			sc.replace(i, end, iCard)
			return end
		}
	}
	return i
}

// cardPrefix reports whether d starts like a card of a major network
// (Visa, Mastercard, American Express, Discover, JCB, Diners, UnionPay).
func cardPrefix(d []byte) bool {
	p2 := int(d[0])*10 + int(d[1])
	p4 := p2*100 + int(d[2])*10 + int(d[3])
	switch {
	case d[0] == 4:
		return true
	case p2 >= 51 && p2 <= 55, p4 >= 2221 && p4 <= 2720:
		return len(d) == 16
	case p2 == 34 || p2 == 37:
		return len(d) == 15
	case p2 == 30 || p2 == 36 || p2 == 38 || p2 == 35:
		return len(d) >= 14
	case p2 == 60 || p2 == 62 || p2 == 64 || p2 == 65:
		return len(d) >= 16
	}
	return false
}

// luhn reports whether the digits d pass the Luhn check.
func luhn(d []byte) bool {
	sum := 0
	for k := 0; k < len(d); k++ {
		x := int(d[len(d)-1-k])
		if k%2 == 1 {
			x *= 2
			if x > 9 {
				x -= 9
			}
		}
		sum += x
	}
	return sum%10 == 0
}

// keyValue handles the separator at s[i] ('=' or ':'): a URL's userinfo
// ("://user:pass@"), or a value after a secret key ("password=x",
// "?token=x&", `"secret": "x"`, "api_key: x").
func (sc *scanner) keyValue(i int) int {
	s := sc.s
	if s[i] == ':' && strings.HasPrefix(s[i:], "://") {
		return sc.userinfo(i + 3)
	}
	// The key before the separator, maybe quoted.
	k := i
	quoted := k > 0 && (s[k-1] == '"' || s[k-1] == '\'')
	if quoted {
		k--
	}
	ke := k
	for k > 0 && (isTokenByte(s[k-1]) || s[k-1] == '.' || s[k-1] >= 0x80) {
		k--
	}
	if k == ke || !sc.r.Key(s[k:ke]) {
		return i
	}
	if quoted && (k == 0 || s[k-1] != s[ke]) {
		return i
	}
	rule := iKeyValue
	if k > 0 && (s[k-1] == '?' || s[k-1] == '&') && s[i] == '=' {
		rule = iQuery
	}
	if !sc.r.on(rule) {
		return i
	}
	// The value: skip blanks after ':', then a quoted string or a run up
	// to a delimiter.
	j := i + 1
	for s[i] == ':' && j < len(s) && (s[j] == ' ' || s[j] == '\t') {
		j++
	}
	if strings.HasPrefix(s[j:], "[REDACTED:") {
		return i // already redacted
	}
	if j < len(s) && (s[j] == '"' || s[j] == '\'') {
		if strings.HasPrefix(s[j+1:], "[REDACTED:") {
			return i
		}
		q := s[j]
		e := j + 1
		for e < len(s) && s[e] != q {
			if s[e] == '\\' {
				e++
			}
			e++
		}
		e = min(e, len(s))
		if e == j+1 {
			return i
		}
		sc.replace(j+1, e, rule)
		return e
	}
	e := j
	for e < len(s) && !isValueEnd(s[e]) {
		e++
	}
	if e == j {
		return i
	}
	if authSchemes[strings.ToLower(s[j:e])] && e+1 < len(s) && s[e] == ' ' {
		// "Authorization: Bearer abc": the credentials are the next word.
		e++
		for e < len(s) && !isValueEnd(s[e]) {
			e++
		}
	}
	sc.replace(j, e, rule)
	return e
}

// authSchemes are HTTP authentication schemes, whose credentials follow
// after a space.
var authSchemes = map[string]bool{"bearer": true, "basic": true, "token": true, "digest": true, "negotiate": true, "apikey": true}

// isValueEnd reports whether c ends an unquoted value.
func isValueEnd(c byte) bool {
	switch c {
	case '&', ' ', '\t', '\n', '\r', ';', ',', '"', '\'', '<', '>', ')', ']', '}', '#':
		return true
	}
	return false
}

// userinfo redacts the password of "user:password@" starting at s[i],
// just after "://".
func (sc *scanner) userinfo(i int) int {
	s := sc.s
	if !sc.r.on(iUserinfo) {
		return i
	}
	colon := -1
	for j := i; j < len(s); j++ {
		switch c := s[j]; c {
		case '/', '?', '#', ' ', '\t', '\n', '"', '\'', '<', '>':
			return i
		case ':':
			if colon < 0 {
				colon = j
			}
		case '@':
			if colon < 0 || colon+1 == j {
				return i
			}
			sc.replace(colon+1, j, iUserinfo)
			return j
		}
	}
	return i
}

// pathSegments are URL path segments after which the next segment is a
// secret, compared lower-case without '-' and '_'.
var pathSegments = map[string]bool{
	"reset": true, "passwordreset": true, "resetpassword": true, "password": true,
	"token": true, "tokens": true, "invite": true, "invites": true, "invitation": true,
	"invitations": true, "verify": true, "verification": true, "verifyemail": true,
	"confirm": true, "confirmation": true, "activate": true, "activation": true,
	"magic": true, "magiclink": true, "unsubscribe": true, "apikey": true,
	"apikeys": true, "secret": true, "secrets": true, "share": true, "signin": true,
}

// pathToken redacts the path segment after s[i] ('/') when the segment
// before names a secret ("/reset/<token>") and the segment looks like one:
// at least 6 characters with a digit, or at least 16.
func (sc *scanner) pathToken(i int) int {
	s := sc.s
	// The segment after first (cheaper, and most segments are short
	// words), then the one before.
	j, digit := i+1, false
	for j < len(s) && (base64URL(s[j]) || s[j] == '.' || s[j] == '~' || s[j] == '%' || s[j] == '=') {
		digit = digit || isDigit(s[j])
		j++
	}
	n := j - i - 1
	if n < 6 || !digit && n < 16 {
		return i
	}
	p := i
	for p > 0 && s[p-1] != '/' && s[p-1] != ' ' && i-p <= 24 {
		p--
	}
	if p == i || p == 0 || s[p-1] != '/' || !pathSegments[normSegment(s[p:i])] {
		return i
	}
	sc.replace(i+1, j, iPathToken)
	return j
}

func normSegment(seg string) string {
	if len(seg) > 24 {
		return ""
	}
	var b [24]byte
	n := 0
	for k := 0; k < len(seg); k++ {
		c := seg[k]
		switch {
		case c == '-' || c == '_':
			continue
		case isUpper(c):
			c += 'a' - 'A'
		}
		b[n] = c
		n++
	}
	return string(b[:n])
}

// email replaces the address around the '@' at s[i]. The local part was
// already copied, so the marker covers from its start.
func (sc *scanner) email(i int) int {
	s := sc.s
	k := i
	for k > sc.last && (isAlnum(s[k-1]) || strings.IndexByte("._%+-", s[k-1]) >= 0) {
		k--
	}
	if k == i {
		return i
	}
	j, dot := i+1, -1
	for j < len(s) && (isAlnum(s[j]) || s[j] == '-' || s[j] == '.') {
		if s[j] == '.' {
			dot = j
		}
		j++
	}
	for j > i+1 && s[j-1] == '.' {
		j--
	}
	if dot < 0 || dot >= j-2 || dot == i+1 {
		return i
	}
	// The local part is in s[sc.last:i], not yet copied: replace from k.
	sc.replace(k, j, iEmail)
	return j
}

// ipv4 truncates a dotted-quad IPv4 address at s[i] to its /24.
func (sc *scanner) ipv4(i int) int {
	s := sc.s
	j := i
	for j < len(s) && (isDigit(s[j]) || s[j] == '.') {
		j++
	}
	if j < len(s) && isAlnum(s[j]) {
		return i
	}
	a, err := netip.ParseAddr(s[i:j])
	if err != nil || !a.Is4() {
		return i
	}
	t := truncate(a).String()
	if t == s[i:j] {
		return j
	}
	sc.replaceWith(i, j, iIP, t)
	return j
}

// truncate keeps the /24 of an IPv4 address and the /48 of an IPv6 one.
func truncate(a netip.Addr) netip.Addr {
	bits := 48
	if a.Is4() || a.Is4In6() {
		a = a.Unmap()
		bits = 24
	}
	p, err := a.Prefix(bits)
	if err != nil {
		return a
	}
	return p.Addr()
}

// IP returns ip truncated to its network when Options.TruncateIPs is set
// and ip is an address; otherwise ip unchanged.
func (r *Redactor) IP(ip string) string {
	if !r.Enabled() || !r.ips || ip == "" {
		return ip
	}
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	t := truncate(a.WithZone("")).String()
	if t != ip {
		r.count(iIP)
	}
	return t
}

// TruncatesIPs reports whether r truncates IP addresses.
func (r *Redactor) TruncatesIPs() bool { return r.Enabled() && r.ips }
