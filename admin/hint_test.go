package admin_test

import (
	"encoding/json"
	"html"
	"log/slog"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sidelog/sidelog"
)

// TestList_MisspeltField checks that an attribute term on a key no record
// has (a misspelt field) is named on the list with the query as probably
// meant, and that a term on a key the records have is not.
func TestList_MisspeltField(t *testing.T) {
	e := newEnv(t)
	r := rec(time.Minute, e.now, slog.LevelWarn, "disk almost full")
	r.Attrs = json.RawMessage(`{"order":{"id":"o-1"},"lvl_note":"x"}`)
	e.write(r)
	res := e.get("viewer", "/admin/?"+url.Values{"q": {"lvl:warn since:1h"}}.Encode())
	body := html.UnescapeString(res.Body)
	if res.Status != 200 || !strings.Contains(body, "no record in the range has an attribute lvl (term lvl:warn): did you mean level:warn?") {
		t.Fatalf("status %d, no hint for lvl:warn:\n%s", res.Status, res.Body)
	}
	if !strings.Contains(body, `href="/admin/?q=level:warn+since:1h"`) && !strings.Contains(body, `href="/admin/?q=level%3Awarn+since%3A1h"`) {
		t.Errorf("no link to the corrected query:\n%s", res.Body)
	}
	for _, q := range []string{"order.id:o-2", "has:order", "level:warn", "lvl_note:x"} {
		res := e.get("viewer", "/admin/?"+url.Values{"q": {q}}.Encode())
		if strings.Contains(res.Body, "query-hint") {
			t.Errorf("%s: a hint for a key the records have", q)
		}
	}
	// The hint names a key without a suggestion too.
	res = e.get("viewer", "/admin/?"+url.Values{"q": {"customer.plan:gold"}}.Encode())
	if !strings.Contains(html.UnescapeString(res.Body), "no record in the range has an attribute customer.plan") {
		t.Errorf("no hint for a key no record has")
	}
}

// TestHelpExamples checks that every example of the query help parses, is
// on the help page and in the list's syntax panel as a link to its list,
// and that a query error names its term for the box.
func TestHelpExamples(t *testing.T) {
	e := newEnv(t)
	help := e.get("viewer", "/admin/help").Body
	list := e.get("viewer", "/admin/").Body
	n := 0
	for _, m := range regexp.MustCompile(`<a class="ex" href="([^"]+)" data-term="([^"]*)">`).FindAllStringSubmatch(help, -1) {
		n++
		term := html.UnescapeString(m[2])
		if _, err := sidelog.ParseQuery(term, e.now); err != nil {
			t.Errorf("example %q does not parse: %v", term, err)
		}
		u, err := url.Parse(html.UnescapeString(m[1]))
		if err != nil || u.Query().Get("q") != term {
			t.Errorf("example %q links to %q", term, m[1])
		}
		if !strings.Contains(list, `data-term="`+m[2]+`"`) {
			t.Errorf("example %q is not in the list's syntax panel", term)
		}
	}
	if n < 20 {
		t.Errorf("%d examples on the help page", n)
	}
	res := e.get("viewer", "/admin/?"+url.Values{"q": {"kind:request level:loud"}}.Encode())
	if res.Status != 400 || !strings.Contains(res.Body, `data-term="level:loud"`) {
		t.Errorf("a query error does not name its term for the box: %d\n%s", res.Status, res.Body)
	}
}
