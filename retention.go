package sidelog

import (
	"fmt"
	"time"
)

// Day is 24 hours, the unit retention is usually written in.
const Day = 24 * time.Hour

// Retention says how long records are kept. A zero age keeps records
// forever.
type Retention struct {
	// MaxAge is the age after which records of each level class (debug,
	// info, warn, error; see LevelClass) are removed.
	MaxAge [4]time.Duration
	// AuditAge applies to audit and security records whatever their level;
	// they are never removed to meet MaxBytes.
	AuditAge time.Duration
	// MaxBytes bounds the database's size on disk; when it is exceeded the
	// oldest days' other records are removed. Zero means no bound.
	MaxBytes int64
	// KeepUnshipped keeps records that a follower (a shipper, see package
	// ship) has not read and had acknowledged yet past their age, while
	// the database is smaller than UnshippedMaxBytes. Beyond that bound
	// the oldest are removed like any other and counted as lost. MaxBytes
	// still applies to them.
	KeepUnshipped bool `json:",omitempty"`
	// UnshippedMaxBytes bounds the database's size while records are held
	// for a follower; 0 means DefaultUnshippedMaxBytes.
	UnshippedMaxBytes int64 `json:",omitempty"`
}

// DefaultUnshippedMaxBytes is the size up to which records not yet shipped
// are kept past their age when Retention.KeepUnshipped is set: 1 GiB.
const DefaultUnshippedMaxBytes = 1 << 30

// DefaultRetention keeps debug records 7 days, info 30, warn 90, error and
// audit/security 365, with no size bound.
func DefaultRetention() Retention {
	return Retention{
		MaxAge:   [4]time.Duration{7 * Day, 30 * Day, 90 * Day, 365 * Day},
		AuditAge: 365 * Day,
	}
}

// Validate reports a policy with negative values.
func (r Retention) Validate() error {
	for i, a := range r.MaxAge {
		if a < 0 {
			return Errorf(EINVALID, "retention for level class %d is negative", i)
		}
	}
	if r.AuditAge < 0 || r.MaxBytes < 0 || r.UnshippedMaxBytes < 0 {
		return Errorf(EINVALID, "retention values must not be negative")
	}
	return nil
}

// String describes the policy in one line.
func (r Retention) String() string {
	age := func(d time.Duration) string {
		if d == 0 {
			return "forever"
		}
		if d%Day == 0 {
			return fmt.Sprintf("%dd", d/Day)
		}
		return d.String()
	}
	s := fmt.Sprintf("debug %s, info %s, warn %s, error %s, audit/security %s",
		age(r.MaxAge[0]), age(r.MaxAge[1]), age(r.MaxAge[2]), age(r.MaxAge[3]), age(r.AuditAge))
	if r.MaxBytes > 0 {
		s += fmt.Sprintf(", at most %d MiB", r.MaxBytes>>20)
	}
	if r.KeepUnshipped {
		b := r.UnshippedMaxBytes
		if b == 0 {
			b = DefaultUnshippedMaxBytes
		}
		s += fmt.Sprintf(", unshipped kept up to %d MiB", b>>20)
	}
	return s
}
