package admin

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/audit"
)

// field is one column of a record on its detail page.
type field struct {
	Name, Value string
	Note        string // a name from the business database
	URL         string // the list of records with the same value
	Pre         bool   // show as preformatted text (errors, stacks)
}

// node is one value of the attribute tree.
type node struct {
	Key      string
	Value    string // a scalar, as JSON writes it; "" for objects and arrays
	Type     string // "object", "array", "string", "number", "bool", "null"
	Children []*node
}

func (h *Handler) detail(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query().Get("q")
	p := h.newPage(r, "Record")
	p.Q = q
	p.BackURL = h.listURL(q)
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		h.renderError(w, r, http.StatusNotFound, "There is no such record.")
		return
	}
	rec, err := h.opts.Store.Get(ctx, id)
	if err != nil {
		if sidelog.ErrorCode(err) == sidelog.ENOTFOUND {
			h.renderError(w, r, http.StatusNotFound, fmt.Sprintf("Record %d does not exist (retention or a deletion may have removed it).", id))
			return
		}
		h.renderError(w, r, statusOf(err), errorText(err))
		return
	}
	rw := h.toRow(rec, q)
	p.Rec = &rw
	p.Title = "Record " + strconv.FormatInt(id, 10)
	byTerm := func(key, v string) string { return h.listURL(key + ":" + quoteValue(v)) }
	add := func(name, v, url string) {
		if v != "" {
			p.Fields = append(p.Fields, field{Name: name, Value: v, URL: url})
		}
	}
	add("id", strconv.FormatInt(rec.ID, 10), "")
	add("time", rec.Time.UTC().Format(time.RFC3339Nano), "")
	add("level", rec.Level.String(), h.listURL("level:"+rec.Level.String()))
	add("kind", rec.Kind.String(), byTerm("kind", rec.Kind.String()))
	add("logger", rec.Logger, byTerm("logger", rec.Logger))
	add("message", rec.Message, "")
	add("request_id", rec.RequestID, byTerm("request", rec.RequestID))
	add("trace_id", rec.TraceID, byTerm("trace", rec.TraceID))
	add("span_id", rec.SpanID, "")
	add("user_id", rec.UserID, byTerm("user", rec.UserID))
	add("tenant_id", rec.TenantID, byTerm("tenant", rec.TenantID))
	add("method", rec.Method, byTerm("method", rec.Method))
	add("path", rec.Path, byTerm("path", rec.Path))
	add("route", rec.Route, "")
	if rec.Status != 0 {
		add("status", strconv.Itoa(rec.Status), byTerm("status", strconv.Itoa(rec.Status)))
	}
	if rec.Duration != 0 {
		add("duration", formatDuration(rec.Duration), "")
	}
	add("client_ip", rec.ClientIP, byTerm("ip", rec.ClientIP))
	add("user_agent", rec.UserAgent, "")
	if rec.Error != "" {
		p.Fields = append(p.Fields, field{Name: "error", Value: rec.Error, Pre: true})
	}
	if h.opts.Names != nil {
		for i := range p.Fields {
			switch p.Fields[i].Name {
			case "user_id":
				p.Fields[i].Note = h.opts.Names.UserName(ctx, rec.UserID)
			case "tenant_id":
				p.Fields[i].Note = h.opts.Names.TenantName(ctx, rec.TenantID)
			}
		}
	}
	if rec.RequestID != "" {
		p.Related = append(p.Related, link{"Every record of this request", byTerm("request", rec.RequestID)})
	}
	if rec.UserID != "" {
		p.Related = append(p.Related, link{"Every record of this user", byTerm("user", rec.UserID)})
	}
	if rec.TraceID != "" {
		p.Related = append(p.Related, link{"Every record of this trace", byTerm("trace", rec.TraceID)})
	}
	if rec.TenantID != "" {
		p.Related = append(p.Related, link{"Every record of this tenant", byTerm("tenant", rec.TenantID)})
	}
	around := 5 * time.Second
	if ch, ok := audit.ChangeOf(rec); ok {
		p.Related = append(p.Related, link{"History of " + ch.Entity + " " + ch.EntityID, h.historyURL(ch.Entity, ch.EntityID, "", "", "", 0)})
	}
	p.Related = append(p.Related, link{"Everything within 5 seconds", h.listURL(withRange("", rec.Time.Add(-around), rec.Time.Add(around)))})
	if len(rec.Attrs) > 0 {
		var v any
		d := json.NewDecoder(bytes.NewReader(rec.Attrs))
		d.UseNumber()
		if d.Decode(&v) == nil {
			p.Attrs = tree("", v)
		}
	}
	raw, _ := json.MarshalIndent(rec, "", "  ")
	p.RawJSON = string(raw)
	h.readEvent(r, "record", strconv.FormatInt(id, 10), "record_id", id)
	h.render(w, r, "detail.html", http.StatusOK, p)
}

// tree turns a decoded JSON value into a node tree, keys sorted.
func tree(key string, v any) *node {
	n := &node{Key: key}
	switch v := v.(type) {
	case map[string]any:
		n.Type = "object"
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			n.Children = append(n.Children, tree(k, v[k]))
		}
	case []any:
		n.Type = "array"
		for i, e := range v {
			n.Children = append(n.Children, tree(strconv.Itoa(i), e))
		}
	case string:
		n.Type, n.Value = "string", v
	case json.Number:
		n.Type, n.Value = "number", v.String()
	case bool:
		n.Type, n.Value = "bool", strconv.FormatBool(v)
	case nil:
		n.Type, n.Value = "null", "null"
	}
	return n
}
