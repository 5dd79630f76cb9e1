package httplog_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/httplog"
	"github.com/sidelog/sidelog/redact"
)

// TestMiddleware_Redaction sends secrets in the query string, headers and
// path through the middleware, the sidelog handler and a real store, and
// checks that none is stored.
func TestMiddleware_Redaction(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, h := mustStore(t, nil)
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {})
	opts := httplog.Options{LogQuery: true, LogHeaders: []string{"Authorization", "Cookie", "X-Api-Key", "Referer", "Accept"}}
	srv := httptest.NewServer(httplog.New(slog.New(h), opts)(mux))
	defer srv.Close()

	req, _ := http.NewRequest("GET", srv.URL+"/reset/rst0token42?page=2&access_token=qtok123&password=qpw456", nil)
	req.Header.Set("Authorization", "Bearer hdr-bearer-789")
	req.Header.Set("Cookie", "session=hdr-cookie-000")
	req.Header.Set("X-Api-Key", "hdr-apikey-111")
	req.Header.Set("Referer", "https://app.example/cb?token=ref-token-222")
	req.Header.Set("Accept", "text/html")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if err := h.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	res, err := db.Query(ctx, sidelog.Filter{}, sidelog.Page{})
	if err != nil || len(res.Records) != 1 {
		t.Fatalf("query: %v, %d records", err, len(res.Records))
	}
	r := res.Records[0]
	all := fmt.Sprintf("%s|%s|%s", r.Message, r.Path, r.Attrs)
	for _, secret := range []string{"rst0token42", "qtok123", "qpw456", "hdr-bearer-789", "hdr-cookie-000", "hdr-apikey-111", "ref-token-222"} {
		if strings.Contains(all, secret) {
			t.Errorf("%q stored: %s", secret, all)
		}
	}
	for _, keep := range []string{"page=2", `"accept":"text/html"`, "/reset/[REDACTED:path-token]", `"authorization":"[REDACTED:key]"`} {
		if !strings.Contains(all, keep) {
			t.Errorf("%q missing: %s", keep, all)
		}
	}
}

// TestMiddleware_RedactionOtherHandler checks that the query string and
// headers are redacted by the middleware itself, whatever handler follows.
func TestMiddleware_RedactionOtherHandler(t *testing.T) {
	t.Parallel()
	var buf strings.Builder
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	mw := httplog.New(logger, httplog.Options{LogQuery: true, LogHeaders: []string{"Authorization", "X-Api-Key"}})
	r := httptest.NewRequest("GET", "/x?api_key=k-secret-1", nil)
	r.Header.Set("Authorization", "Basic dXNlcjpwYXNz")
	r.Header.Set("X-Api-Key", "plainkey2")
	mw(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})).ServeHTTP(httptest.NewRecorder(), r)
	if strings.Contains(buf.String(), "k-secret-1") || strings.Contains(buf.String(), "dXNlcjpwYXNz") || strings.Contains(buf.String(), "plainkey2") {
		t.Errorf("secret logged: %s", buf.String())
	}
	buf.Reset()
	mw = httplog.New(logger, httplog.Options{LogQuery: true, Redactor: redact.Disabled()})
	mw(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})).ServeHTTP(httptest.NewRecorder(), r)
	if !strings.Contains(buf.String(), "k-secret-1") {
		t.Errorf("redact.Disabled() still redacted: %s", buf.String())
	}
}
