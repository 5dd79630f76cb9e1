package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/sqlite"
)

var statsCommand = &command{
	name:    "stats",
	summary: "show size, counts by level and kind, age and hourly volume",
	usage: `usage: sidelog stats [--db PATH] [--json] [--quick] [retention flags]

Shows the database's size on disk and number of day files, and where the
bytes are: records, indexes, the full-text index, free pages, and the
write-ahead logs (WAL) beside the files. A young database is mostly WAL:
each day file keeps a log of up to about 4 MiB that SQLite reuses after
every checkpoint. Measuring the parts reads every page header (SQLite's
dbstat), a few seconds per GiB; --quick leaves them out.

Then its records by level and by kind, the oldest and newest record, the
records per hour over the last 24 hours, and the retention policy (saved in
the database, or the default) with how many records cleanup would remove
now. Counts come from per-minute rollups: no table scan.

The retention flags are those of 'sidelog cleanup'.

Examples:
  sidelog stats --db logs.db
  sidelog stats --json | jq .records
`,
	run: (*CLI).runStats,
}

// statsJSON is the --json form of stats.
type statsJSON struct {
	Path      string           `json:"path"`
	Bytes     int64            `json:"bytes"`
	Space     *spaceJSON       `json:"space,omitempty"`
	Segments  int              `json:"segments"`
	Records   int64            `json:"records"`
	ByLevel   map[string]int64 `json:"by_level"`
	ByKind    map[string]int64 `json:"by_kind"`
	Oldest    *time.Time       `json:"oldest,omitempty"`
	Newest    *time.Time       `json:"newest,omitempty"`
	SQLite    string           `json:"sqlite_version"`
	Hourly    []hourJSON       `json:"last_24h"`
	Retention retentionJSON    `json:"retention"`
	Expired   int64            `json:"expired_now"`
	// AuditChain is the last 'audit verify' result; absent when the chain
	// was never verified.
	AuditChain *sqlite.ChainReport `json:"audit_chain,omitempty"`
}

// spaceJSON is where the bytes are (sqlite.Space).
type spaceJSON struct {
	Files   int   `json:"files"`
	Tables  int64 `json:"tables"`
	Indexes int64 `json:"indexes"`
	Search  int64 `json:"search"`
	Free    int64 `json:"free"`
	WAL     int64 `json:"wal"`
}

type hourJSON struct {
	Start   time.Time `json:"start"`
	Records int64     `json:"records"`
	ByLevel [4]int64  `json:"by_level"`
}

type retentionJSON struct {
	Policy   string            `json:"policy"`
	MaxAge   map[string]string `json:"max_age"`
	Audit    string            `json:"audit_security"`
	MaxBytes int64             `json:"max_bytes,omitempty"`
}

func (c *CLI) runStats(ctx context.Context, args []string) (err error) {
	fs := c.newFlags("stats")
	asJSON := fs.Bool("json", false, "print JSON")
	quick := fs.Bool("quick", false, "leave out where the bytes are (records, indexes, search, free, WAL): it reads every page header")
	pol := addRetentionFlags(fs)
	pos, err := c.parse(fs, args)
	if err != nil {
		return err
	}
	if err := noArgs(fs, pos); err != nil {
		return err
	}
	if _, err := pol.policy(sidelog.Retention{}); err != nil {
		return err
	}
	db, err := c.open(ctx, fs, false)
	if err != nil {
		return err
	}
	defer closeDB(db, &err)
	policy, err := pol.effective(ctx, db)
	if err != nil {
		return err
	}
	st, err := db.Stats(ctx)
	if err != nil {
		return err
	}
	now := c.Now()
	until := now.UTC().Truncate(time.Hour).Add(time.Hour)
	hours, err := db.Histogram(ctx, sidelog.Filter{Since: until.Add(-24 * time.Hour), Until: until}, time.Hour)
	if err != nil {
		return err
	}
	dry, err := db.Cleanup(ctx, policy, now, true)
	if err != nil {
		return err
	}
	var sp *sqlite.Space
	if !*quick {
		s, err := db.Space(ctx)
		if err != nil {
			return err
		}
		sp = &s
		st.Bytes = s.Bytes // measured together with the parts
	}
	chain, err := db.LastVerify(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeStatsJSON(c.Stdout, st, sp, hours, policy, dry.Removed, chain)
	}
	return writeStatsText(c.Stdout, st, sp, hours, policy, dry.Removed, chain)
}

func writeStatsJSON(w io.Writer, st sqlite.Stats, sp *sqlite.Space, hours []sidelog.Bucket, pol sidelog.Retention, expired int64, chain *sqlite.ChainReport) error {
	out := statsJSON{AuditChain: chain,
		Path: st.Path, Bytes: st.Bytes, Segments: st.Segments, Records: st.Records,
		ByLevel: map[string]int64{}, ByKind: map[string]int64{}, SQLite: st.SQLiteVersion,
		Hourly: []hourJSON{}, Expired: expired,
		Retention: retentionJSON{Policy: pol.String(), MaxAge: map[string]string{}, Audit: formatAge(pol.AuditAge), MaxBytes: pol.MaxBytes},
	}
	if sp != nil {
		out.Space = &spaceJSON{Files: sp.Files, Tables: sp.Tables, Indexes: sp.Indexes, Search: sp.Search, Free: sp.Free, WAL: sp.WAL}
	}
	for i, n := range st.ByLevel {
		out.ByLevel[levelNames[i]] = n
		out.Retention.MaxAge[levelNames[i]] = formatAge(pol.MaxAge[i])
	}
	for i, n := range st.ByKind {
		out.ByKind[sidelog.Kind(i).String()] = n
	}
	if !st.Oldest.IsZero() {
		out.Oldest, out.Newest = &st.Oldest, &st.Newest
	}
	for _, h := range hours {
		out.Hourly = append(out.Hourly, hourJSON{Start: h.Start.UTC(), Records: sum(h.Counts), ByLevel: h.Counts})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func writeStatsText(w io.Writer, st sqlite.Stats, sp *sqlite.Space, hours []sidelog.Bucket, pol sidelog.Retention, expired int64, chain *sqlite.ChainReport) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	levels := make([]string, 4)
	for i, n := range st.ByLevel {
		levels[i] = levelNames[i] + " " + formatCount(n)
	}
	kinds := make([]string, 4)
	for i, n := range st.ByKind {
		kinds[i] = sidelog.Kind(i).String() + " " + formatCount(n)
	}
	fmt.Fprintf(tw, "database\t%s\n", Sanitize(st.Path))
	fmt.Fprintf(tw, "size\t%s in %d day files and the catalog\n", formatBytes(st.Bytes), st.Segments)
	if sp != nil {
		writeSpace(tw, *sp)
	}
	fmt.Fprintf(tw, "records\t%s\n", formatCount(st.Records))
	fmt.Fprintf(tw, "by level\t%s\n", strings.Join(levels, ", "))
	fmt.Fprintf(tw, "by kind\t%s\n", strings.Join(kinds, ", "))
	fmt.Fprintf(tw, "oldest\t%s\n", formatTime(st.Oldest))
	fmt.Fprintf(tw, "newest\t%s\n", formatTime(st.Newest))
	fmt.Fprintf(tw, "sqlite\t%s\n", st.SQLiteVersion)
	fmt.Fprintf(tw, "retention\t%s\n", pol)
	fmt.Fprintf(tw, "expired now\t%s records (removed by 'cleanup')\n", formatCount(expired))
	fmt.Fprintf(tw, "audit chain\t%s\n", chainSummary(chain))
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nrecords per hour, last 24 hours (UTC):\n")
	var peak int64
	for _, h := range hours {
		peak = max(peak, sum(h.Counts))
	}
	for _, h := range hours {
		n := sum(h.Counts)
		bar := ""
		if peak > 0 {
			bar = strings.Repeat("#", int((n*40+peak-1)/peak))
		}
		fmt.Fprintf(w, "  %s  %7s  %s\n", h.Start.UTC().Format("2006-01-02 15:04"), formatCount(n), bar)
	}
	return nil
}

// writeSpace writes where the bytes are, one part a line, each with what
// it is.
func writeSpace(w io.Writer, sp sqlite.Space) {
	for _, p := range []struct {
		name string
		n    int64
		what string
	}{
		{"records", sp.Tables, "the records, their messages, dictionaries and rollups"},
		{"indexes", sp.Indexes, "secondary indexes on the records (fast filters)"},
		{"search", sp.Search, "the full-text index over messages"},
		{"free", sp.Free, "free pages inside the files: reused by later writes, given back by 'vacuum'"},
		{"WAL", sp.WAL, "write-ahead logs (-wal files): recent writes; folded into the files at checkpoints and then reused, not grown"},
	} {
		fmt.Fprintf(w, "  %s\t%s\t%s\n", p.name, formatBytes(p.n), p.what)
	}
}

func sum(c [4]int64) int64 { return c[0] + c[1] + c[2] + c[3] }

// chainSummary is the stats line of the last audit verify.
func chainSummary(rep *sqlite.ChainReport) string {
	switch {
	case rep == nil:
		return "never verified (run 'audit verify')"
	case rep.OK:
		return fmt.Sprintf("ok, %s records verified %s", formatCount(rep.Checked), formatTime(rep.At))
	}
	return fmt.Sprintf("BROKEN at record %d (position %d), found %s: %s", rep.Bad.ID, rep.Bad.Seq, formatTime(rep.At), Sanitize(rep.Bad.Problem))
}
