// Package export writes log records in the formats operators take elsewhere
// (JSON Lines, CSV, logfmt, Parquet) and reads JSON Lines back for import.
//
// Every writer streams: it holds a bounded number of records in memory
// whatever the size of the export.
package export

import (
	"io"
	"slices"
	"strings"

	"github.com/sidelog/sidelog"
)

// Writer writes records in one format to an underlying io.Writer.
type Writer interface {
	// Write adds one record to the output.
	Write(r sidelog.Record) error
	// Flush passes buffered output on to the underlying writer, so that a
	// reader (a terminal, a pipe) sees every record written so far. For
	// Parquet it ends the current row group.
	Flush() error
	// Close flushes and finishes the output (the Parquet footer, the CSV
	// header of an empty export). It does not close the underlying writer.
	Close() error
}

// The names of the formats.
const (
	FormatJSONL   = "jsonl"
	FormatCSV     = "csv"
	FormatLogfmt  = "logfmt"
	FormatParquet = "parquet"
)

var constructors = map[string]func(io.Writer) Writer{
	FormatJSONL:   func(w io.Writer) Writer { return NewJSONL(w) },
	FormatCSV:     func(w io.Writer) Writer { return NewCSV(w) },
	FormatLogfmt:  func(w io.Writer) Writer { return NewLogfmt(w) },
	FormatParquet: func(w io.Writer) Writer { return NewParquet(w) },
}

// Formats returns the names of the formats NewWriter accepts, sorted.
func Formats() []string {
	names := make([]string, 0, len(constructors))
	for n := range constructors {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// NewWriter returns a Writer for the named format, or an EINVALID error for
// an unknown name.
func NewWriter(format string, w io.Writer) (Writer, error) {
	c, ok := constructors[format]
	if !ok {
		return nil, sidelog.Errorf(sidelog.EINVALID, "unknown export format %q (want %s)", format, strings.Join(Formats(), ", "))
	}
	return c(w), nil
}
