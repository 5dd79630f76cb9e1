package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/gen"
)

var genCommand = &command{
	name:    "gen",
	summary: "fill a database with realistic synthetic records",
	usage: `usage: sidelog gen [--db PATH] --rows N [--days D] [--end TIME] [--seed S] [--users U]

Writes N synthetic records spread evenly over the D days before the end
time: mostly HTTP requests, application lines, rare errors, audit and
security events, from U users. The same seed and end time give the same
records. Creates the database when it does not exist.

Examples:
  sidelog gen --db demo.db --rows 100000
  sidelog gen --db bench.db --rows 5000000 --days 60 --seed 7
`,
	run: (*CLI).runGen,
}

// genBatch is the number of records per WriteBatch.
const genBatch = 5000

func (c *CLI) runGen(ctx context.Context, args []string) (err error) {
	fs := c.newFlags("gen")
	rows := fs.Int("rows", 0, "how many records to write (required)")
	days := fs.String("days", "30d", "spread the records over this `AGE` before the end")
	end := fs.String("end", "now", "the newest record's `TIME`: RFC 3339, or a duration ago")
	seed := fs.Uint64("seed", 1, "the random seed")
	users := fs.Int("users", 5000, "distinct users")
	pos, err := c.parse(fs, args)
	if err != nil {
		return err
	}
	if err := noArgs(fs, pos); err != nil {
		return err
	}
	if *rows <= 0 {
		return usageError("--rows must be a positive number")
	}
	if *users <= 0 {
		return usageError("--users must be a positive number")
	}
	span, err := sidelog.ParseAge(*days)
	if err != nil || span <= 0 {
		return usageError("--days: bad duration %q (want something like 30d)", *days)
	}
	endT, err := sidelog.ParseSince(*end, c.Now())
	if err != nil {
		return usageError("--end: %s", sidelog.ErrorMessage(err))
	}
	db, err := c.open(ctx, fs, true)
	if err != nil {
		return err
	}
	defer closeDB(db, &err)
	bar := c.progress(int64(*rows), "generating")
	batch := make([]sidelog.Record, 0, genBatch)
	flush := func() error {
		if err := db.WriteBatch(ctx, batch); err != nil {
			return err
		}
		bar.add(len(batch))
		batch = batch[:0]
		return nil
	}
	for r := range gen.Records(gen.Options{Rows: *rows, End: endT, Span: span, Seed: *seed, Users: *users}) {
		if batch = append(batch, r); len(batch) == genBatch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	bar.finish()
	fmt.Fprintf(c.Stdout, "generated %s records from %s to %s in %s\n",
		formatCount(int64(*rows)), endT.Add(-span).UTC().Format(time.RFC3339), endT.UTC().Format(time.RFC3339), Sanitize(db.Path()))
	return nil
}
