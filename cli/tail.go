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
keeps printing new matching records until interrupted.

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

// followBatch bounds the records one poll of tail -f prints; a burst larger
// than this shows its newest records only.
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
	last, err := printNewer(ctx, db, f, 0, *n, out)
	if err != nil || !*follow {
		return closeAfter(out, err)
	}
	if last == 0 {
		// Start after the newest record even when none matched.
		if last, err = newestID(ctx, db); err != nil {
			return err
		}
	}
	t := time.NewTicker(c.PollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return out.Close() // interrupted: the normal end of tail -f
		case <-t.C:
		}
		if last, err = printNewer(ctx, db, f, last, followBatch, out); err != nil {
			if ctx.Err() != nil {
				return out.Close()
			}
			return closeAfter(out, err)
		}
	}
}

func closeAfter(out interface{ Close() error }, err error) error {
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}

// printNewer prints, oldest first, the newest (at most limit) records
// matching f with an ID above after, and returns the highest ID printed (or
// after when there was nothing).
func printNewer(ctx context.Context, db sidelog.Reader, f sidelog.Filter, after int64, limit int, out interface {
	Write(sidelog.Record) error
	Flush() error
}) (int64, error) {
	var recs []sidelog.Record
	page := sidelog.Page{}
	// Pages grow from small: a poll usually finds a few new records, and
	// reading a thousand old ones every second would be wasted work.
	for size := 16; len(recs) < limit; size = min(size*4, 1000) {
		page.Limit = min(limit-len(recs), size)
		res, err := db.Query(ctx, f, page)
		if err != nil {
			return after, err
		}
		done := res.Next == (sidelog.Cursor{})
		for _, r := range res.Records {
			if r.ID <= after {
				done = true
				break
			}
			recs = append(recs, r)
		}
		if done {
			break
		}
		page.After = res.Next
	}
	slices.Reverse(recs)
	for _, r := range recs {
		if err := out.Write(r); err != nil {
			return after, err
		}
		after = max(after, r.ID)
	}
	return after, out.Flush()
}

// newestID returns the ID of the newest record, 0 for an empty database.
func newestID(ctx context.Context, db sidelog.Reader) (int64, error) {
	res, err := db.Query(ctx, sidelog.Filter{}, sidelog.Page{Limit: 1})
	if err != nil || len(res.Records) == 0 {
		return 0, err
	}
	return res.Records[0].ID, nil
}
