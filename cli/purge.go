package cli

import (
	"context"
	"fmt"

	"github.com/sidelog/sidelog"
)

var purgeCommand = &command{
	name:    "purge",
	summary: "erase every record of one user or one tenant",
	usage: `usage: sidelog purge [--db PATH] (--user ID | --tenant ID) [--dry-run] [--actor NAME]

Erases every record of one user (or one tenant), overwriting the freed
space, for a request to erase personal data. The erasure itself is recorded
as a security event naming the actor (default: "cli:" and $USER).

Examples:
  sidelog purge --db logs.db --user 42 --dry-run
  sidelog purge --user 42 --actor "ticket 1234"
`,
	run: (*CLI).runPurge,
}

func (c *CLI) runPurge(ctx context.Context, args []string) (err error) {
	fs := c.newFlags("purge")
	user := fs.String("user", "", "erase the records of the user with this `ID`")
	tenant := fs.String("tenant", "", "erase the records of the tenant with this `ID`")
	dryRun := fs.Bool("dry-run", false, "only count the records")
	actor := fs.String("actor", "", "who asked for the erasure, for the security event (default \"cli:$USER\")")
	pos, err := c.parse(fs, args)
	if err != nil {
		return err
	}
	if err := noArgs(fs, pos); err != nil {
		return err
	}
	if (*user == "") == (*tenant == "") {
		return usageError("give exactly one of --user ID and --tenant ID")
	}
	if *actor == "" {
		*actor = "cli:" + c.Getenv("USER")
	}
	db, err := c.open(ctx, fs, false)
	if err != nil {
		return err
	}
	defer closeDB(db, &err)
	who := "user " + *user
	if *tenant != "" {
		who = "tenant " + *tenant
	}
	who = Sanitize(who)
	if *dryRun {
		n, err := db.Count(ctx, sidelog.Filter{UserID: *user, TenantID: *tenant})
		if err != nil {
			return err
		}
		fmt.Fprintf(c.Stdout, "dry run: would erase %s records of %s\n", formatCount(n), who)
		return nil
	}
	n, err := db.Purge(ctx, *user, *tenant, *actor)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.Stdout, "erased %s records of %s (recorded as a security event by %s)\n", formatCount(n), who, Sanitize(*actor))
	return nil
}
