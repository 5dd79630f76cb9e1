package httplog_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/handler"
	"github.com/sidelog/sidelog/httplog"
	"github.com/sidelog/sidelog/sqlite"
)

// mustStore opens a real log database in a temporary directory with a
// sidelog handler in front of it; the cleanup closes both.
func mustStore(tb testing.TB, opts *handler.Options) (*sqlite.DB, *handler.Handler) {
	tb.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(tb.TempDir(), "logs.db"), sqlite.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	h := handler.New(db, opts)
	tb.Cleanup(func() {
		if err := h.Close(ctx); err != nil {
			tb.Error(err)
		}
		if err := db.Close(); err != nil {
			tb.Error(err)
		}
	})
	return db, h
}

// TestMiddleware_Store runs requests through middleware, the sidelog
// handler and a real SQLite store, and reads the rows back.
func TestMiddleware_Store(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, h := mustStore(t, &handler.Options{Level: slog.LevelDebug})
	logger := slog.New(h)

	mux := http.NewServeMux()
	mux.HandleFunc("GET /projects/{id}", func(w http.ResponseWriter, r *http.Request) {
		logger.InfoContext(r.Context(), "loading project", "id", r.PathValue("id"))
		ctx := sidelog.WithUser(r.Context(), "42", "7") // what an auth middleware does
		time.Sleep(2 * time.Millisecond)
		logger.DebugContext(ctx, "project loaded")
		_, _ = io.WriteString(w, "project")
	})
	mux.HandleFunc("POST /projects", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "name required", http.StatusUnprocessableEntity)
	})
	srv := httptest.NewServer(httplog.New(logger, httplog.Options{})(mux))
	defer srv.Close()

	resp, _ := mustGet(t, srv, srv.URL+"/projects/9")
	id := resp.Header.Get("X-Request-ID")
	post, err := srv.Client().Post(srv.URL+"/projects", "text/plain", strings.NewReader(""))
	if err != nil {
		t.Fatal(err)
	}
	post.Body.Close()
	if err := h.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	res, err := db.Query(ctx, sidelog.Filter{Kinds: []sidelog.Kind{sidelog.KindRequest}}, sidelog.Page{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Records) != 2 {
		t.Fatalf("got %d request rows, want 2", len(res.Records))
	}
	post422, get := res.Records[0], res.Records[1] // newest first
	if get.RequestID != id || get.Status != 200 || get.UserID != "42" || get.TenantID != "7" ||
		get.Route != "GET /projects/{id}" || get.Path != "/projects/9" || get.Method != "GET" ||
		get.Duration < 2*time.Millisecond || get.ClientIP != "127.0.0.1" || get.Level != slog.LevelInfo ||
		get.Message != "GET /projects/9 200" {
		t.Errorf("GET row: %+v", get)
	}
	if !strings.Contains(string(get.Attrs), `"http.response_bytes":7`) {
		t.Errorf("GET attrs %s", get.Attrs)
	}
	if post422.Status != 422 || post422.Level != slog.LevelWarn || post422.RequestID == id {
		t.Errorf("POST row: %+v", post422)
	}

	all, err := db.Query(ctx, sidelog.Filter{RequestID: id}, sidelog.Page{})
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, r := range all.Records {
		msgs = append(msgs, r.Kind.String()+":"+r.Message)
	}
	want := []string{"request:GET /projects/9 200", "app:project loaded", "app:loading project"}
	if strings.Join(msgs, "|") != strings.Join(want, "|") {
		t.Errorf("rows of request %s: %q, want %q", id, msgs, want)
	}
	if all.Records[1].UserID != "42" {
		t.Errorf("app line after WithUser has user %q", all.Records[1].UserID)
	}
}
