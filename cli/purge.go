package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/sidelog/sidelog/sqlite"
)

var purgeCommand = &command{
	name:    "purge",
	summary: "erase every record of one user or one tenant",
	usage: `usage: sidelog purge [--db PATH] (--user ID | --tenant ID) [--email ADDR]... [--name NAME]... [--ip ADDR]... [--dry-run] [--actor NAME]

Erases every record of one user (or one tenant), for a request to erase
personal data. What the application knows about the person finds the
records that carry no user id (failed logins, sign-up errors, lines that
name them): every record whose message, error, path or attributes contain
one of the --email or --name values (case-insensitive), or whose client IP
is one of the --ip addresses, is erased too. Give only addresses that are
the person's own: every record from them is erased.

The freed space is overwritten, the full-text index is merged so that it no
longer holds the erased words, and the WAL is truncated: afterwards no file
of the database holds the erased text. The erasure is recorded as
security events naming the actor (default: "cli:" and $USER, or $LOGNAME,
or the name of the process's user id) and the user id, never the e-mail,
name or addresses: one when it starts, one with the count when it is done.
A purge cut short (killed, a crash) leaves the first; running it again
erases the rest.

Examples:
  sidelog purge --db logs.db --user 42 --dry-run
  sidelog purge --user 42 --email bob@example.com --name "Bob Smith" --ip 203.0.113.7 --actor "ticket 1234"
`,
	run: (*CLI).runPurge,
}

// listFlag is a flag that may be given many times.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	*l = append(*l, v)
	return nil
}

func (c *CLI) runPurge(ctx context.Context, args []string) (err error) {
	fs := c.newFlags("purge")
	user := fs.String("user", "", "erase the records of the user with this `ID`")
	tenant := fs.String("tenant", "", "erase the records of the tenant with this `ID`")
	var emails, names, ips listFlag
	fs.Var(&emails, "email", "also erase records mentioning this e-mail `ADDR` (repeatable)")
	fs.Var(&names, "name", "also erase records mentioning this `NAME` (repeatable)")
	fs.Var(&ips, "ip", "also erase records from or mentioning this client `ADDR` (repeatable)")
	dryRun := fs.Bool("dry-run", false, "only count the records")
	actor := fs.String("actor", "", "who asked for the erasure, for the security event (default \"cli:$USER\", else the user id's name)")
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
	e := sqlite.Erasure{UserID: *user, TenantID: *tenant, Terms: append(emails, names...), IPs: ips}
	for _, t := range append(append([]string(nil), e.Terms...), ips...) {
		if len(strings.TrimSpace(t)) < sqlite.MinEraseTerm {
			return usageError("--email, --name and --ip values need at least %d characters: %q would erase far more than one person's records", sqlite.MinEraseTerm, Sanitize(t))
		}
	}
	if *actor == "" {
		*actor = c.actor()
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
	if len(e.Terms)+len(e.IPs) > 0 {
		who += " and records mentioning them"
	}
	if *dryRun {
		n, err := db.EraseCount(ctx, e)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.Stdout, "dry run: would erase %s records of %s\n", formatCount(n), who)
		return nil
	}
	n, err := db.Erase(ctx, e, *actor)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.Stdout, "erased %s records of %s (recorded as a security event by %s)\n", formatCount(n), who, Sanitize(*actor))
	return nil
}
