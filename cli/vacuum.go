package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/sidelog/sidelog/sqlite"
)

var vacuumCommand = &command{
	name:    "vacuum",
	summary: "rebuild every file to its smallest size",
	usage: `usage: sidelog vacuum [--db PATH]

Rebuilds the catalog and every day file to their smallest size and
truncates the write-ahead logs. Writers wait for each file in turn, so run
it in a quiet hour; cleanup already gives the space of expired records back
without it.

It prints where the bytes were before and after (records, indexes, the
full-text index, free pages, WAL). Vacuum gives back free pages, which
appear when records are deleted in place (the admin UI's delete by query);
cleanup and purge already rebuild the files they change, and a database
that has only grown has none, and rebuilding its
files can make them a little larger (an index rebuilt in one pass is not
always packed tighter than one built row by row). When the database did
not shrink, vacuum says why.

Examples:
  sidelog vacuum --db logs.db
`,
	run: (*CLI).runVacuum,
}

func (c *CLI) runVacuum(ctx context.Context, args []string) (err error) {
	fs := c.newFlags("vacuum")
	pos, err := c.parse(fs, args)
	if err != nil {
		return err
	}
	if err := noArgs(fs, pos); err != nil {
		return err
	}
	db, err := c.open(ctx, fs, false)
	if err != nil {
		return err
	}
	defer closeDB(db, &err)
	before, err := db.Space(ctx)
	if err != nil {
		return err
	}
	recBefore, err := db.Stats(ctx)
	if err != nil {
		return err
	}
	if err := db.Vacuum(ctx); err != nil {
		return err
	}
	after, err := db.Space(ctx)
	if err != nil {
		return err
	}
	recAfter, err := db.Stats(ctx)
	if err != nil {
		return err
	}
	writeVacuum(c.Stdout, before, after, recAfter.Records-recBefore.Records)
	return nil
}

// writeVacuum reports a vacuum: the sizes before and after by part, and
// when the database did not shrink, why.
func writeVacuum(w io.Writer, before, after sqlite.Space, written int64) {
	if d := before.Bytes - after.Bytes; d > 0 {
		fmt.Fprintf(w, "vacuumed %d files: %s -> %s (%s given back)\n", after.Files, formatBytes(before.Bytes), formatBytes(after.Bytes), formatBytes(d))
	} else {
		fmt.Fprintf(w, "vacuumed %d files: %s -> %s (not smaller)\n", after.Files, formatBytes(before.Bytes), formatBytes(after.Bytes))
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "\tbefore\tafter\t\n")
	parts := []struct {
		name          string
		before, after int64
	}{
		{"records", before.Tables, after.Tables},
		{"indexes", before.Indexes, after.Indexes},
		{"search", before.Search, after.Search},
		{"free", before.Free, after.Free},
		{"WAL", before.WAL, after.WAL},
	}
	for _, p := range parts {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t\n", p.name, formatBytes(p.before), formatBytes(p.after))
	}
	tw.Flush()
	if after.Bytes < before.Bytes {
		return
	}
	var why []string
	if before.Free == 0 {
		why = append(why, "the files had no free pages to give back (free pages appear when records are deleted in place, as the admin UI's delete by query does; cleanup and purge rebuild the files they change)")
	}
	if before.WAL == 0 {
		why = append(why, "the write-ahead logs were already empty")
	}
	if written > 0 {
		why = append(why, fmt.Sprintf("%s records were written meanwhile", formatCount(written)))
	}
	var grew []string
	for _, p := range parts[:3] {
		if p.after > p.before {
			grew = append(grew, fmt.Sprintf("%s +%s", p.name, formatBytes(p.after-p.before)))
		}
	}
	if len(grew) > 0 {
		why = append(why, "the rebuilt parts came out larger ("+strings.Join(grew, ", ")+"): a rebuilt b-tree is not always packed tighter than one grown row by row")
	}
	if len(why) == 0 {
		why = append(why, "the files were already as small as SQLite makes them")
	}
	fmt.Fprintf(w, "not smaller because %s.\n", strings.Join(why, "; "))
}
