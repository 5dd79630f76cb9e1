package httplog

import (
	"context"
	"math/rand/v2"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/sidelog/sidelog"
)

// MaxRequestIDLen is the longest incoming request id accepted.
const MaxRequestIDLen = 64

// idAlphabet is Crockford's base32 in lower case. Its characters are in
// ASCII order, so ids generated later sort after earlier ones.
const idAlphabet = "0123456789abcdefghjkmnpqrstvwxyz"

// idLen is the length of a generated id: 10 characters for 48 bits of
// milliseconds and 13 for 64 random bits.
const idLen = 23

// NewRequestID returns a new request id: 23 URL-safe characters, the first
// ten of which encode the current Unix time in milliseconds. The time
// prefix keeps the store's request_id index append-mostly; the 64 random
// bits keep ids unique across processes.
func NewRequestID() string { return newRequestID(time.Now()) }

func newRequestID(t time.Time) string {
	var b [idLen]byte
	ms := uint64(t.UnixMilli()) & (1<<48 - 1)
	for i := 9; i >= 0; i-- {
		b[i] = idAlphabet[ms&31]
		ms >>= 5
	}
	r := rand.Uint64()
	for i := idLen - 1; i >= 10; i-- {
		b[i] = idAlphabet[r&31]
		r >>= 5
	}
	return string(b[:])
}

// idChars marks the bytes allowed in an incoming request id.
var idChars = func() (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = true, true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for _, c := range "._:-" {
		t[c] = true
	}
	return t
}()

// ValidRequestID reports whether s is acceptable as an incoming request id:
// 1 to MaxRequestIDLen characters from [A-Za-z0-9._:-].
func ValidRequestID(s string) bool {
	if len(s) == 0 || len(s) > MaxRequestIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !idChars[s[i]] {
			return false
		}
	}
	return true
}

// sanitizeRejected returns a rejected id in a form safe to store and show:
// at most MaxRequestIDLen bytes of it (cut on a rune boundary), with
// control, non-ASCII and invalid bytes escaped Go-style.
func sanitizeRejected(s string) string {
	if len(s) > MaxRequestIDLen {
		cut := MaxRequestIDLen
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	q := strconv.QuoteToASCII(s)
	return q[1 : len(q)-1]
}

// RequestID returns the id of the request ctx belongs to, or "" when ctx
// is not a request's context. It reads the scope that the middleware
// attaches with sidelog.WithRequest.
func RequestID(ctx context.Context) string {
	return sidelog.ScopeFrom(ctx).RequestID
}
