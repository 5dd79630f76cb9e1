package httplog

// ParseTraceparent returns the trace id and parent span id of a W3C Trace
// Context traceparent header value
// ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"), and false
// when the value is malformed: wrong length or separators, upper-case or
// non-hex digits, version ff, or an all-zero trace or span id. Versions
// above 00 are read by their first four fields, as the specification asks.
func ParseTraceparent(s string) (traceID, spanID string, ok bool) {
	const n = 55 // 2 + 1 + 32 + 1 + 16 + 1 + 2
	if len(s) < n || s[2] != '-' || s[35] != '-' || s[52] != '-' {
		return "", "", false
	}
	ver := s[:2]
	if !lowerHex(ver) || ver == "ff" || (ver == "00" && len(s) != n) || (len(s) > n && s[n] != '-') {
		return "", "", false
	}
	traceID, spanID = s[3:35], s[36:52]
	if !lowerHex(traceID) || !lowerHex(spanID) || !lowerHex(s[53:55]) || allZero(traceID) || allZero(spanID) {
		return "", "", false
	}
	return traceID, spanID, true
}

func lowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func allZero(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != '0' {
			return false
		}
	}
	return true
}
