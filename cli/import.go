package cli

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/export"
)

var importCommand = &command{
	name:    "import",
	summary: "add the records of a JSON Lines export to a database",
	usage: `usage: sidelog import [--db PATH] FILE.jsonl

Reads a JSON Lines export (one record per line, as 'sidelog export' writes
it; - reads standard input) and adds its records to the database, which is
created when it does not exist. The whole file is checked first: a bad line
(as one with a time outside 1677-09-21 to 2262-04-11, which a log database
cannot store) is reported with its number and nothing is imported. Records
get new IDs.

Importing is idempotent: a record the database already holds is skipped,
and the summary says how many were. A record is recognised as already there
when a record in the database has the same JSON Lines form apart from the
id: the same time to the nanosecond, level, kind, message, logger, request
fields and attributes, byte for byte (compared by SHA-256 among the
database's records of the same instant). Copies are counted: identical
records inside one file are all imported the first time, and a second
import of the file adds nothing. A record the store changed on the way in
(cut to its size limits) is not recognised. --keep-duplicates imports every
record as it is.

Examples:
  sidelog export --db old.db --since 7d -o week.jsonl
  sidelog import --db new.db week.jsonl
  zcat archive.jsonl.gz | sidelog import --db logs.db -
`,
	run: (*CLI).runImport,
}

// importBatch is the number of records per WriteBatch.
const importBatch = 5000

func (c *CLI) runImport(ctx context.Context, args []string) (err error) {
	fs := c.newFlags("import")
	keepDup := fs.Bool("keep-duplicates", false, "import records the database already holds, too")
	pos, err := c.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("give one FILE.jsonl to import (see 'import --help')")
	}
	if _, err := c.dbPath(fs); err != nil {
		return err
	}
	in, cleanup, err := c.importSource(pos[0])
	if err != nil {
		return err
	}
	defer cleanup()
	total, err := countJSONL(in)
	if err != nil {
		return err
	}
	if _, err := in.Seek(0, io.SeekStart); err != nil {
		return err
	}
	db, err := c.open(ctx, fs, true)
	if err != nil {
		return err
	}
	defer closeDB(db, &err)
	bar := c.progress(total, "importing")
	batch := make([]sidelog.Record, 0, importBatch)
	var done, skipped int64
	dd := newDedup(db)
	flush := func() error {
		n := len(batch)
		write := batch
		if !*keepDup {
			var s int64
			if write, s, err = dd.filter(ctx, batch); err != nil {
				return fmt.Errorf("after %d of %d records were imported: %w", done, total, err)
			}
			skipped += s
		}
		if err := db.WriteBatch(ctx, write); err != nil {
			return fmt.Errorf("after %d of %d records were imported: %w", done, total, err)
		}
		dd.wrote(write)
		done += int64(len(write))
		bar.add(n)
		batch = batch[:0]
		return nil
	}
	for r, err := range export.ReadJSONL(in) {
		if err != nil {
			return err
		}
		r.ID = 0
		if batch = append(batch, r); len(batch) == importBatch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	bar.finish()
	fmt.Fprintf(c.Stdout, "imported %s records into %s; skipped %s already there\n", formatCount(done), Sanitize(db.Path()), formatCount(skipped))
	return nil
}

// importSource opens the file to import; standard input is first copied
// to a temporary file, because the file is read twice.
func (c *CLI) importSource(name string) (io.ReadSeeker, func(), error) {
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, nil, sidelog.Errorf(sidelog.ENOTFOUND, "cannot open %s: %v", name, unwrapPath(err))
		}
		if st, err := f.Stat(); err == nil && st.IsDir() {
			f.Close()
			return nil, nil, sidelog.Errorf(sidelog.EINVALID, "%s is a directory", name)
		}
		return f, func() { f.Close() }, nil
	}
	tmp, err := os.CreateTemp("", "sidelog-import-*.jsonl")
	if err != nil {
		return nil, nil, err
	}
	cleanup := func() { tmp.Close(); os.Remove(tmp.Name()) }
	if _, err := io.Copy(tmp, c.Stdin); err != nil {
		cleanup()
		return nil, nil, fmt.Errorf("read standard input: %w", err)
	}
	return tmp, cleanup, nil
}

// countJSONL checks every line of r and counts the records.
func countJSONL(r io.Reader) (int64, error) {
	var n int64
	for _, err := range export.ReadJSONL(r) {
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// unwrapPath drops the path that *fs.PathError repeats.
func unwrapPath(err error) error {
	var pe *os.PathError
	if e, ok := err.(*os.PathError); ok {
		pe = e
		return pe.Err
	}
	return err
}
