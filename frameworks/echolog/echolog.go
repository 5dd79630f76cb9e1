// Package echolog connects echo (github.com/labstack/echo/v4) to sidelog's
// request middleware, httplog.
//
// httplog is plain net/http middleware and goes around the whole
// *echo.Echo (an http.Handler), so the request id, the timing and the
// panic recovery cover every echo middleware too. Only the route pattern
// ("GET /projects/:id") is known inside echo alone: Route hands it to
// httplog.
//
//	e := echo.New() // no echo's logger or recover middleware: httplog does both
//	e.Use(echolog.Route())
//	srv := &http.Server{Handler: httplog.New(logger, httplog.Options{})(e)}
//
// To put the user on the request record, call sidelog.WithUser on the
// request's context in your authentication middleware (see the package
// example).
package echolog

import (
	"github.com/labstack/echo/v4"

	"github.com/sidelog/sidelog/httplog"
)

// Route returns an echo middleware that records the route pattern of each
// request, "METHOD /path/:param", for httplog's request record (the
// http.route attribute). Requests no route matched keep an empty route.
func Route() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if p := c.Path(); p != "" {
				httplog.SetRoute(c.Request().Context(), c.Request().Method+" "+p)
			}
			return next(c)
		}
	}
}
