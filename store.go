package sidelog

import (
	"context"
	"iter"
	"time"
)

// BatchWriter stores records. The handler's single writer goroutine is its
// only caller in normal use.
type BatchWriter interface {
	// WriteBatch stores recs, assigning their IDs. Records are committed
	// in one transaction per storage segment (a UTC day), so a batch that
	// spans days may be stored in part when it fails: exactly the records
	// whose ID was set are stored, and a retry should leave them out. Errors that
	// may pass by themselves (a locked or full database) have the code
	// EUNAVAILABLE; records that can never be stored have EINVALID.
	WriteBatch(ctx context.Context, recs []Record) error
}

// Reader answers questions about stored records.
type Reader interface {
	// Query returns one page of the records that match f, newest first.
	// A malformed filter returns EINVALID.
	Query(ctx context.Context, f Filter, p Page) (Result, error)

	// Scan yields every record matching f, oldest first, holding only a
	// bounded number in memory. It is for export and streaming.
	Scan(ctx context.Context, f Filter) iter.Seq2[Record, error]

	// Count returns the number of records matching f.
	Count(ctx context.Context, f Filter) (int64, error)

	// Histogram counts the records matching f by level in buckets of
	// width step, from f.Since to f.Until (both required).
	Histogram(ctx context.Context, f Filter, step time.Duration) ([]Bucket, error)

	// Get returns the record with the given id, or ENOTFOUND.
	Get(ctx context.Context, id int64) (Record, error)
}

// Store is a log database: written by one writer, read by many.
type Store interface {
	BatchWriter
	Reader
}
