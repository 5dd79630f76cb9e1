package sidelog

import (
	"encoding/json"
	"log/slog"
	"time"
)

// Kind says what produced a record.
type Kind uint8

// The kinds of record. KindApp is the zero value: an ordinary log line.
const (
	KindApp      Kind = iota // an application log line
	KindRequest              // one HTTP request, written by the middleware
	KindAudit                // a change to business data
	KindSecurity             // a login, a denial, an access to the logs
)

var kindNames = [...]string{"app", "request", "audit", "security"}

// String returns the kind's lowercase name ("app", "request", ...).
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// ParseKind returns the kind named s (as printed by String).
func ParseKind(s string) (Kind, error) {
	for i, n := range kindNames {
		if n == s {
			return Kind(i), nil
		}
	}
	return 0, Errorf(EINVALID, "unknown kind %q (want app, request, audit or security)", s)
}

// MarshalText implements encoding.TextMarshaler.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (k *Kind) UnmarshalText(b []byte) error {
	v, err := ParseKind(string(b))
	if err != nil {
		return err
	}
	*k = v
	return nil
}

// Kinds lists every kind in order.
func Kinds() []Kind { return []Kind{KindApp, KindRequest, KindAudit, KindSecurity} }

// Record is one row of the log database: the Go form of the design's
// SystemLog. Often-queried values have their own field; everything else is
// in Attrs, a JSON object. References into the business database (UserID,
// TenantID) are plain strings without constraints.
type Record struct {
	// ID is assigned by the store when the record is written; it is unique
	// within one log database and grows with insertion order.
	ID        int64         `json:"id,omitempty"`
	Time      time.Time     `json:"time"`
	Level     slog.Level    `json:"level"`
	Kind      Kind          `json:"kind"`
	Logger    string        `json:"logger,omitempty"` // logger name or source location
	Message   string        `json:"msg"`
	RequestID string        `json:"request_id,omitempty"`
	TraceID   string        `json:"trace_id,omitempty"`
	SpanID    string        `json:"span_id,omitempty"`
	UserID    string        `json:"user_id,omitempty"`
	TenantID  string        `json:"tenant_id,omitempty"`
	Method    string        `json:"method,omitempty"`
	Path      string        `json:"path,omitempty"`
	Route     string        `json:"route,omitempty"`
	Status    int           `json:"status,omitempty"`
	Duration  time.Duration `json:"duration,omitempty"`
	ClientIP  string        `json:"client_ip,omitempty"`
	UserAgent string        `json:"user_agent,omitempty"`
	Error     string        `json:"error,omitempty"`
	// Attrs is a JSON object of the remaining attributes, or nil.
	Attrs json.RawMessage `json:"attrs,omitempty"`
}
