package browser

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// api calls the app's JSON API as c, with the CSRF token of /api/me, and
// decodes the answer into out (when not nil).
func (c *client) api(method, path string, in, out any) int {
	c.t.Helper()
	_, me := c.get("/api/me")
	var tok struct {
		CSRF        string `json:"csrf_token"`
		Memberships []struct {
			OrgID int64 `json:"org_id"`
		} `json:"memberships"`
	}
	if err := json.Unmarshal([]byte(me), &tok); err != nil {
		c.t.Fatalf("/api/me: %v: %s", err, me)
	}
	if path == "" { // the caller wants the first organisation's id
		return int(tok.Memberships[0].OrgID)
	}
	b, _ := json.Marshal(in)
	req, _ := http.NewRequest(method, c.base+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", tok.CSRF)
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	if out != nil {
		json.NewDecoder(res.Body).Decode(out)
	}
	return res.StatusCode
}

// historyFlow: a user creates, renames (to hostile names) and deletes a
// project; a superuser follows the History link of the admin UI to the
// project's history and sees every change old → new and the deleted
// project's last state, with no script run from the values.
func historyFlow(t *testing.T, a *app, shots string) {
	c := newClient(t, a.URL)
	c.login("plain@example.com", password)
	org := c.api("", "", nil, nil)
	var p struct {
		ID int64 `json:"id"`
	}
	if st := c.api("POST", "/api/projects", map[string]any{"org_id": org, "name": "Apollo", "budget_cents": 120000}, &p); st != 201 {
		t.Fatalf("create project: %d", st)
	}
	steps := []map[string]any{
		{"name": payloads[0], "status": "active"},
		{"name": payloads[1], "budget_cents": 250000},
		{"status": "done"},
	}
	for _, in := range steps {
		if st := c.api("PUT", fmt.Sprint("/api/projects/", p.ID), in, nil); st != 200 {
			t.Fatalf("update project %v: %d", in, st)
		}
	}
	if st := c.api("DELETE", fmt.Sprint("/api/projects/", p.ID), nil, nil); st != 204 {
		t.Fatalf("delete project: %d", st)
	}

	b := newTab(t, a)
	b.login(adminEmail, adminPassword)
	b.open("/admin/")
	b.do("follow the History link", chromedp.Click(`header nav a[href="/admin/history"]`), chromedp.WaitVisible(`form.history-filter`))
	// The object's history, once the deliverer has moved every change.
	path := fmt.Sprintf("/admin/history?entity=project&id=%d", p.ID)
	if !waitFor(b.ctx, 20*time.Second, func() bool {
		b.open(path)
		return eval[int](b, "changes", `document.querySelectorAll('li.change').length`) == 5
	}) {
		t.Fatalf("history of project %d: %d changes, want 5", p.ID, eval[int](b, "changes", `document.querySelectorAll('li.change').length`))
	}
	text := eval[string](b, "text", `document.querySelector('main').innerText`)
	for _, want := range []string{"Deleted as of", "DELETE", "CREATE", payloads[0], payloads[1], "250000", "Apollo"} {
		if !strings.Contains(text, want) {
			t.Errorf("history page lacks %q:\n%s", want, text)
		}
	}
	// The rename shows the old name struck through and the new one.
	olds := eval[[]string](b, "old", `Array.from(document.querySelectorAll('table.diff del')).map(function(e){ return e.textContent; })`)
	if !strings.Contains(strings.Join(olds, "\n"), "Apollo") {
		t.Errorf("struck-through old values %q lack Apollo", olds)
	}
	if n := eval[int](b, "elements", `document.querySelectorAll('script:not([src]), img, svg [onload], [onerror], a[href^="javascript"]').length`); n != 0 {
		t.Errorf("%d elements made from the changed values", n)
	}
	// Each change links to its request's records.
	if n := eval[int](b, "request links", `document.querySelectorAll('a.request[href^="/admin/?q=request"]').length`); n != 5 {
		t.Errorf("%d request links, want 5", n)
	}
	b.clean("history")
	b.shot(shots, "admin-history.png", "")
	b.do("follow the request link", chromedp.Click(`a.request`), chromedp.WaitVisible(`#records tr.rec`))
	b.clean("request of a change")
}
