package ginlog_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/frameworks/ginlog"
	"github.com/sidelog/sidelog/handler"
	"github.com/sidelog/sidelog/httplog"
	"github.com/sidelog/sidelog/sqlite"
)

// TestRoute serves a gin app behind httplog into a real log database:
// the request records carry gin's route pattern and the user set by an
// authentication middleware, a panic in a handler is a 500 with its
// record, and a request no route matched has no route.
func TestRoute(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "logs.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	h := handler.New(st, nil)

	gin.SetMode(gin.ReleaseMode)
	g := gin.New()
	g.Use(ginlog.Route())
	g.Use(func(c *gin.Context) { // a stand-in for authentication
		c.Request = c.Request.WithContext(sidelog.WithUser(c.Request.Context(), "42", "7"))
		c.Next()
	})
	g.GET("/projects/:id", func(c *gin.Context) { c.String(http.StatusOK, "project "+c.Param("id")) })
	g.GET("/boom", func(c *gin.Context) { panic("boom") })
	srv := httptest.NewServer(httplog.New(slog.New(h), httplog.Options{})(g))
	defer srv.Close()

	for path, want := range map[string]int{"/projects/9": 200, "/boom": 500, "/nowhere": 404} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", path, resp.StatusCode, want)
		}
	}
	if err := h.Close(ctx); err != nil {
		t.Fatal(err)
	}
	res, err := st.Query(ctx, sidelog.Filter{Kinds: []sidelog.Kind{sidelog.KindRequest}}, sidelog.Page{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]sidelog.Record{}
	for _, r := range res.Records {
		got[r.Path] = r
	}
	if len(got) != 3 {
		t.Fatalf("%d request records, want 3: %+v", len(res.Records), res.Records)
	}
	if r := got["/projects/9"]; r.Route != "GET /projects/:id" || r.Status != 200 || r.UserID != "42" || r.TenantID != "7" {
		t.Errorf("project record: route %q status %d user %q tenant %q", r.Route, r.Status, r.UserID, r.TenantID)
	}
	if r := got["/boom"]; r.Route != "GET /boom" || r.Status != 500 || r.Error != "panic: boom" || r.Level != slog.LevelError {
		t.Errorf("panic record: route %q status %d error %q level %v", r.Route, r.Status, r.Error, r.Level)
	}
	if r := got["/nowhere"]; r.Route != "" || r.Status != 404 {
		t.Errorf("unmatched record: route %q status %d", r.Route, r.Status)
	}
}
