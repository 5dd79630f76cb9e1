package admin

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/export"
)

// export streams the records matching the query, oldest first, in the
// format asked for (jsonl, csv or parquet).
func (h *Handler) export(w http.ResponseWriter, r *http.Request) {
	q, f, err := h.parse(r)
	if err != nil {
		h.renderError(w, r, http.StatusBadRequest, errorText(err))
		return
	}
	format := r.URL.Query().Get("format")
	if format == "" {
		format = export.FormatJSONL
	}
	types := map[string]string{
		export.FormatJSONL:   "application/jsonl; charset=utf-8",
		export.FormatCSV:     "text/csv; charset=utf-8",
		export.FormatParquet: "application/vnd.apache.parquet",
	}
	ctype, ok := types[format]
	if !ok {
		h.renderError(w, r, http.StatusBadRequest, fmt.Sprintf("Unknown export format %q: choose jsonl, csv or parquet.", format))
		return
	}
	ew, err := export.NewWriter(format, w)
	if err != nil {
		h.renderError(w, r, http.StatusBadRequest, errorText(err))
		return
	}
	h.readEvent(r, "export", q, "format", format)
	name := "sidelog-" + h.opts.Now().UTC().Format("20060102-150405") + "." + format
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("Cache-Control", "no-store")
	n := 0
	for rec, err := range h.opts.Store.Scan(r.Context(), f) {
		if err != nil {
			// The header is gone; all we can do is stop, and say so in the log.
			h.opts.Logger.ErrorContext(r.Context(), "export failed", "error", err, "query", q)
			return
		}
		if err := ew.Write(rec); err != nil {
			return
		}
		if n++; n%5000 == 0 {
			ew.Flush()
		}
	}
	ew.Close()
}

func (h *Handler) deleteForm(w http.ResponseWriter, r *http.Request) {
	q, f, err := h.parse(r)
	p := h.newPage(r, "Delete records")
	p.Q = q
	p.BackURL = h.listURL(q)
	if err != nil {
		p.Error = errorText(err)
		h.render(w, r, "delete.html", http.StatusBadRequest, p)
		return
	}
	if q == "" {
		p.Error = "Delete needs a query: deleting every record is retention's job."
		h.render(w, r, "delete.html", http.StatusBadRequest, p)
		return
	}
	if p.Count, err = h.opts.Store.Count(r.Context(), f); err != nil {
		p.Error = errorText(err)
		h.render(w, r, "delete.html", statusOf(err), p)
		return
	}
	if _, ok := h.opts.Store.(Deleter); !ok {
		p.Error = "This log store cannot delete records."
	}
	h.render(w, r, "delete.html", http.StatusOK, p)
}

func (h *Handler) deletePost(w http.ResponseWriter, r *http.Request) {
	q, f, err := h.parse(r)
	if err != nil {
		h.renderError(w, r, http.StatusBadRequest, errorText(err))
		return
	}
	del, ok := h.opts.Store.(Deleter)
	if !ok || q == "" {
		h.renderError(w, r, http.StatusBadRequest, "This log store cannot delete records, or the query is empty.")
		return
	}
	// Relative times were resolved when the form was shown; the count
	// the user confirmed is the one to check against.
	n, err := del.Delete(r.Context(), f, h.user(r).ID)
	level := slog.LevelWarn
	if err != nil {
		level = slog.LevelError
	}
	h.security(r, level, "logs deleted by query", "query", q, "deleted", n, "confirmed_count", r.PostFormValue("count"), "error", err)
	if err != nil {
		h.renderError(w, r, statusOf(err), errorText(err))
		return
	}
	h.setFlash(w, fmt.Sprintf("Deleted %d records matching %s", n, q))
	http.Redirect(w, r, h.opts.Prefix+"/", http.StatusSeeOther)
}

// tail streams new records matching the query as server-sent events: each
// event is a rendered list row, newest last.
func (h *Handler) tail(w http.ResponseWriter, r *http.Request) {
	q, f, err := h.parse(r)
	if err != nil {
		http.Error(w, errorText(err), http.StatusBadRequest)
		return
	}
	rc := http.NewResponseController(w)
	after, _ := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
	if id, err := strconv.ParseInt(r.Header.Get("Last-Event-ID"), 10, 64); err == nil && id > after {
		after = id
	}
	ctx := r.Context()
	if after == 0 {
		res, err := h.opts.Store.Query(ctx, f, sidelog.Page{Limit: 1})
		if err == nil && len(res.Records) > 0 {
			after = res.Records[0].ID
		}
	}
	// Relative bounds (since:15m) move with the clock; an absolute until
	// in the past ends nothing, it only matches nothing new.
	f.Since = time.Time{}
	h.readEvent(r, "tail", q)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprintf(w, "retry: 2000\n: tail of %q\n\n", q)
	rc.Flush()
	rc.SetWriteDeadline(time.Time{})
	tick := time.NewTicker(h.opts.TailInterval)
	defer tick.Stop()
	// With a follower, records are whatever was written since it started,
	// in any day's file; the records written between the page and the
	// follower's start come from one query for those newer than the page's.
	var fl Follower
	if h.opts.Follow != nil {
		if fl, err = h.opts.Follow(ctx, f); err != nil {
			fmt.Fprintf(w, "event: failure\ndata: %s\n\n", oneLine(errorText(err)))
			rc.Flush()
			return
		}
	}
	caughtUp := false
	beat := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		var fresh []sidelog.Record // newest first
		if fl == nil || !caughtUp {
			res, err := h.opts.Store.Query(ctx, f, sidelog.Page{Limit: 100})
			if err != nil {
				fmt.Fprintf(w, "event: failure\ndata: %s\n\n", oneLine(errorText(err)))
				rc.Flush()
				continue
			}
			for _, rec := range res.Records {
				if rec.ID > after {
					fresh = append(fresh, rec)
				}
			}
			caughtUp = true
		} else {
			recs, err := fl.Next(ctx, 100)
			if err != nil {
				fmt.Fprintf(w, "event: failure\ndata: %s\n\n", oneLine(errorText(err)))
				rc.Flush()
				continue
			}
			for i := len(recs) - 1; i >= 0; i-- { // Next gives them oldest first
				fresh = append(fresh, recs[i])
			}
		}
		for i := len(fresh) - 1; i >= 0; i-- {
			var b bytes.Buffer
			rw := h.toRow(fresh[i], q)
			if err := templates["list.html"].ExecuteTemplate(&b, "row", rowData{Row: rw}); err != nil {
				return
			}
			fmt.Fprintf(w, "id: %d\nevent: record\n", rw.ID)
			for _, line := range bytes.Split(b.Bytes(), []byte("\n")) {
				fmt.Fprintf(w, "data: %s\n", line)
			}
			fmt.Fprint(w, "\n")
			after = max(after, rw.ID)
		}
		if len(fresh) == 0 {
			if beat++; beat%15 != 0 {
				continue
			}
			fmt.Fprint(w, ": heartbeat\n\n")
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}

// rowData is what the row template gets: the row and whether its time
// should be marked new.
type rowData struct {
	Row row
	New bool
}

func oneLine(s string) string {
	return string(bytes.ReplaceAll(bytes.ReplaceAll([]byte(s), []byte("\r"), nil), []byte("\n"), []byte(" ")))
}
