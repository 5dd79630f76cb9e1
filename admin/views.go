package admin

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/sidelog/sidelog"
)

// viewsKey is the setting that holds the saved views as a JSON array.
const viewsKey = "admin.views"

// maxViews bounds the saved views of the whole database.
const maxViews = 500

// savedView is a query saved under a name: private to its owner, or shared
// with everyone by a superuser.
type savedView struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Query  string `json:"query"`
	Owner  string `json:"owner"`
	Shared bool   `json:"shared,omitempty"`
}

// viewItem is a saved view in the side panel.
type viewItem struct {
	savedView
	URL       string
	Count     int64 // matching records in the last hour; -1 unknown
	Active    bool
	CanDelete bool
}

// countCache keeps the views' last-hour counts for a short while, so the
// side panel costs little on every page.
type countCache struct {
	mu sync.Mutex
	m  map[string]countEntry
}

type countEntry struct {
	n  int64
	at time.Time
}

const countTTL = 30 * time.Second

func (h *Handler) loadViews(ctx context.Context) ([]savedView, bool, error) {
	st, ok := h.opts.Store.(SettingsStore)
	if !ok {
		return nil, false, nil
	}
	s, found, err := st.Setting(ctx, viewsKey)
	if err != nil || !found {
		return nil, true, err
	}
	var vs []savedView
	if err := json.Unmarshal([]byte(s), &vs); err != nil {
		return nil, true, err
	}
	return vs, true, nil
}

func (h *Handler) saveViews(ctx context.Context, vs []savedView) error {
	b, _ := json.Marshal(vs)
	return h.opts.Store.(SettingsStore).SetSetting(ctx, viewsKey, string(b))
}

// sideViews returns the views u may see, with their counts.
func (h *Handler) sideViews(r *http.Request, u *User, q string) ([]viewItem, bool) {
	ctx := r.Context()
	vs, ok, err := h.loadViews(ctx)
	if err != nil || !ok {
		return nil, ok
	}
	now := h.opts.Now()
	var out []viewItem
	for _, v := range vs {
		if !v.Shared && v.Owner != u.ID {
			continue
		}
		out = append(out, viewItem{
			savedView: v,
			URL:       h.listURL(v.Query),
			Count:     h.lastHourCount(ctx, v.Query, now),
			Active:    v.Query == q,
			CanDelete: v.Owner == u.ID || u.Role >= RoleSuperuser,
		})
	}
	return out, true
}

// lastHourCount counts the records of the last hour matching q.
func (h *Handler) lastHourCount(ctx context.Context, q string, now time.Time) int64 {
	h.counts.mu.Lock()
	e, hit := h.counts.m[q]
	h.counts.mu.Unlock()
	if hit && now.Sub(e.at) < countTTL {
		return e.n
	}
	f, err := sidelog.ParseQuery(q, now)
	if err != nil {
		return -1
	}
	if hour := now.Add(-time.Hour); f.Since.Before(hour) {
		f.Since = hour
	}
	if !f.Until.IsZero() && f.Until.Before(f.Since) {
		return 0
	}
	cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	n, err := h.opts.Store.Count(cctx, f)
	if err != nil {
		return -1
	}
	h.counts.mu.Lock()
	if len(h.counts.m) > 1000 {
		clear(h.counts.m)
	}
	h.counts.m[q] = countEntry{n, now}
	h.counts.mu.Unlock()
	return n
}

func (h *Handler) viewCreate(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	u := h.user(r)
	q, _, err := h.parse(r)
	if err != nil {
		h.renderError(w, r, http.StatusBadRequest, "The view was not saved: "+errorText(err))
		return
	}
	name := strings.TrimSpace(r.PostFormValue("name"))
	if name == "" || utf8.RuneCountInString(name) > 80 || strings.ContainsAny(name, "\x00\r\n") {
		h.renderError(w, r, http.StatusBadRequest, "A saved view needs a name of at most 80 characters on one line.")
		return
	}
	h.viewsMu.Lock()
	defer h.viewsMu.Unlock()
	vs, ok, err := h.loadViews(ctx)
	if err != nil || !ok {
		h.renderError(w, r, http.StatusInternalServerError, "Saved views are not available on this store.")
		return
	}
	if len(vs) >= maxViews {
		h.renderError(w, r, http.StatusConflict, "There are too many saved views; delete some first.")
		return
	}
	v := savedView{ID: strings.ToLower(rand.Text()[:10]), Name: name, Query: q, Owner: u.ID,
		Shared: r.PostFormValue("shared") != "" && u.Role >= RoleSuperuser}
	if err := h.saveViews(ctx, append(vs, v)); err != nil {
		h.renderError(w, r, statusOf(err), errorText(err))
		return
	}
	http.Redirect(w, r, h.listURL(q), http.StatusSeeOther)
}

func (h *Handler) viewDelete(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	u := h.user(r)
	id := r.PathValue("id")
	h.viewsMu.Lock()
	defer h.viewsMu.Unlock()
	vs, ok, err := h.loadViews(ctx)
	if err != nil || !ok {
		h.renderError(w, r, http.StatusInternalServerError, "Saved views are not available on this store.")
		return
	}
	for i, v := range vs {
		if v.ID != id {
			continue
		}
		if v.Owner != u.ID && u.Role < RoleSuperuser || !v.Shared && v.Owner != u.ID {
			break
		}
		if err := h.saveViews(ctx, append(vs[:i:i], vs[i+1:]...)); err != nil {
			h.renderError(w, r, statusOf(err), errorText(err))
			return
		}
		http.Redirect(w, r, h.opts.Prefix+"/", http.StatusSeeOther)
		return
	}
	h.renderError(w, r, http.StatusNotFound, "There is no such saved view.")
}
