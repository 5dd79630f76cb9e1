package ginlog_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"

	"github.com/gin-gonic/gin"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/frameworks/ginlog"
	"github.com/sidelog/sidelog/httplog"
)

// httplog goes around the whole gin engine; ginlog.Route hands it gin's
// route pattern, and sidelog.WithUser in the authentication middleware
// the user. In a service the logger is slog.New(handler.New(store, nil));
// here it prints a few fields of the request record.
func Example() {
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if slices.Contains([]string{slog.MessageKey, "http.route", sidelog.KeyUserID}, a.Key) {
				return a
			}
			return slog.Attr{}
		},
	}))

	gin.SetMode(gin.ReleaseMode)
	g := gin.New() // not gin.Default(): httplog writes the request record and recovers panics
	g.Use(ginlog.Route())
	g.Use(func(c *gin.Context) { // your authentication
		c.Request = c.Request.WithContext(sidelog.WithUser(c.Request.Context(), "42", "7"))
		c.Next()
	})
	g.GET("/projects/:id", func(c *gin.Context) { c.String(http.StatusOK, "a project") })

	app := httplog.New(logger, httplog.Options{})(g) // srv := &http.Server{Handler: app}
	app.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/projects/9", nil))
	// Output:
	// msg="GET /projects/9 200" http.route="GET /projects/:id" user_id=42
}
