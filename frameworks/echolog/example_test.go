package echolog_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/frameworks/echolog"
	"github.com/sidelog/sidelog/httplog"
)

// httplog goes around the whole echo app; echolog.Route hands it echo's
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

	e := echo.New() // no echo logger or recover middleware: httplog does both
	e.Use(echolog.Route())
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error { // your authentication
			ctx := sidelog.WithUser(c.Request().Context(), "42", "7")
			c.SetRequest(c.Request().WithContext(ctx))
			return next(c)
		}
	})
	e.GET("/projects/:id", func(c echo.Context) error { return c.String(http.StatusOK, "a project") })

	app := httplog.New(logger, httplog.Options{})(e) // srv := &http.Server{Handler: app}
	app.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/projects/9", nil))
	// Output:
	// msg="GET /projects/9 200" http.route="GET /projects/:id" user_id=42
}
