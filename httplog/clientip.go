package httplog

import (
	"net/http"
	"net/netip"
	"strings"
)

// maxForwardedHops bounds the X-Forwarded-For elements examined for one
// request, so a huge header costs no more than a normal one.
const maxForwardedHops = 32

// ClientIP returns the address of the client that sent r. It is the peer's
// address (r.RemoteAddr) unless the peer is inside one of the trusted
// prefixes; then X-Forwarded-For is walked from right to left, skipping
// trusted hops, and the first untrusted address is the client. A header
// sent by an untrusted peer is never read, so it cannot be spoofed from
// outside. Garbage in the header stops the walk at the last trusted hop;
// when every hop is trusted the leftmost one is returned. IPv4-mapped IPv6
// addresses are unmapped and zones dropped. The zero Addr is returned when
// RemoteAddr is not an IP address (a Unix socket, for example).
func ClientIP(r *http.Request, trusted []netip.Prefix) netip.Addr {
	peer, ok := parseAddr(r.RemoteAddr)
	if !ok || !isTrusted(peer, trusted) {
		return peer
	}
	client, hops := peer, 0
	vals := r.Header.Values("X-Forwarded-For")
	for i := len(vals) - 1; i >= 0; i-- {
		v := vals[i]
		for v != "" {
			elem := v
			if j := strings.LastIndexByte(v, ','); j >= 0 {
				elem, v = v[j+1:], v[:j]
			} else {
				v = ""
			}
			elem = strings.TrimSpace(elem)
			if elem == "" {
				continue
			}
			if hops++; hops > maxForwardedHops {
				return client
			}
			a, ok := parseAddr(elem)
			if !ok {
				return client
			}
			client = a
			if !isTrusted(a, trusted) {
				return a
			}
		}
	}
	return client
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// parseAddr reads an address in any form a RemoteAddr or a forwarding
// proxy writes: "1.2.3.4", "1.2.3.4:80", "::1", "[::1]" or "[::1]:80".
func parseAddr(s string) (netip.Addr, bool) {
	if len(s) == 0 || len(s) > 64 {
		return netip.Addr{}, false
	}
	if s[0] == '[' && s[len(s)-1] == ']' {
		s = s[1 : len(s)-1]
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		ap, err := netip.ParseAddrPort(s)
		if err != nil {
			return netip.Addr{}, false
		}
		a = ap.Addr()
	}
	return a.Unmap().WithZone(""), true
}
