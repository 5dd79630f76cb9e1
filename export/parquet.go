package export

import (
	"io"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/sidelog/sidelog"
)

// RowGroupRows is the number of records in one Parquet row group. A row
// group is held in memory (encoded and compressed) until it is complete,
// so this bounds the export's memory whatever its size.
const RowGroupRows = 64 << 10

// parquetBatch is how many rows are handed to the Parquet writer at once.
const parquetBatch = 1024

// ParquetRow is the flat schema of the Parquet export: the columns of the
// CSV export with their own types. Time is a nanosecond UTC timestamp,
// status, duration and attrs (JSON text) are null when the record has none.
//
// Attrs is a plain optional STRING column, not the JSON logical type: in
// parquet-go v0.32 a *string JSON column is written as all nulls, and an
// optional string JSON column panics while writing page statistics.
type ParquetRow struct {
	ID         int64     `parquet:"id,delta"`
	Time       time.Time `parquet:"time,timestamp(nanosecond),delta"`
	Level      int64     `parquet:"level"`
	LevelName  string    `parquet:"level_name,dict"`
	Kind       string    `parquet:"kind,dict"`
	Logger     string    `parquet:"logger,dict"`
	Message    string    `parquet:"msg"`
	RequestID  string    `parquet:"request_id"`
	TraceID    string    `parquet:"trace_id"`
	SpanID     string    `parquet:"span_id"`
	UserID     string    `parquet:"user_id,dict"`
	TenantID   string    `parquet:"tenant_id,dict"`
	Method     string    `parquet:"method,dict"`
	Path       string    `parquet:"path,dict"`
	Route      string    `parquet:"route,dict"`
	Status     *int32    `parquet:"status,optional"`
	DurationNS *int64    `parquet:"duration_ns,optional"`
	ClientIP   string    `parquet:"client_ip,dict"`
	UserAgent  string    `parquet:"user_agent,dict"`
	Error      string    `parquet:"error"`
	Attrs      string    `parquet:"attrs,optional"`
}

// NewParquetRow returns r as a row of the Parquet export.
func NewParquetRow(r sidelog.Record) ParquetRow {
	row := ParquetRow{
		ID: r.ID, Time: r.Time.UTC(), Level: int64(r.Level), LevelName: r.Level.String(),
		Kind: r.Kind.String(), Logger: r.Logger, Message: r.Message, RequestID: r.RequestID,
		TraceID: r.TraceID, SpanID: r.SpanID, UserID: r.UserID, TenantID: r.TenantID,
		Method: r.Method, Path: r.Path, Route: r.Route, ClientIP: r.ClientIP,
		UserAgent: r.UserAgent, Error: r.Error, Attrs: string(r.Attrs),
	}
	if r.Status != 0 {
		s := int32(r.Status)
		row.Status = &s
	}
	if r.Duration != 0 {
		d := int64(r.Duration)
		row.DurationNS = &d
	}
	return row
}

// Parquet writes records as a Parquet file with the ParquetRow schema,
// zstd-compressed, in row groups of a bounded number of records.
type Parquet struct {
	pw   *parquet.GenericWriter[ParquetRow]
	rows []ParquetRow
}

// NewParquet returns a Parquet writer to w with row groups of RowGroupRows.
func NewParquet(w io.Writer) *Parquet { return NewParquetRowGroups(w, RowGroupRows) }

// NewParquetRowGroups returns a Parquet writer to w with row groups of at
// most rows records.
func NewParquetRowGroups(w io.Writer, rows int) *Parquet {
	pw := parquet.NewGenericWriter[ParquetRow](w,
		parquet.Compression(&parquet.Zstd),
		parquet.MaxRowsPerRowGroup(int64(rows)),
		parquet.CreatedBy("sidelog", "", ""),
	)
	return &Parquet{pw: pw, rows: make([]ParquetRow, 0, parquetBatch)}
}

// Write implements Writer.
func (p *Parquet) Write(r sidelog.Record) error {
	p.rows = append(p.rows, NewParquetRow(r))
	if len(p.rows) < parquetBatch {
		return nil
	}
	return p.writeRows()
}

func (p *Parquet) writeRows() error {
	_, err := p.pw.Write(p.rows)
	clear(p.rows) // drop references to the strings of written rows
	p.rows = p.rows[:0]
	return err
}

// Flush implements Writer: it ends the current row group.
func (p *Parquet) Flush() error {
	if err := p.writeRows(); err != nil {
		return err
	}
	return p.pw.Flush()
}

// Close implements Writer: it writes the last rows and the footer.
func (p *Parquet) Close() error {
	if err := p.writeRows(); err != nil {
		return err
	}
	return p.pw.Close()
}
