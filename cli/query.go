package cli

import (
	"context"
	"fmt"

	"github.com/sidelog/sidelog"
)

var queryCommand = &command{
	name:    "query",
	summary: "print the records that match a query, newest first",
	usage: `usage: sidelog query [--db PATH] [--format text|json|logfmt] [--limit N]
                     [--since TIME] [--until TIME] [--after ID] [TERM...]

Prints the newest records matching the query, newest first, with their id
(sidelog show ID prints one whole). When more records match than --limit,
a last line on stderr gives the command for the next page (--after ID);
when none match, a line on stderr says so.

` + queryLanguage + `
Quote terms with > < * ( ) or quotes for the shell: 'level>=warn'
'path:/api/*' '"a phrase"' '(user:1 OR user:2)'.

Examples:
  sidelog query --db logs.db 'level>=warn' --since 1h
  sidelog query status:5xx 'path:/api/*' --limit 10 --format json
  sidelog query 'duration>250ms' -status:404 'route:"GET /projects/{id}"'
  sidelog query project_id:4 'order.total>100' has:coupon
  SIDELOG_DB=logs.db sidelog query user:42 '"payment failed"' --after 89232240542940
`,
	run: (*CLI).runQuery,
}

// queryLanguage is the grammar in short; docs/query.md is the reference.
const queryLanguage = `The query language (all of it in docs/query.md). Terms are combined with
AND; OR, NOT (or a leading -) and parentheses combine them otherwise:

  level:warn level>=warn level:warn,error   kind:request kind:audit,security
  status:500 status:5xx status>=400 status:404,410   duration>250ms (ns us ms s m h)
  route:"GET /projects/{id}" path:/api/* method:GET user:ID tenant:ID
  request:ID trace:ID span:ID logger:NAME ip:ADDR
  project_id:4 order.total>100 attrs.http.client.os:linux   any attribute, by path
  has:order.id has:error has:user      present
  words "a quoted phrase" prefix*     text in message, error and attributes
  -status:404 NOT level:debug status!=200 (user:1 OR user:2) a OR b
  since:90m since:7d since:2026-11-01T00:00:00Z until:...

Operators: ':' or '=', '!=', '>', '>=', '<', '<='. A value with spaces,
commas or parentheses is quoted: route:"GET /x". A key that is no field
names an attribute (attrs.KEY when it is also a field's name); when a query
finds few records and no record has such a key, a hint says so and names
the field it was probably meant for (lvl:warn: did you mean level:warn?).
An unknown operator or a bad value is an error naming the term.
`

// maxQueryLimit bounds --limit; export is the tool for everything.
const maxQueryLimit = 100000

func (c *CLI) runQuery(ctx context.Context, args []string) (err error) {
	fs := c.newFlags("query")
	format := fs.String("format", formatText, "output `FORMAT`: text, json (one object per line) or logfmt")
	limit := fs.Int("limit", 50, "print at most `N` records")
	after := fs.Int64("after", 0, "continue after the record with this `ID` (the next page)")
	since, until := addTimeFlags(fs)
	pos, err := c.parse(fs, args)
	if err != nil {
		return err
	}
	if *limit < 1 || *limit > maxQueryLimit {
		return usageError("--limit must be from 1 to %d", maxQueryLimit)
	}
	if *after < 0 {
		return usageError("--after: bad record id %d", *after)
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
	page := sidelog.Page{After: sidelog.Cursor{ID: *after}}
	printed := 0
	var next sidelog.Cursor
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
		printed += len(res.Records)
		left -= len(res.Records)
		next = res.Next
		if res.Next == (sidelog.Cursor{}) {
			break
		}
		page.After = res.Next
	}
	if err := out.Close(); err != nil {
		return err
	}
	switch {
	case printed == 0 && *after != 0:
		fmt.Fprintln(c.Stderr, "no more records matched")
	case printed == 0:
		fmt.Fprintln(c.Stderr, "no records matched")
	case next != (sidelog.Cursor{}):
		fmt.Fprintf(c.Stderr, "more records match: add --after %d for the next page\n", next.ID)
	}
	if next == (sidelog.Cursor{}) {
		// Few or no matches: an attribute term on a key no record has is
		// most likely a misspelt field (lvl:warn).
		missing, err := db.MissingAttrs(ctx, f)
		if err != nil {
			return err
		}
		for _, m := range missing {
			fmt.Fprintln(c.Stderr, "hint: "+m.Hint())
		}
	}
	return nil
}
