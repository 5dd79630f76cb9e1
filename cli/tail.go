package cli

import (
	"context"
	"slices"
	"time"

	"github.com/sidelog/sidelog"
)

var tailCommand = &command{
	name:    "tail",
	summary: "print the newest records, and with -f new ones as they come",
	usage: `usage: sidelog tail [--db PATH] [-n N] [-f] [--format text|json|logfmt]
                    [--since TIME] [--until TIME] [TERM...]

Prints the last N records that match the query terms (see 'sidelog query
--help' for the query language), oldest first like tail(1). With -f it then
keeps printing new matching records until interrupted, checking every
second: records in any day file, including files created after tail
started (a new day, the first warning of a day) and records that arrive
late for an earlier day. A burst is printed in full, in order of arrival
within each day.

On a terminal, text output colours the level; piped, it is plain. Control
characters and ANSI escapes in log values are always shown as visible
escapes (\x1b), never sent to the terminal.

Examples:
  sidelog tail --db logs.db
  sidelog tail -f 'level>=warn'
  sidelog tail -n 100 kind:request status:5xx --format logfmt
`,
	run: (*CLI).runTail,
}

// followBatch bounds the records one poll of tail -f prints; the rest of
// a larger burst is printed by the next polls.
const followBatch = 10000

func (c *CLI) runTail(ctx context.Context, args []string) (err error) {
	fs := c.newFlags("tail")
	n := fs.Int("n", 20, "print the last `N` records first")
	follow := fs.Bool("f", false, "follow: keep printing new records until interrupted")
	fs.BoolVar(follow, "follow", false, "the same as -f")
	format := fs.String("format", formatText, "output `FORMAT`: text, json or logfmt")
	since, until := addTimeFlags(fs)
	pos, err := c.parse(fs, args)
	if err != nil {
		return err
	}
	if *n < 0 || *n > maxQueryLimit {
		return usageError("-n must be from 0 to %d", maxQueryLimit)
	}
	f, err := c.filter(pos, *since, *until)
	if err != nil {
		return err
	}
	out, err := c.newPrinter(*format, c.Stdout)
	if err != nil {
		return err
	}
	db, err := c.open(ctx, fs, false)
	if err != nil {
		return err
	}
	defer closeDB(db, &err)
	if !*follow {
		recs, err := lastRecords(ctx, db, f, *n)
		if err == nil {
			err = printAll(out, recs)
		}
		return closeAfter(out, err)
	}
	// Following reads every day file's high-water mark first (a file per
	// day and class: a second for a few hundred files).
	fl, err := db.Follow(ctx, f)
	if err != nil {
		if ctx.Err() != nil {
			return out.Close() // interrupted while starting
		}
		return err
	}
	recs, err := fl.Last(ctx, *n)
	if err == nil {
		err = printAll(out, recs)
	}
	if err != nil {
		return closeAfter(out, err)
	}
	t := time.NewTicker(c.PollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return out.Close() // interrupted: the normal end of tail -f
		case <-t.C:
		}
		recs, err := fl.Next(ctx, followBatch)
		if err == nil {
			err = printAll(out, recs)
		}
		if err != nil {
			if ctx.Err() != nil {
				return out.Close()
			}
			return closeAfter(out, err)
		}
	}
}

// lastRecords returns the newest n records matching f, oldest first.
func lastRecords(ctx context.Context, db sidelog.Reader, f sidelog.Filter, n int) ([]sidelog.Record, error) {
	var recs []sidelog.Record
	page := sidelog.Page{}
	// Pages grow from small: most calls want a screenful.
	for size := 16; len(recs) < n; size = min(size*4, 1000) {
		page.Limit = min(n-len(recs), size)
		res, err := db.Query(ctx, f, page)
		if err != nil {
			return nil, err
		}
		recs = append(recs, res.Records...)
		if res.Next == (sidelog.Cursor{}) {
			break
		}
		page.After = res.Next
	}
	slices.Reverse(recs)
	return recs, nil
}

// printAll prints recs and flushes the output.
func printAll(out interface {
	Write(sidelog.Record) error
	Flush() error
}, recs []sidelog.Record) error {
	for _, r := range recs {
		if err := out.Write(r); err != nil {
			return err
		}
	}
	return out.Flush()
}

func closeAfter(out interface{ Close() error }, err error) error {
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}
