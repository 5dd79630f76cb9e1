package sidelog

import (
	"log/slog"
	"time"
)

// Filter selects records. Zero fields select everything; set fields are
// combined with AND. String matches are exact unless the field says
// otherwise.
type Filter struct {
	MinLevel *slog.Level // records at or above this level
	MaxLevel *slog.Level // records at or below this level
	Since    time.Time   // records at or after this time
	Until    time.Time   // records before this time
	Kinds    []Kind      // any of these kinds

	Logger    string
	RequestID string
	TraceID   string
	UserID    string
	TenantID  string
	Method    string
	Path      string // a path, or a prefix when it ends in "*"
	ClientIP  string
	MinStatus int // status at or above; 0 for no bound
	MaxStatus int // status at or below; 0 for no bound

	// Text is a full-text query over message, error and the attributes'
	// string values: words that must all occur (in one of the three), a
	// "quoted phrase", or a word* prefix.
	Text string

	// Expr holds what the fields above cannot say: OR, negation,
	// parentheses, lists, attribute terms, has:, route:, durations and
	// other comparisons (see Expr and docs/query.md). nil for none; when
	// set, records must match it too.
	Expr *Expr
}

// Cursor marks a position in the newest-first order of records. The zero
// Cursor is the start (the newest record).
type Cursor struct {
	ID int64 // the last record returned; results continue below it
}

// Page asks for one page of results, newest first.
type Page struct {
	Limit int    // at most this many records; 0 means 50
	After Cursor // continue after this record
}

// Result is one page of records, newest first.
type Result struct {
	Records []Record
	// Next continues the listing; it is the zero Cursor when there is
	// nothing more.
	Next Cursor
}

// Bucket counts records in one interval of a histogram, by level.
type Bucket struct {
	Start time.Time
	// Counts holds the number of records by level class: debug, info,
	// warn, error (anything above error counts as error).
	Counts [4]int64
}

// LevelClass returns 0 for debug and below, 1 for info, 2 for warn and 3 for
// error and above: the classes of histograms and retention.
func LevelClass(l slog.Level) int {
	switch {
	case l < slog.LevelInfo:
		return 0
	case l < slog.LevelWarn:
		return 1
	case l < slog.LevelError:
		return 2
	}
	return 3
}
