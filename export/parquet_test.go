package export_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/export"
)

// readRow is the Parquet schema as a reader outside sidelog sees it: its
// own struct, matched to the file's columns by name.
type readRow struct {
	ID         int64     `parquet:"id"`
	Time       time.Time `parquet:"time,timestamp(nanosecond)"`
	Level      int64     `parquet:"level"`
	LevelName  string    `parquet:"level_name"`
	Kind       string    `parquet:"kind"`
	Message    string    `parquet:"msg"`
	UserID     string    `parquet:"user_id"`
	Path       string    `parquet:"path"`
	Status     *int32    `parquet:"status,optional"`
	DurationNS *int64    `parquet:"duration_ns,optional"`
	Error      string    `parquet:"error"`
	Attrs      *string   `parquet:"attrs,optional"`
}

func TestParquet(t *testing.T) {
	t.Parallel()
	const group = 1000
	n := 2*group + 10
	recs := testRecords(n)
	var buf bytes.Buffer
	w := export.NewParquetRowGroups(&buf, group)
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	f, err := parquet.OpenFile(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if got := f.NumRows(); got != int64(n) {
		t.Fatalf("NumRows = %d, want %d", got, n)
	}
	if want := (n + group - 1) / group; len(f.RowGroups()) != want {
		t.Errorf("%d row groups, want %d", len(f.RowGroups()), want)
	}
	checkColumnTypes(t, f.Schema())

	r := parquet.NewGenericReader[readRow](bytes.NewReader(buf.Bytes()))
	defer r.Close()
	rows := make([]readRow, 500)
	i := 0
	for {
		k, err := r.Read(rows)
		for _, got := range rows[:k] {
			compareRow(t, i, got, recs[i])
			i++
		}
		if err != nil {
			break
		}
	}
	if i != n {
		t.Errorf("read %d rows, want %d", i, n)
	}
}

func compareRow(t *testing.T, i int, got readRow, want sidelog.Record) {
	t.Helper()
	ok := got.ID == want.ID && got.Time.Equal(want.Time) && got.Level == int64(want.Level) &&
		got.LevelName == want.Level.String() && got.Kind == want.Kind.String() && got.Message == want.Message &&
		got.UserID == want.UserID && got.Path == want.Path && got.Error == want.Error &&
		optEq(got.Status, int32(want.Status)) && optEq(got.DurationNS, int64(want.Duration)) &&
		optEq(got.Attrs, string(want.Attrs))
	if !ok {
		t.Fatalf("row %d:\n got %+v\nwant %+v", i, got, want)
	}
}

// optEq reports whether an optional column holds v, or null for v's zero.
func optEq[T comparable](p *T, v T) bool {
	var zero T
	if p == nil {
		return v == zero
	}
	return *p == v && v != zero
}

func checkColumnTypes(t *testing.T, s *parquet.Schema) {
	t.Helper()
	for col, want := range map[string]string{
		"id": "INT(64,true)", "time": "TIMESTAMP(isAdjustedToUTC=true,unit=NANOS)", "level": "INT(64,true)",
		"kind": "STRING", "status": "INT(32,true)", "duration_ns": "INT(64,true)", "attrs": "STRING",
	} {
		leaf, ok := s.Lookup(col)
		if !ok {
			t.Errorf("no column %q", col)
			continue
		}
		if got := leaf.Node.Type().String(); got != want {
			t.Errorf("column %s has type %s, want %s", col, got, want)
		}
	}
}
