package cli

import (
	"context"
	"fmt"
)

var vacuumCommand = &command{
	name:    "vacuum",
	summary: "rebuild every file to its smallest size",
	usage: `usage: sidelog vacuum [--db PATH]

Rebuilds the catalog and every day file to their smallest size and
truncates the write-ahead logs. Writers wait for each file in turn, so run
it in a quiet hour; cleanup already gives the space of expired records back
without it.

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
	before := db.Size()
	if err := db.Vacuum(ctx); err != nil {
		return err
	}
	fmt.Fprintf(c.Stdout, "vacuumed: size %s -> %s\n", formatBytes(before), formatBytes(db.Size()))
	return nil
}
