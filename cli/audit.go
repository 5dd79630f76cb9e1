package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/audit"
	"github.com/sidelog/sidelog/sqlite"
)

var auditCommand = &command{
	name:    "audit",
	summary: "verify the audit hash chain; history of one entity",
	usage: `usage: sidelog audit verify [--db PATH] [--head SEQ:HASH] [--json]
       sidelog audit head [--db PATH]
       sidelog audit history [--db PATH] [--as-of TIME] [--limit N] [--json] ENTITY ID

verify walks the hash chain over every audit and security record, oldest
first, and names the first record that was edited, removed, inserted or
reordered; it exits 1 when the chain is broken. A truncated tail (the newest
records removed) is detected against a head exported earlier with
--head SEQ:HASH. The result is saved and shown by 'sidelog stats'.

head prints the chain's newest link as SEQ:HASH: keep it somewhere the log
database's users cannot write (the business database, a ticket, a
printout) and give it to verify later.

history lists the changes of one business entity, newest first: who made
each, when, from which request and client, and the fields changed old ->
new. Changes of other entities that name it are included (a membership
in its user's and its organisation's history). With --as-of it prints the
entity's state at that time instead, rebuilt from its history.

Examples:
  sidelog audit verify --db logs.db
  sidelog audit verify --head "$(cat chain-head.txt)"
  sidelog audit head > chain-head.txt
  sidelog audit history project 42
  sidelog audit history user 7 --as-of 2026-11-01T12:00:00Z
`,
	run: (*CLI).runAudit,
}

func (c *CLI) runAudit(ctx context.Context, args []string) (err error) {
	fs := c.newFlags("audit")
	head := fs.String("head", "", "verify: an exported chain head `SEQ:HASH` the chain must still reach")
	asJSON := fs.Bool("json", false, "print JSON")
	asOf := fs.String("as-of", "", "history: the entity's state at `TIME` (RFC 3339, or a duration ago: 90m, 7d)")
	limit := fs.Int("limit", 0, "history: at most `N` changes (0: all)")
	pos, err := c.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usageError("audit needs a subcommand: verify, head or history (see '%s audit --help')", c.Name)
	}
	sub, pos := pos[0], pos[1:]
	want := map[string]int{"verify": 0, "head": 0, "history": 2}
	n, ok := want[sub]
	if !ok {
		return usageError("unknown audit subcommand %q (want verify, head or history)", sub)
	}
	if len(pos) != n {
		if sub == "history" {
			return usageError("audit history needs ENTITY ID, like: audit history project 42")
		}
		return usageError("audit %s takes no arguments, got %q", sub, pos)
	}
	if *head != "" && sub != "verify" || *asOf != "" && sub != "history" || *limit != 0 && sub != "history" {
		return usageError("--head is for audit verify; --as-of and --limit for audit history")
	}
	if *limit < 0 {
		return usageError("--limit must be 0 or more")
	}
	var exported *sqlite.ChainHead
	if *head != "" {
		h, err := sqlite.ParseChainHead(*head)
		if err != nil {
			return err
		}
		exported = &h
	}
	var at time.Time
	if *asOf != "" {
		if at, err = sidelog.ParseSince(*asOf, c.Now()); err != nil {
			return usageError("--as-of: %s", sidelog.ErrorMessage(err))
		}
	}
	db, err := c.open(ctx, fs, false)
	if err != nil {
		return err
	}
	defer closeDB(db, &err)
	switch sub {
	case "verify":
		return c.auditVerify(ctx, db, exported, *asJSON)
	case "head":
		h, err := db.ChainHead(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintln(c.Stdout, h)
		return nil
	}
	if !at.IsZero() {
		return c.auditAsOf(ctx, db, pos[0], pos[1], at, *asJSON)
	}
	return c.auditHistory(ctx, db, audit.HistoryQuery{Entity: pos[0], ID: pos[1], Limit: *limit}, *asJSON)
}

// errChainBroken makes verify exit 1.
var errChainBroken = errors.New("the audit chain is broken")

func (c *CLI) auditVerify(ctx context.Context, db *sqlite.DB, head *sqlite.ChainHead, asJSON bool) error {
	var opts sqlite.VerifyOptions
	opts.Head = head
	rep, err := db.VerifyChain(ctx, opts)
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(c.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		writeVerify(c.Stdout, rep)
	}
	if !rep.OK {
		return errChainBroken
	}
	return nil
}

func writeVerify(w io.Writer, rep sqlite.ChainReport) {
	if rep.OK {
		fmt.Fprintf(w, "ok: %s chained records verified, head %s\n", formatCount(rep.Checked), rep.Head)
	} else {
		fmt.Fprintf(w, "BROKEN: %s\n", Sanitize(rep.Bad.Problem))
		if rep.Bad.ID != 0 {
			fmt.Fprintf(w, "first bad record: %d (chain position %d); %s records verified before it\n",
				rep.Bad.ID, rep.Bad.Seq, formatCount(rep.Checked))
		}
	}
	if rep.Anchor.Seq > 0 {
		fmt.Fprintf(w, "started after position %d (older records removed by retention)\n", rep.Anchor.Seq)
	}
	if rep.Erased > 0 {
		fmt.Fprintf(w, "%s positions erased on purpose (purge) were stepped over\n", formatCount(rep.Erased))
	}
	if rep.PreChain > 0 {
		fmt.Fprintf(w, "%s audit and security records are older than the chain and were not verified\n", formatCount(rep.PreChain))
	}
}

// changeJSON is one change in history --json.
type changeJSON struct {
	Time      time.Time         `json:"time"`
	ID        int64             `json:"id"`
	Entity    string            `json:"entity"`
	EntityID  string            `json:"entity_id"`
	Action    string            `json:"action"`
	Actor     string            `json:"actor"`
	UserID    string            `json:"user_id,omitempty"`
	TenantID  string            `json:"tenant_id,omitempty"`
	RequestID string            `json:"request_id,omitempty"`
	ClientIP  string            `json:"client_ip,omitempty"`
	Diff      map[string][2]any `json:"diff"`
}

func (c *CLI) auditHistory(ctx context.Context, db *sqlite.DB, q audit.HistoryQuery, asJSON bool) error {
	hist, err := audit.History(ctx, db, q)
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(c.Stdout)
		for _, ch := range hist {
			if err := enc.Encode(changeJSON{ch.Time.UTC(), ch.RecordID, ch.Entity, ch.EntityID, ch.Action, ch.Actor,
				ch.UserID, ch.TenantID, ch.RequestID, ch.ClientIP, ch.Diff}); err != nil {
				return err
			}
		}
		return nil
	}
	if len(hist) == 0 {
		fmt.Fprintf(c.Stdout, "no recorded changes of %s %s\n", Sanitize(q.Entity), Sanitize(q.ID))
		return nil
	}
	for _, ch := range hist {
		line := fmt.Sprintf("%s  %s %s %s by %s", formatTime(ch.Time), ch.Action, ch.Entity, ch.EntityID, ch.Actor)
		if ch.RequestID != "" {
			line += " request " + ch.RequestID
		}
		if ch.ClientIP != "" {
			line += " from " + ch.ClientIP
		}
		fmt.Fprintln(c.Stdout, Sanitize(line))
		for _, f := range slices.Sorted(maps.Keys(ch.Diff)) {
			d := ch.Diff[f]
			fmt.Fprintf(c.Stdout, "    %s: %s -> %s\n", Sanitize(f), Sanitize(diffValue(d[0])), Sanitize(diffValue(d[1])))
		}
	}
	return nil
}

func (c *CLI) auditAsOf(ctx context.Context, db *sqlite.DB, entity, id string, at time.Time, asJSON bool) error {
	st, err := audit.AsOf(ctx, db, entity, id, at)
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(c.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Entity   string         `json:"entity"`
			ID       string         `json:"id"`
			AsOf     time.Time      `json:"as_of"`
			Exists   bool           `json:"exists"`
			Complete bool           `json:"complete"`
			Changes  int            `json:"changes"`
			Fields   map[string]any `json:"fields"`
		}{entity, id, at.UTC(), st.Exists, st.Complete, st.Changes, st.Fields})
	}
	state := "existed"
	switch {
	case st.Changes == 0:
		fmt.Fprintf(c.Stdout, "%s %s as of %s: no recorded change before then\n", Sanitize(entity), Sanitize(id), formatTime(at))
		return nil
	case !st.Exists && st.Last.Action == audit.ActionDelete:
		state = "deleted (last values below)"
	}
	fmt.Fprintf(c.Stdout, "%s %s as of %s: %s, after %d changes (last %s by %s)\n", Sanitize(entity), Sanitize(id), formatTime(at),
		state, st.Changes, formatTime(st.Last.Time), Sanitize(st.Last.Actor))
	if !st.Complete {
		fmt.Fprintln(c.Stdout, "  (its creation is no longer recorded: fields never changed since are missing)")
	}
	for _, f := range slices.Sorted(maps.Keys(st.Fields)) {
		fmt.Fprintf(c.Stdout, "    %s: %s\n", Sanitize(f), Sanitize(diffValue(st.Fields[f])))
	}
	return nil
}

// diffValue renders a diff value: JSON, with strings quoted and null as -.
func diffValue(v any) string {
	if v == nil {
		return "-"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSpace(string(b))
}
