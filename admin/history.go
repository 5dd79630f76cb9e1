package admin

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/audit"
)

// historyView is the audit history page: the changes of the business data
// recorded by package audit, filtered by object, actor and time, each with
// its diff old → new.
type historyView struct {
	Entity, ID, Actor, Since, Until string
	Changes                         []historyChange
	// State is the object as of Until (or now), rebuilt from its own
	// changes, when the page shows one object: still there after a delete.
	State *historyState
	Older string // the next page, when there is one
	Note  string // why the list may be short
}

// historyChange is one change as the page shows it.
type historyChange struct {
	Time, Ago          string
	Action             string
	Entity, EntityID   string
	EntityURL          string // this object's history
	Actor, ActorURL    string
	ActorName          string // from the business database
	RequestID          string
	RequestURL         string // every record of the request in the log list
	ClientIP           string
	RecordURL          string
	Via                string // the change is in this history through a reference ("membership 3:7")
	Fields             []diffField
	TenantID, TenantNm string
}

// diffField is one field of a change: old → new.
type diffField struct {
	Name             string
	Old, New         string
	HasOld, HasNew   bool
	Redacted, Edited bool // a sensitive field; an update of this field
}

// historyState is one object as of a moment.
type historyState struct {
	Exists   bool
	Complete bool
	At       string
	Fields   []diffField // Name and New only
	Deleted  string      // when and by whom, if the newest change is a delete
}

var (
	entityRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)
	idRE     = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,100}$`)
)

// historyLimit is the number of changes on one page; historyScan bounds
// the records read to fill a page when the filter is checked after the
// store's (an actor named by a command, an entity without id).
const (
	historyLimit = 50
	historyScan  = 5000
)

func (h *Handler) history(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	v := &historyView{Entity: strings.TrimSpace(q.Get("entity")), ID: strings.TrimSpace(q.Get("id")),
		Actor: strings.TrimSpace(q.Get("actor")), Since: strings.TrimSpace(q.Get("since")), Until: strings.TrimSpace(q.Get("until"))}
	p := h.newPage(r, "Change history")
	p.History = v
	bad := func(msg string) {
		p.Error = msg
		h.render(w, r, "history.html", http.StatusBadRequest, p)
	}
	if v.Entity != "" && !entityRE.MatchString(v.Entity) {
		bad("The object type is a lowercase name like project or user.")
		return
	}
	if v.ID != "" && (v.Entity == "" || !idRE.MatchString(v.ID)) {
		bad("An object id needs its type, and looks like 42 or 3:7.")
		return
	}
	if len(v.Actor) > 100 {
		bad("The actor is at most 100 characters, like user 7 or cli:createsuperuser.")
		return
	}
	now := h.opts.Now()
	var since, until time.Time
	var err error
	if v.Since != "" {
		if since, err = sidelog.ParseSince(v.Since, now); err != nil {
			bad("From: " + errorText(err))
			return
		}
	}
	if v.Until != "" {
		if until, err = sidelog.ParseSince(v.Until, now); err != nil {
			bad("Until: " + errorText(err))
			return
		}
	}
	var before int64
	if s := q.Get("before"); s != "" {
		if before, err = strconv.ParseInt(s, 10, 64); err != nil || before <= 0 {
			bad("The page position is not valid.")
			return
		}
	}
	if v.ID != "" {
		err = h.objectHistory(r, v, since, until)
	} else {
		err = h.recentChanges(r, v, since, until, before)
	}
	if err != nil {
		p.Error = errorText(err)
		h.render(w, r, "history.html", statusOf(err), p)
		return
	}
	if v.ID != "" {
		p.Title = "History of " + v.Entity + " " + v.ID
	}
	h.readEvent(r, "history", r.URL.RawQuery)
	h.render(w, r, "history.html", http.StatusOK, p)
}

// objectHistory fills v with one object's changes, newest first, and its
// state as of until.
func (h *Handler) objectHistory(r *http.Request, v *historyView, since, until time.Time) error {
	ctx := r.Context()
	hist, err := audit.History(ctx, h.opts.Store, audit.HistoryQuery{Entity: v.Entity, ID: v.ID, Until: until})
	if err != nil {
		return err
	}
	var own []audit.Change
	for _, ch := range hist {
		if ch.Entity == v.Entity && ch.EntityID == v.ID {
			own = append(own, ch)
		}
		if !since.IsZero() && ch.Time.Before(since) || !matchActor(ch, v.Actor) {
			continue
		}
		if len(v.Changes) < 500 {
			v.Changes = append(v.Changes, h.viewChange(r, ch, v.Entity, v.ID))
		}
	}
	if len(v.Changes) == 500 {
		v.Note = "Only the newest 500 changes are shown; narrow the time range to see older ones."
	}
	if len(own) == 0 {
		return nil
	}
	slices.Reverse(own)
	st := audit.Replay(own)
	at := until
	if at.IsZero() {
		at = h.opts.Now()
	}
	hs := &historyState{Exists: st.Exists, Complete: st.Complete, At: at.UTC().Format(time.RFC3339)}
	for _, name := range sortedKeys(st.Fields) {
		hs.Fields = append(hs.Fields, diffField{Name: name, New: valueString(st.Fields[name]), HasNew: true,
			Redacted: st.Fields[name] == audit.Redacted})
	}
	if !st.Exists && st.Last != nil {
		hs.Deleted = fmt.Sprintf("%s by %s", st.Last.Time.UTC().Format("2006-01-02 15:04:05"), st.Last.Actor)
	}
	v.State = hs
	return nil
}

// recentChanges fills v with one page of changes of every object, newest
// first, filtered by type, actor and time.
func (h *Handler) recentChanges(r *http.Request, v *historyView, since, until time.Time, before int64) error {
	f := sidelog.Filter{Kinds: []sidelog.Kind{sidelog.KindAudit}, Logger: audit.Logger, Since: since, Until: until}
	if id := strings.TrimPrefix(v.Actor, "user "); idRE.MatchString(id) && !strings.Contains(id, ":") {
		f.UserID = id // the store narrows; matchActor checks exactly
	}
	if v.Entity != "" {
		f.Text = `"` + v.Entity + `"`
	}
	pg := sidelog.Page{Limit: 200, After: sidelog.Cursor{ID: before}}
	scanned := 0
	for {
		res, err := h.opts.Store.Query(r.Context(), f, pg)
		if err != nil {
			return err
		}
		for i, rec := range res.Records {
			scanned++
			ch, ok := audit.ChangeOf(rec)
			if !ok || v.Entity != "" && ch.Entity != v.Entity || !matchActor(ch, v.Actor) {
				continue
			}
			v.Changes = append(v.Changes, h.viewChange(r, ch, "", ""))
			if len(v.Changes) == historyLimit {
				if i < len(res.Records)-1 || res.Next != (sidelog.Cursor{}) {
					v.Older = h.historyURL(v.Entity, "", v.Actor, v.Since, v.Until, rec.ID)
				}
				return nil
			}
		}
		if res.Next == (sidelog.Cursor{}) {
			return nil
		}
		pg.After = res.Next
		if scanned >= historyScan {
			v.Older = h.historyURL(v.Entity, "", v.Actor, v.Since, v.Until, res.Next.ID)
			v.Note = fmt.Sprintf("%d audit records were read without filling the page; older changes may match.", scanned)
			return nil
		}
	}
}

// matchActor reports whether ch was made by actor ("" matches all): the
// whole actor ("user 7", "cli:createsuperuser") or, for a user, the id.
func matchActor(ch audit.Change, actor string) bool {
	return actor == "" || ch.Actor == actor || ch.Actor == "user "+actor
}

// viewChange turns a change into its row; entity and id name the object
// whose history is shown ("" on the list of every change).
func (h *Handler) viewChange(r *http.Request, ch audit.Change, entity, id string) historyChange {
	c := historyChange{
		Time: ch.Time.UTC().Format("2006-01-02 15:04:05.000"), Ago: ago(h.opts.Now().Sub(ch.Time)),
		Action: ch.Action, Entity: ch.Entity, EntityID: ch.EntityID,
		EntityURL: h.historyURL(ch.Entity, ch.EntityID, "", "", "", 0),
		Actor:     ch.Actor, ActorURL: h.historyURL("", "", ch.Actor, "", "", 0),
		RequestID: ch.RequestID, ClientIP: ch.ClientIP, TenantID: ch.TenantID,
		RecordURL: h.recordURL(ch.RecordID, ""),
	}
	if ch.RequestID != "" {
		c.RequestURL = h.listURL("request:" + quoteValue(ch.RequestID))
	}
	if uid, ok := strings.CutPrefix(ch.Actor, "user "); ok && h.opts.Names != nil {
		c.ActorName = h.opts.Names.UserName(r.Context(), uid)
	}
	if ch.TenantID != "" && h.opts.Names != nil {
		c.TenantNm = h.opts.Names.TenantName(r.Context(), ch.TenantID)
	}
	if entity != "" && (ch.Entity != entity || ch.EntityID != id) {
		c.Via = ch.Entity + " " + ch.EntityID
	}
	for _, name := range sortedKeys(ch.Diff) {
		d := ch.Diff[name]
		c.Fields = append(c.Fields, diffField{Name: name,
			Old: valueString(d[0]), New: valueString(d[1]), HasOld: d[0] != nil, HasNew: d[1] != nil,
			Redacted: d[0] == audit.Redacted || d[1] == audit.Redacted, Edited: ch.Action == audit.ActionUpdate})
	}
	return c
}

// historyURL is the history page for a filter.
func (h *Handler) historyURL(entity, id, actor, since, until string, before int64) string {
	v := url.Values{}
	for k, s := range map[string]string{"entity": entity, "id": id, "actor": actor, "since": since, "until": until} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if before > 0 {
		v.Set("before", strconv.FormatInt(before, 10))
	}
	if len(v) == 0 {
		return h.opts.Prefix + "/history"
	}
	return h.opts.Prefix + "/history?" + v.Encode()
}

// valueString renders a diff value: strings as they are, the rest as JSON.
func valueString(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case json.Number:
		return v.String()
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// ago is a rough age: "5 min ago".
func ago(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + " min ago"
	case d < 48*time.Hour:
		return strconv.Itoa(int(d/time.Hour)) + " h ago"
	}
	return strconv.Itoa(int(d/(24*time.Hour))) + " days ago"
}
