package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/sqlite"
)

// fakeBugsink keeps the bodies of the envelopes posted to it.
type fakeBugsink struct {
	mu     sync.Mutex
	bodies []string
}

func (b *fakeBugsink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	b.mu.Lock()
	b.bodies = append(b.bodies, r.URL.Path+"\n"+string(body))
	b.mu.Unlock()
}

func (b *fakeBugsink) got() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.bodies...)
}

func TestServe_Sentry(t *testing.T) {
	sink := &fakeBugsink{}
	tracker := httptest.NewServer(sink)
	defer tracker.Close()
	dsn := strings.Replace(tracker.URL, "http://", "http://pubkey@", 1) + "/9"

	for _, withDSN := range []bool{true, false} {
		env := map[string]string{"SAAS_DEBUG_ROUTES": "1"}
		if withDSN {
			env["SENTRY_DSN"] = dsn
		}
		s := startServer(t, env)
		c := s.client(t)
		c.Login(adminEmail, adminPassword)
		if r := c.Get("/debug/panic"); r.Status != 500 {
			t.Errorf("panic: %d", r.Status)
		}
		if r := c.Get("/debug/error"); r.Status != 500 {
			t.Errorf("error: %d", r.Status)
		}
		if r := c.Get("/projects"); r.Status != 200 {
			t.Errorf("server unusable after a panic: %d", r.Status)
		}
		s.Stop(t) // drains the tracker's queue too

		got := sink.got()
		if !withDSN {
			if len(got) != 2 {
				t.Errorf("without SENTRY_DSN: %d envelopes in all, want the 2 of the first run", len(got))
			}
			continue
		}
		all := strings.Join(got, "\n---\n")
		if !strings.Contains(all, "/api/9/envelope/") || !strings.Contains(all, `"type":"panic","value":"debug panic requested"`) ||
			!strings.Contains(all, "debug error requested") || !strings.Contains(all, `"user":{"id":"1"}`) || len(got) != 2 {
			t.Errorf("envelopes (%d):\n%s", len(got), all)
		}
		db, err := sqlite.Open(context.Background(), s.logDB(), sqlite.Options{MustExist: true})
		if err != nil {
			t.Fatal(err)
		}
		res, err := db.Query(context.Background(), sidelog.Filter{Path: "/debug/panic", Kinds: []sidelog.Kind{sidelog.KindRequest}}, sidelog.Page{})
		db.Close()
		if err != nil || len(res.Records) != 1 || res.Records[0].Status != 500 || !strings.Contains(string(res.Records[0].Attrs), "stack") {
			t.Errorf("panic request record: %+v %v", res.Records, err)
		}
	}
}
