package httplog_test

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/httplog"
)

var proxies = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("fd00::/8"),
	netip.MustParsePrefix("203.0.113.5/32"),
}

func TestClientIP(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		remote  string
		xff     []string
		trusted []netip.Prefix
		want    string
	}{
		{"peer only", "192.0.2.1:1234", nil, nil, "192.0.2.1"},
		{"no trusted proxies: header ignored", "192.0.2.1:1234", []string{"1.1.1.1"}, nil, "192.0.2.1"},
		{"spoofed from untrusted peer", "192.0.2.1:1234", []string{"1.1.1.1, 10.0.0.1"}, proxies, "192.0.2.1"},
		{"one trusted proxy", "10.0.0.1:80", []string{"198.51.100.9"}, proxies, "198.51.100.9"},
		{"chain of trusted proxies", "10.0.0.1:80", []string{"6.6.6.6, 198.51.100.9, 203.0.113.5, 10.1.2.3"}, proxies, "198.51.100.9"},
		{"spoof left of the real client ignored", "10.0.0.1:80", []string{"1.2.3.4,198.51.100.9"}, proxies, "198.51.100.9"},
		{"several header lines", "10.0.0.1:80", []string{"6.6.6.6, 198.51.100.9", "10.0.0.2"}, proxies, "198.51.100.9"},
		{"all trusted: leftmost", "10.0.0.1:80", []string{"10.9.9.9, 10.0.0.2"}, proxies, "10.9.9.9"},
		{"trusted peer without header", "10.0.0.1:80", nil, proxies, "10.0.0.1"},
		{"garbage stops at last trusted", "10.0.0.1:80", []string{"1.1.1.1, nonsense, 10.0.0.2"}, proxies, "10.0.0.2"},
		{"unknown stops at peer", "10.0.0.1:80", []string{"unknown"}, proxies, "10.0.0.1"},
		{"empty elements skipped", "10.0.0.1:80", []string{" , 198.51.100.9 ,, "}, proxies, "198.51.100.9"},
		{"element with port", "10.0.0.1:80", []string{"198.51.100.9:4711"}, proxies, "198.51.100.9"},
		{"ipv6 peer", "[2001:db8::1]:443", nil, proxies, "2001:db8::1"},
		{"ipv6 trusted proxy", "[fd00::1]:443", []string{"2001:db8::7"}, proxies, "2001:db8::7"},
		{"ipv6 bracketed with port", "10.0.0.1:80", []string{"[2001:db8::7]:1234"}, proxies, "2001:db8::7"},
		{"ipv6 bracketed", "10.0.0.1:80", []string{"[2001:db8::7]"}, proxies, "2001:db8::7"},
		{"ipv6 zone dropped", "10.0.0.1:80", []string{"fe80::1%eth0"}, proxies, "fe80::1"},
		{"4in6 unmapped", "[::ffff:10.0.0.1]:80", []string{"::ffff:198.51.100.9"}, proxies, "198.51.100.9"},
		{"unix socket peer", "@", []string{"1.1.1.1"}, proxies, ""},
		{"empty remote", "", nil, nil, ""},
		{"huge element", "10.0.0.1:80", []string{strings.Repeat("9", 1<<20)}, proxies, "10.0.0.1"},
		{"too many trusted hops", "10.0.0.1:80", []string{"1.1.1.1," + strings.Repeat("10.0.0.3,", 100)}, proxies, "10.0.0.3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			got := httplog.ClientIP(r, tt.trusted)
			if s := addrString(got); s != tt.want {
				t.Errorf("ClientIP = %q, want %q", s, tt.want)
			}
		})
	}
}

func addrString(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

func TestMiddleware_ClientIP(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "10.0.0.1:80"
	r.Header.Set("X-Forwarded-For", "198.51.100.9")
	_, c := serve(t, httplog.Options{TrustedProxies: proxies}, okHandler, r)
	if got := c.mustOne(t).str(sidelog.KeyClientIP); got != "198.51.100.9" {
		t.Errorf("client_ip = %q", got)
	}
}

func TestParseTraceparent(t *testing.T) {
	t.Parallel()
	const (
		tid = "4bf92f3577b34da6a3ce929d0e0e4736"
		sid = "00f067aa0ba902b7"
	)
	tests := []struct {
		in string
		ok bool
	}{
		{"00-" + tid + "-" + sid + "-01", true},
		{"00-" + tid + "-" + sid + "-00", true},
		{"01-" + tid + "-" + sid + "-01-future", true},
		{"01-" + tid + "-" + sid + "-01", true},
		{"00-" + tid + "-" + sid + "-01-extra", false},
		{"01-" + tid + "-" + sid + "-01extra", false},
		{"ff-" + tid + "-" + sid + "-01", false},
		{"00-" + strings.ToUpper(tid) + "-" + sid + "-01", false},
		{"00-" + strings.Repeat("0", 32) + "-" + sid + "-01", false},
		{"00-" + tid + "-" + strings.Repeat("0", 16) + "-01", false},
		{"00-" + tid + "-" + sid + "-0g", false},
		{"00_" + tid + "-" + sid + "-01", false},
		{"00-" + tid[:31] + "-" + sid + "-01", false},
		{"", false},
		{"garbage", false},
	}
	for _, tt := range tests {
		gotT, gotS, ok := httplog.ParseTraceparent(tt.in)
		if ok != tt.ok || (ok && (gotT != tid || gotS != sid)) {
			t.Errorf("ParseTraceparent(%q) = %q, %q, %v; want ok=%v", tt.in, gotT, gotS, ok, tt.ok)
		}
	}
}

func TestNewRequestID(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	var ids []string
	for range 10000 {
		id := httplog.NewRequestID()
		if seen[id] || !httplog.ValidRequestID(id) || len(id) != 23 {
			t.Fatalf("id %q duplicate or malformed", id)
		}
		seen[id] = true
		ids = append(ids, id)
	}
	// Ids from different milliseconds sort by time.
	time.Sleep(2 * time.Millisecond)
	later := httplog.NewRequestID()
	sort.Strings(ids)
	if later <= ids[len(ids)-1] {
		t.Errorf("later id %q sorts before %q", later, ids[len(ids)-1])
	}
}

// FuzzRequestID checks that any incoming header value leaves a valid id on
// the response and only printable ASCII in the rejected attribute.
func FuzzRequestID(f *testing.F) {
	for _, s := range []string{"", "abc", "a\nb", "héllo", strings.Repeat("x", 70), "\xff\xfe", "a b:c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header["X-Request-Id"] = []string{in}
		w, c := serve(t, httplog.Options{}, okHandler, r)
		id := w.Header().Get("X-Request-ID")
		if !httplog.ValidRequestID(id) {
			t.Fatalf("response id %q invalid", id)
		}
		if httplog.ValidRequestID(in) != (id == in) {
			t.Fatalf("in %q, id %q", in, id)
		}
		rej := c.mustOne(t).str(httplog.KeyRejectedRequestID)
		if len(rej) > 4*httplog.MaxRequestIDLen+8 {
			t.Fatalf("rejected value %d bytes long", len(rej))
		}
		for _, c := range rej {
			if c > unicode.MaxASCII || !unicode.IsPrint(c) {
				t.Fatalf("rejected value %q has %q", rej, c)
			}
		}
	})
}

// FuzzClientIP checks that parsing never fails hard and that an untrusted
// peer's header is never believed.
func FuzzClientIP(f *testing.F) {
	f.Add("10.0.0.1:80", "1.2.3.4, 10.0.0.2")
	f.Add("192.0.2.1:1", "1.2.3.4")
	f.Add("[fd00::1]:1", "[2001:db8::1]:80,fd00::2")
	f.Add("@", "garbage,,,")
	f.Fuzz(func(t *testing.T, remote, xff string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = remote
		r.Header = http.Header{"X-Forwarded-For": {xff}}
		got := httplog.ClientIP(r, proxies)
		none := httplog.ClientIP(r, nil)
		trustedPeer := false
		for _, p := range proxies {
			trustedPeer = trustedPeer || p.Contains(none)
		}
		if !trustedPeer && got != none {
			t.Fatalf("untrusted peer %q: got %v, want the peer %v", remote, got, none)
		}
		if got.IsValid() && !none.IsValid() {
			t.Fatalf("client %v without a valid peer", got)
		}
	})
}
