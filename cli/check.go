package cli

import (
	"context"
	"fmt"
)

var checkCommand = &command{
	name:    "check",
	summary: "check the integrity of every file",
	usage: `usage: sidelog check [--db PATH]

Runs SQLite's integrity check on the catalog and every day file, and the
full-text index's own check on every day file, and lists the damaged
files set aside (NAME.corrupt-TIME) that are still there. Prints "ok" and
exits 0 when the database is sound; otherwise prints each problem and
exits 1.

Examples:
  sidelog check --db logs.db && echo sound
`,
	run: (*CLI).runCheck,
}

// problemsError reports that check found problems: exit code 1.
type problemsError struct{ n int }

func (e *problemsError) Error() string {
	if e.n == 1 {
		return "found 1 problem"
	}
	return fmt.Sprintf("found %d problems", e.n)
}

func (c *CLI) runCheck(ctx context.Context, args []string) (err error) {
	fs := c.newFlags("check")
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
	problems, err := db.Check(ctx)
	if err != nil {
		return err
	}
	for _, p := range problems {
		fmt.Fprintf(c.Stdout, "%s: %s\n", Sanitize(p.File), Sanitize(p.Message))
	}
	if len(problems) > 0 {
		return &problemsError{len(problems)}
	}
	fmt.Fprintf(c.Stdout, "ok: %s passed the integrity check\n", Sanitize(db.Path()))
	return nil
}
