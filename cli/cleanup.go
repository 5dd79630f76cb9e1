package cli

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/sqlite"
)

var cleanupCommand = &command{
	name:    "cleanup",
	summary: "apply the retention policy and give the space back",
	usage: `usage: sidelog cleanup [--db PATH] [--dry-run] [retention flags]

Removes the records older than the retention policy allows, per level
class, and gives their space back to the filesystem at once: a day file
whose records have all expired is deleted, one with some is rewritten
without them. With --max-size, the oldest days then lose everything but
their audit and security records until the database fits.

The policy is the one saved in the database (by --save, or by the
application) or else the default (debug 7d, info 30d, warn 90d, error 365d,
audit and security 365d, no size bound), changed by the flags given. An age
of 0 keeps those records forever. --save stores the result for later runs
and for the application's background cleaner.

The files of the current UTC day are never cleaned: the application is
writing them. An age under a day therefore takes effect for today's
records at the first cleanup after midnight UTC, and cleanup says so.

A run that removes records is recorded as security events, one before the
first record goes and one with the counts when it ends, so a run cut short
(killed, a crash) leaves a trace. It can simply be run again: it finishes
the work and removes what the interrupted run left behind.

Examples:
  sidelog cleanup --db logs.db --dry-run
  sidelog cleanup --keep-debug 1d --keep-info 14d
  sidelog cleanup --max-size 2GiB --save
`,
	run: (*CLI).runCleanup,
}

// retentionFlags are the flags that change the retention policy saved in
// the database (sidelog.DefaultRetention when none was saved).
type retentionFlags struct {
	fs      *flags
	keep    [4]*string
	audit   *string
	maxSize *string
}

func addRetentionFlags(fs *flags) *retentionFlags {
	def := sidelog.DefaultRetention()
	rf := retentionFlags{fs: fs}
	for i, name := range levelNames {
		rf.keep[i] = fs.String("keep-"+name, "", fmt.Sprintf("keep %s records for `AGE` (like 7d or 36h; 0 keeps them forever; default: saved, or %s)", name, formatAge(def.MaxAge[i])))
	}
	rf.audit = fs.String("keep-audit", "", fmt.Sprintf("keep audit and security records for `AGE` (default: saved, or %s)", formatAge(def.AuditAge)))
	rf.maxSize = fs.String("max-size", "", "remove the oldest non-audit records while the database is larger than `SIZE` (like 500MiB or 2GiB; 0 for no bound; default: saved, or 0)")
	return &rf
}

// effective returns the policy saved in db changed by the flags given.
func (rf *retentionFlags) effective(ctx context.Context, db *sqlite.DB) (sidelog.Retention, error) {
	saved, err := db.Retention(ctx)
	if err != nil {
		return sidelog.Retention{}, err
	}
	return rf.policy(saved)
}

// policy returns base changed by the flags that were given.
func (rf *retentionFlags) policy(base sidelog.Retention) (sidelog.Retention, error) {
	pol := base
	var err error
	set := map[string]bool{}
	rf.fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for i, s := range rf.keep {
		if !set["keep-"+levelNames[i]] {
			continue
		}
		if pol.MaxAge[i], err = parseKeep(*s); err != nil {
			return pol, usageError("--keep-%s: %s", levelNames[i], sidelog.ErrorMessage(err))
		}
	}
	if set["keep-audit"] {
		if pol.AuditAge, err = parseKeep(*rf.audit); err != nil {
			return pol, usageError("--keep-audit: %s", sidelog.ErrorMessage(err))
		}
	}
	if set["max-size"] {
		if pol.MaxBytes, err = parseSize(*rf.maxSize); err != nil {
			return pol, err
		}
	}
	return pol, nil
}

func parseKeep(s string) (time.Duration, error) {
	if s == "0" || s == "forever" {
		return 0, nil
	}
	return sidelog.ParseAge(s)
}

// formatAge writes a retention age the way parseKeep reads it.
func formatAge(d time.Duration) string {
	switch {
	case d == 0:
		return "0"
	case d%sidelog.Day == 0:
		return fmt.Sprintf("%dd", d/sidelog.Day)
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	}
	return fmt.Sprintf("%ds", d/time.Second)
}

// parseSize reads a size in bytes with an optional unit: B, KiB, MiB, GiB,
// TiB (or KB, MB, GB, TB, also taken as powers of 1024).
func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := strings.IndexFunc(t, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	num, unit := t, ""
	if i >= 0 {
		num, unit = t[:i], strings.ToUpper(strings.TrimSpace(t[i:]))
	}
	mult := map[string]float64{"": 1, "B": 1, "K": 1 << 10, "KB": 1 << 10, "KIB": 1 << 10, "M": 1 << 20, "MB": 1 << 20, "MIB": 1 << 20,
		"G": 1 << 30, "GB": 1 << 30, "GIB": 1 << 30, "T": 1 << 40, "TB": 1 << 40, "TIB": 1 << 40}[unit]
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || mult == 0 || f < 0 || f*mult > 1<<62 {
		return 0, usageError("--max-size: bad size %q (want a number of bytes, or one with a unit like 500MiB or 2GiB)", s)
	}
	return int64(f * mult), nil
}

func (c *CLI) runCleanup(ctx context.Context, args []string) (err error) {
	fs := c.newFlags("cleanup")
	dryRun := fs.Bool("dry-run", false, "only count what would be removed")
	save := fs.Bool("save", false, "save the policy in the database for later runs and the background cleaner")
	rf := addRetentionFlags(fs)
	pos, err := c.parse(fs, args)
	if err != nil {
		return err
	}
	if err := noArgs(fs, pos); err != nil {
		return err
	}
	if _, err := rf.policy(sidelog.Retention{}); err != nil {
		return err // a bad flag, before the database is opened
	}
	db, err := c.open(ctx, fs, false)
	if err != nil {
		return err
	}
	defer closeDB(db, &err)
	pol, err := rf.effective(ctx, db)
	if err != nil {
		return err
	}
	if *save {
		if *dryRun {
			return usageError("--save and --dry-run do not go together")
		}
		if err := db.SetRetention(ctx, pol); err != nil {
			return err
		}
		fmt.Fprintf(c.Stdout, "saved the policy in %s\n", Sanitize(db.Path()))
	}
	rep, err := db.Cleanup(ctx, pol, c.Now(), *dryRun)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.Stdout, "policy: %s\n", pol)
	if rep.DryRun {
		fmt.Fprintf(c.Stdout, "dry run: would remove %s records (%d day files deleted, %d rewritten)\n",
			formatCount(rep.Removed), rep.SegmentsDropped, rep.SegmentsRewritten)
	} else {
		fmt.Fprintf(c.Stdout, "removed %s records (%d day files deleted, %d rewritten); size %s -> %s\n",
			formatCount(rep.Removed), rep.SegmentsDropped, rep.SegmentsRewritten, formatBytes(rep.BytesBefore), formatBytes(rep.BytesAfter))
	}
	if note := todayNote(pol, c.Now()); note != "" {
		fmt.Fprintln(c.Stdout, note)
	}
	return nil
}

// todayNote explains, for a policy that keeps some records less than a
// day, why today's records outlive it: cleanup never touches the files of
// the current UTC day.
func todayNote(pol sidelog.Retention, now time.Time) string {
	var short []string
	for i, age := range pol.MaxAge {
		if age > 0 && age < sidelog.Day {
			short = append(short, levelNames[i]+" "+formatAge(age))
		}
	}
	if pol.AuditAge > 0 && pol.AuditAge < sidelog.Day {
		short = append(short, "audit/security "+formatAge(pol.AuditAge))
	}
	if len(short) == 0 {
		return ""
	}
	midnight := now.UTC().Truncate(sidelog.Day).Add(sidelog.Day)
	return fmt.Sprintf("note: cleanup keeps today's (UTC) files whole, so today's records past %s stay until the first cleanup\n"+
		"after %s: the application is still writing today's files, and cleanup deletes a day's files or rewrites a\n"+
		"finished day's file beside the original, which for today's would hold the writer.",
		strings.Join(short, ", "), midnight.Format("2006-01-02 15:04 MST"))
}
