package cli

import (
	"context"

	"github.com/sidelog/sidelog"
)

var queryCommand = &command{
	name:    "query",
	summary: "print the records that match a query, newest first",
	usage: `usage: sidelog query [--db PATH] [--format text|json|logfmt] [--limit N]
                     [--since TIME] [--until TIME] [TERM...]

Prints the newest records matching the query, newest first. The terms are
the query language of the admin UI, combined with AND:

  level:warn level>=warn level<=info   kind:request kind:audit,security
  logger:NAME user:ID tenant:ID request:ID trace:ID method:GET ip:ADDR
  path:/api/users path:/api/*          status:500 status:5xx status>=400
  since:90m since:7d since:2026-11-01T00:00:00Z until:...
  words "a quoted phrase" prefix*      full-text search in message and error

A value with spaces is quoted: path:"/a b". Quote terms with > < * or
quotes for the shell too: 'level>=warn' 'path:/api/*' '"a phrase"'.

Examples:
  sidelog query --db logs.db 'level>=warn' --since 1h
  sidelog query status:5xx 'path:/api/*' --limit 10 --format json
  SIDELOG_DB=logs.db sidelog query user:42 '"payment failed"'
`,
	run: (*CLI).runQuery,
}

// maxQueryLimit bounds --limit; export is the tool for everything.
const maxQueryLimit = 100000

func (c *CLI) runQuery(ctx context.Context, args []string) (err error) {
	fs := c.newFlags("query")
	format := fs.String("format", formatText, "output `FORMAT`: text, json (one object per line) or logfmt")
	limit := fs.Int("limit", 50, "print at most `N` records")
	since, until := addTimeFlags(fs)
	pos, err := c.parse(fs, args)
	if err != nil {
		return err
	}
	if *limit < 1 || *limit > maxQueryLimit {
		return usageError("--limit must be from 1 to %d", maxQueryLimit)
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
	page := sidelog.Page{}
	for left := *limit; left > 0; {
		page.Limit = min(left, 1000)
		res, err := db.Query(ctx, f, page)
		if err != nil {
			return err
		}
		for _, r := range res.Records {
			if err := out.Write(r); err != nil {
				return err
			}
		}
		left -= len(res.Records)
		if res.Next == (sidelog.Cursor{}) {
			break
		}
		page.After = res.Next
	}
	return out.Close()
}
