package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/export"
)

var exportCommand = &command{
	name:    "export",
	summary: "write the matching records to a file for analysis elsewhere",
	usage: `usage: sidelog export [--db PATH] [--format jsonl|csv|logfmt|parquet] [-o FILE]
                      [--since TIME] [--until TIME] [TERM...]

Writes every record matching the query terms (see 'sidelog query --help'),
oldest first, streaming with constant memory:

  jsonl    one JSON object per line; lossless, read back by 'sidelog import'
  csv      a header row, then one row per record; any cell that starts with
           = + - @ tab or carriage return gets a leading apostrophe, so a
           spreadsheet never runs a log value as a formula
  logfmt   key=value lines
  parquet  typed columns (time as a nanosecond UTC timestamp), zstd,
           row groups of 65536 records; for DuckDB, pandas, Spark

With -o the file is written beside its final name and renamed into place
only when complete: an error leaves no partial file. A progress bar is shown
on stderr when it is a terminal. The export is recorded in the database as
a security event.

Examples:
  sidelog export --db logs.db --format csv -o errors.csv 'level>=error' --since 7d
  sidelog export --format parquet -o requests.parquet kind:request
  sidelog export user:42 > user-42.jsonl
`,
	run: (*CLI).runExport,
}

func (c *CLI) runExport(ctx context.Context, args []string) (err error) {
	fs := c.newFlags("export")
	format := fs.String("format", export.FormatJSONL, "output `FORMAT`: "+strings.Join(export.Formats(), ", "))
	output := fs.String("o", "-", "write to `FILE` instead of standard output")
	since, until := addTimeFlags(fs)
	pos, err := c.parse(fs, args)
	if err != nil {
		return err
	}
	f, err := c.filter(pos, *since, *until)
	if err != nil {
		return err
	}
	if _, err := export.NewWriter(*format, io.Discard); err != nil {
		return err
	}
	toStdout := *output == "-" || *output == ""
	if toStdout && *format == export.FormatParquet && c.IsTerminal(c.Stdout) {
		return usageError("will not write Parquet to a terminal; use -o FILE or a pipe")
	}
	db, err := c.open(ctx, fs, false)
	if err != nil {
		return err
	}
	defer closeDB(db, &err)
	var n int64
	if toStdout {
		n, err = c.exportTo(ctx, db, f, *format, c.Stdout)
	} else {
		n, err = c.exportFile(ctx, db, f, *format, *output)
	}
	if err != nil {
		return err
	}
	dest := "standard output"
	if !toStdout {
		dest = *output
		fmt.Fprintf(c.Stderr, "exported %s records to %s (%s)\n", formatCount(n), Sanitize(dest), *format)
	}
	return c.recordExport(ctx, db, f, *format, dest, n)
}

// exportFile exports into a temporary file beside path and renames it to
// path once it is complete and synced.
func (c *CLI) exportFile(ctx context.Context, db sidelog.Reader, f sidelog.Filter, format, path string) (n int64, err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return 0, sidelog.Errorf(sidelog.EINVALID, "cannot create the output file: %v", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if n, err = c.exportTo(ctx, db, f, format, tmp); err != nil {
		return n, err
	}
	if err = tmp.Sync(); err != nil {
		return n, err
	}
	if err = tmp.Close(); err != nil {
		return n, err
	}
	return n, os.Rename(tmp.Name(), path)
}

// exportTo streams the records matching f to w and returns their number.
func (c *CLI) exportTo(ctx context.Context, db sidelog.Reader, f sidelog.Filter, format string, w io.Writer) (int64, error) {
	ew, err := export.NewWriter(format, w)
	if err != nil {
		return 0, err
	}
	bar := &progress{}
	if c.IsTerminal(c.Stderr) {
		total, err := db.Count(ctx, f)
		if err != nil {
			return 0, err
		}
		bar = c.progress(total, "exporting")
	}
	var n int64
	for r, err := range db.Scan(ctx, f) {
		if err != nil {
			return n, err
		}
		if err := ew.Write(r); err != nil {
			return n, err
		}
		n++
		bar.add(1)
	}
	if err := ew.Close(); err != nil {
		return n, err
	}
	bar.finish()
	return n, nil
}

// recordExport writes the security event that says who exported what.
func (c *CLI) recordExport(ctx context.Context, db sidelog.BatchWriter, f sidelog.Filter, format, dest string, n int64) error {
	attrs, err := json.Marshal(map[string]any{"format": format, "query": sidelog.FormatQuery(f), "records": n, "output": dest})
	if err != nil {
		return err
	}
	ev := sidelog.Record{
		Time: c.Now(), Level: slog.LevelInfo, Kind: sidelog.KindSecurity, Logger: "sidelog",
		Message: "logs exported", UserID: c.actor(), Attrs: attrs,
	}
	if err := db.WriteBatch(ctx, []sidelog.Record{ev}); err != nil {
		return fmt.Errorf("record the export as a security event: %w", err)
	}
	return nil
}
