package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/export"
)

var showCommand = &command{
	name:    "show",
	summary: "print one record whole, by its id",
	usage: `usage: sidelog show [--db PATH] [--format text|json] ID...

Prints each record whole: every field, and its attributes as indented
JSON. The id is the one query and tail print (id=...) and the JSON
formats carry.

Examples:
  sidelog show --db logs.db 89232240542940
  sidelog show 89232240542940 --format json
`,
	run: (*CLI).runShow,
}

func (c *CLI) runShow(ctx context.Context, args []string) (err error) {
	fs := c.newFlags("show")
	format := fs.String("format", formatText, "output `FORMAT`: text, or json (one object per line)")
	pos, err := c.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usageError("show needs a record id (see '%s show --help')", c.Name)
	}
	if *format != formatText && *format != formatJSON {
		return usageError("unknown format %q (want text or json)", *format)
	}
	ids := make([]int64, len(pos))
	for i, p := range pos {
		if ids[i], err = strconv.ParseInt(p, 10, 64); err != nil || ids[i] <= 0 {
			return usageError("bad record id %q (want the number query prints as id=...)", p)
		}
	}
	db, err := c.open(ctx, fs, false)
	if err != nil {
		return err
	}
	defer closeDB(db, &err)
	for i, id := range ids {
		r, err := db.Get(ctx, id)
		if err != nil {
			return err
		}
		if *format == formatJSON {
			w := export.NewJSONL(c.Stdout)
			if err := w.Write(r); err != nil {
				return err
			}
			if err := w.Close(); err != nil {
				return err
			}
			continue
		}
		if i > 0 {
			fmt.Fprintln(c.Stdout)
		}
		if err := writeRecordWhole(c.Stdout, r); err != nil {
			return err
		}
	}
	return nil
}

// writeRecordWhole prints a record as "field  value" lines, then its
// attributes as indented JSON; every value is sanitised.
func writeRecordWhole(w interface{ Write([]byte) (int, error) }, r sidelog.Record) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	line := func(k, v string) {
		if v != "" && v != "0" {
			fmt.Fprintf(tw, "%s\t%s\n", k, Sanitize(v))
		}
	}
	line("id", strconv.FormatInt(r.ID, 10))
	line("time", r.Time.UTC().Format(time.RFC3339Nano))
	line("level", r.Level.String())
	line("kind", r.Kind.String())
	line("logger", r.Logger)
	line("message", r.Message)
	line("error", r.Error)
	line("request_id", r.RequestID)
	line("trace_id", r.TraceID)
	line("span_id", r.SpanID)
	line("user_id", r.UserID)
	line("tenant_id", r.TenantID)
	line("method", r.Method)
	line("path", r.Path)
	line("route", r.Route)
	line("status", strconv.Itoa(r.Status))
	if r.Duration != 0 {
		line("duration", r.Duration.String())
	}
	line("client_ip", r.ClientIP)
	line("user_agent", r.UserAgent)
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.Attrs) == 0 {
		return nil
	}
	var buf bytes.Buffer
	if json.Indent(&buf, r.Attrs, "  ", "  ") != nil {
		buf.Reset()
		buf.Write(r.Attrs)
	}
	// Indented JSON keeps its escapes; Sanitize guards each line anyway.
	lines := strings.Split(buf.String(), "\n")
	for i := range lines {
		lines[i] = Sanitize(lines[i])
	}
	_, err := fmt.Fprintf(w, "attrs\n  %s\n", strings.Join(lines, "\n"))
	return err
}
